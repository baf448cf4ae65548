"""The benchmarks' one error, and the input checks every target makes before it times anything.

``BenchError`` is a ``SccosfError``: ``sccosf_ros.cli.main`` prints it as one
``sccosf bench <target>: error: ...`` line and exits 2 (``commands.bench.error_prog``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sccosf_ros.errors import SccosfError


class BenchError(SccosfError):
    """Bad input, or a machine the benchmark cannot run on."""


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


def check_presets(names: Iterable[str]) -> None:
    """Every name must be a model preset (``sccosf_ros.model.PRESETS``)."""
    from sccosf_ros.model import PRESETS

    unknown = sorted(set(names) - set(PRESETS))
    if unknown:
        raise BenchError(f"unknown preset(s) {', '.join(unknown)}; valid: {', '.join(PRESETS)}")


def check_at_least_one(**values: int) -> None:
    """Counts such as ``--runs`` and ``--threads`` must be >= 1 (names as the flags say them)."""
    if any(v < 1 for v in values.values()):
        flags = [f"--{k.replace('_', '-')}" for k in values]
        names = ", ".join(flags[:-1]) + f" and {flags[-1]}" if len(flags) > 1 else flags[0]
        raise BenchError(f"{names} must be >= 1")
