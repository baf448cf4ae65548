"""``BagEvalConfig``: what ``sccosf bag-eval`` runs on and writes, and its checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sccosf_ros.bag.bag_io import BagError
from sccosf_ros.pipeline.outputs import DEFAULT_NAMESPACE
from sccosf_ros.pipeline.params import NodeParams


class BagEvalSettingsError(BagError, ValueError):
    """A bag-eval option out of range (``--max-pairs 0``, ...)."""


@dataclass
class BagEvalConfig:
    bag: Path
    rgb_topic: str
    thermal_topic: str
    out: Path
    params: NodeParams = field(default_factory=NodeParams.defaults)  # the node's parameters
    label_topic: str | None = None
    max_pairs: int | None = None
    namespace: str = DEFAULT_NAMESPACE  # of the output topics in the output bag
    label_tolerance: float = 0.005  # s between a label stamp and its RGB stamp
    sheet_rows: int = 6
    write_bag: bool = True
    overwrite: bool = False
    progress: bool = True
    warn: Callable[[str], None] | None = None  # damaged-bag notes etc. (default: stderr)


def check_config(cfg: BagEvalConfig) -> None:
    """``BagEvalSettingsError`` naming the option for values bag-eval cannot run with."""
    if cfg.max_pairs is not None and cfg.max_pairs < 1:
        raise BagEvalSettingsError(f"--max-pairs must be >= 1, got {cfg.max_pairs}")
    if not cfg.label_tolerance >= 0:  # also NaN
        raise BagEvalSettingsError(
            f"--label-tolerance must be >= 0 seconds, got {cfg.label_tolerance}"
        )
    if cfg.sheet_rows < 1:
        raise BagEvalSettingsError(f"--sheet-rows must be >= 1, got {cfg.sheet_rows}")


def output_bag_path(cfg: BagEvalConfig) -> Path:
    """Where bag-eval writes its output bag: ``<out>/<bag name>_sccosf``."""
    return Path(cfg.out) / f"{Path(cfg.bag).name.rsplit('.', 1)[0]}_sccosf"


def incomplete_marker(out_bag: Path) -> Path:
    """The file that marks ``out_bag`` as left by a run that did not finish."""
    return out_bag.with_name(out_bag.name + ".incomplete")
