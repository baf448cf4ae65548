"""The benchmarks' tables and result files: Markdown and fixed-width tables, and the
``--json`` / ``--markdown`` outputs, written the same way by every target and the GPU check."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1
) -> list[str]:
    """A Markdown table: the first ``left`` columns (names) left-aligned, the rest (figures)
    right-aligned."""
    align = "".join("---|" if i < left else "---:|" for i in range(len(header)))
    return [
        "| " + " | ".join(header) + " |",
        "|" + align,
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def text_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, rule: bool = False
) -> list[str]:
    """A fixed-width table for the terminal, columns right-aligned (``rule``: a line of dashes
    under the header)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    head = "  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))
    body = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return [head, *(["-" * len(head)] if rule else []), *body]


def records_table(records: Sequence[dict], fmt: Callable[[Any], str] = str) -> list[str]:
    """A Markdown table of dict rows: one column per key seen (in order), nested dicts as
    ``key.sub`` columns, each cell ``fmt(value)`` (``fmt(None)`` where a row lacks the key)."""
    flat = []
    for record in records:
        f: dict[str, Any] = {}
        for k, v in record.items():
            if isinstance(v, dict):
                f.update({f"{k}.{sk}": sv for sk, sv in v.items()})
            else:
                f[k] = v
        flat.append(f)
    cols: list[str] = []
    for f in flat:
        cols += [k for k in f if k not in cols]
    return markdown_table(cols, [[fmt(f.get(c)) for c in cols] for f in flat], left=len(cols))


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
