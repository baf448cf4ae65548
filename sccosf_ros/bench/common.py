"""What the ``sccosf bench`` targets share: their one-line error, the checkpoint check, and the
``--json`` / ``--markdown`` outputs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


class BenchError(Exception):
    """Bad input, or a machine the benchmark cannot run on: ``sccosf bench`` prints one
    ``sccosf bench <target>: error: ...`` line and exits 2 (``commands.bench.run``)."""


def check_checkpoint(path: Path | None) -> None:
    """A ``--checkpoint`` the user gave must load: refused at start, never replaced by an
    untrained network that would be timed instead."""
    if path is None:
        return
    from sccosf_ros.inference import CheckpointError, load_checkpoint

    try:
        load_checkpoint(path)
    except CheckpointError as e:
        raise BenchError(f"--checkpoint: {e}") from None


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, default=None, help="write results (JSON)")
    parser.add_argument("--markdown", type=Path, default=None, help="write the table (Markdown)")


def write_outputs(args: argparse.Namespace, results: dict[str, Any], markdown: str) -> None:
    """``--json`` (``results``) and ``--markdown`` (``markdown``), when given."""
    from sccosf_ros.jsonio import write_json

    for path, write in (
        (args.json, lambda p: write_json(p, results)),
        (args.markdown, lambda p: p.write_text(markdown.rstrip("\n") + "\n")),
    ):
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
        except OSError as e:
            raise BenchError(f"cannot write {path}: {e.strerror or e}") from None
        print(f"wrote {path}")
