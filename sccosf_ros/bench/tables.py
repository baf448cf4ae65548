"""The benchmarks' result files: the ``--json`` / ``--markdown`` outputs, written the same way
by every target and the GPU check (the tables themselves: :mod:`sccosf_ros.tables`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json FILE`` and ``--markdown FILE``."""
    parser.add_argument("--json", type=Path, default=None, help="write results (JSON)")
    parser.add_argument("--markdown", type=Path, default=None, help="write the table (Markdown)")


def write_result(path: Path, write: Callable[[Path], object]) -> None:
    """``write(path)`` into a folder made for it, then a ``wrote PATH`` line; a path that cannot
    be written is a ``BenchError``."""
    from sccosf_ros.bench.errors import BenchError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
    except OSError as e:
        raise BenchError(f"cannot write {path}: {e.strerror or e}") from None
    print(f"wrote {path}")


def write_json(path: Path, results: Any) -> None:
    """``results`` as standard JSON (NaN → null, ``jsonio``) at ``path``."""
    from sccosf_ros import jsonio

    write_result(path, lambda p: jsonio.write_json(p, results))


def write_outputs(args: argparse.Namespace, results: dict[str, Any], markdown: str) -> None:
    """``--json`` (``results``) and ``--markdown`` (``markdown``), when given."""
    if args.json is not None:
        write_json(args.json, results)
    if args.markdown is not None:
        write_result(args.markdown, lambda p: p.write_text(markdown.rstrip("\n") + "\n"))
