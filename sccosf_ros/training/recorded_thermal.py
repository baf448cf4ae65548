"""Train on an extracted recording with the thermal normalisation its node used.

``sccosf extract`` records the node's thermal normalisation in the dataset's ``dataset.yaml``
(read by ``data.folder_dataset.recorded_thermal_norm``). A run on that folder takes it, so the
checkpoint records, and the model learns, what the node feeds it. ``sccosf train --dataset
folder`` and ``sccosf bench adapt`` both go through :func:`with_recorded_thermal`; a thermal
option given explicitly (one of :data:`THERMAL_FIELDS` among the run's flags) wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sccosf_ros.data.folder_dataset import recorded_thermal_norm
from sccosf_ros.training.config import TrainConfig

# the TrainConfig fields of the thermal normalisation (``--thermal-*`` flags)
THERMAL_FIELDS = (
    "thermal_norm",
    "thermal_range",
    "thermal_units",
    "thermal_scale",
    "thermal_window",
)
TRAINING_PERCENTILES = (1.0, 99.0)  # what the dataset reader's percentile mode always uses


def with_recorded_thermal(
    cfg: TrainConfig, flags: Mapping[str, Any], warn: Callable[[str], None]
) -> TrainConfig:
    """``cfg`` with the thermal normalisation of its ``--dataset folder`` root's dataset.yaml;
    ``cfg`` itself for another dataset, a folder without one, or a thermal flag in ``flags``.
    A DatasetError names dataset.yaml when its ``thermal_norm`` is not one."""
    if cfg.dataset != "folder" or set(THERMAL_FIELDS) & set(flags) or not cfg.root:
        return cfg
    if not Path(cfg.root).is_dir():
        return cfg  # the plan says the root is missing, in its own words
    norm = recorded_thermal_norm(cfg.root)
    if norm is None:
        return cfg
    if (norm.percentile_low, norm.percentile_high) != TRAINING_PERCENTILES:
        warn(
            f"the node's thermal percentiles {norm.percentile_low:g}/{norm.percentile_high:g} "
            "are not 1/99, which training always uses"
        )
    return replace(
        cfg,
        thermal_norm=norm.mode,
        thermal_range=(norm.low, norm.high),
        thermal_units=norm.units,
        thermal_scale=(norm.scale, norm.offset),
        thermal_window=(norm.window_low, norm.window_high),
    )
