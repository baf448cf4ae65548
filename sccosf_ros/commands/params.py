"""``sccosf params``: the node's parameter table — list it, write ``config/sccosf.yaml`` from it,
or check that the file still matches it.

  sccosf params                          every parameter: name, type, default, live, range
  sccosf params --write-defaults [PATH]  write the defaults file (default: the source tree's
                                         config/sccosf.yaml; ``-`` = stdout)
  sccosf params --check [PATH]           exit 1 with a one-line summary when PATH differs

The table is ``sccosf_ros/pipeline/param_table.py``; adding a parameter is a row there (plus its
use), then ``sccosf params --write-defaults``.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from sccosf_ros.errors import SccosfError

STDOUT = "-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.pipeline.params_file import DEFAULTS_FILE

    parser.add_argument(
        "--write-defaults",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help=f"write every parameter at its default, with its description, to PATH (default: "
        f"the source tree's {DEFAULTS_FILE}; '-' = stdout)",
    )
    parser.add_argument(
        "--check",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help=f"compare PATH (default: the source tree's {DEFAULTS_FILE}) with what "
        "--write-defaults would write; exit 1 with a one-line summary when they differ",
    )


def _target(path: str) -> Path:
    """PATH, or the source tree's defaults file when PATH is empty."""
    from sccosf_ros.pipeline.params_file import DEFAULTS_FILE, source_defaults_path

    if path:
        return Path(path).expanduser()
    default = source_defaults_path()
    if not (default.parents[1] / "setup.py").is_file():
        raise SccosfError(
            f"no source tree around this package (no {DEFAULTS_FILE} beside setup.py): give PATH"
        )
    return default


def diff_summary(old: str, new: str) -> str:
    """One line: how many lines differ and the first one that does ("" when equal)."""
    if old == new:
        return ""
    a, b = old.splitlines(), new.splitlines()
    diff = [
        line
        for line in difflib.unified_diff(a, b, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    removed = sum(line.startswith("-") for line in diff)
    first = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    where = a[first].strip() if first < len(a) else "(end of file)"
    return (
        f"{removed} line(s) differ ({len(diff) - removed} expected instead), "
        f"first at line {first + 1}: {where[:60]!r}"
    )


def _check(path: Path, text: str) -> int:
    if not path.is_file():
        print(f"sccosf params: {path} does not exist; run: sccosf params --write-defaults")
        return 1
    summary = diff_summary(path.read_text(), text)
    if summary:
        print(
            f"sccosf params: {path} differs from the parameter table: {summary}; "
            "run: sccosf params --write-defaults"
        )
        return 1
    print(f"{path}: matches the parameter table")
    return 0


def _list() -> None:
    from sccosf_ros.pipeline.param_table import PARAMETERS
    from sccosf_ros.pipeline.params_file import yaml_scalar

    width = max(len(s.name) for s in PARAMETERS)
    for spec in PARAMETERS:
        kind = spec.type.__name__ if spec.type is not tuple else "floats"
        live = "live" if spec.live else "restart"
        line = f"{spec.name:<{width}}  {kind:<6} {yaml_scalar(spec.default):<12} {live:<7}"
        print(f"{line} {spec.range_text()}".rstrip())


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.pipeline.params_file import render_defaults

    text = render_defaults()
    if args.check is not None:  # --write-defaults PATH --check: check PATH, write nothing
        return _check(_target(args.check or args.write_defaults or ""), text)
    if args.write_defaults is None:
        _list()
        return 0
    if args.write_defaults == STDOUT:
        sys.stdout.write(text)
        return 0
    path = _target(args.write_defaults)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as e:
        raise SccosfError(f"cannot write {path}: {e.strerror or e}") from None
    print(f"wrote {path}")
    return 0
