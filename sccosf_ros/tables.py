"""Markdown and fixed-width tables, written one way by every report: the benchmarks, the GPU
check and ``sccosf eval``'s report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
