"""A training run resolved before any model exists: datasets, batch split, schedule lengths.

``make_plan(config, world_size)`` opens the training and validation splits (file lists only, no
decoding), checks that the global batch divides over the processes and fills at least one step,
and derives iterations per epoch, run length, warm-up and evaluation interval. The trainer builds
on it, and ``sccosf train --dry-run`` writes it (``describe``, ``write_train_config``) without
training.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sccosf_ros.data.datasets import SegmentationDataset, build_dataset
from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.transforms import TrainTransform
from sccosf_ros.errors import SccosfError
from sccosf_ros.training.config import TrainConfig
from sccosf_ros.training.errors import TrainError
from sccosf_ros.training.split_overlap import MRFS_LAYOUT

DEFAULT_WARMUP_CAP = 1500  # steps: min(1500, 10 % of the run) when no warm-up is given


class PlanError(SccosfError, ValueError):
    """The configuration cannot be run on this data; the message says what to change."""


@dataclass
class RunPlan:
    train_set: SegmentationDataset
    val_set: SegmentationDataset
    layout: str  # mfnet | fmb (a synthetic folder: the layout it imitates)
    val_split: str
    world_size: int
    global_batch: int
    local_batch: int  # images per process per step
    iters_per_epoch: int
    max_iters: int
    warmup_iters: int
    eval_interval: int  # 0 = only at the end

    @property
    def class_names(self) -> list[str]:
        return list(self.train_set.class_names)

    @property
    def palette(self) -> list[list[int]]:
        return [list(map(int, c)) for c in self.train_set.palette]

    @property
    def num_classes(self) -> int:
        return len(self.train_set.class_names)

    @property
    def epochs(self) -> float:
        return self.max_iters / self.iters_per_epoch


def _train_transform(cfg: TrainConfig) -> TrainTransform:
    return TrainTransform(
        crop=tuple(cfg.crop),
        scale_range=tuple(cfg.scale_range),
        scales=None if cfg.scales is None else tuple(cfg.scales),
    )


def _open(cfg: TrainConfig, split: Any, what: str, transform: Any) -> SegmentationDataset:
    try:
        ds = build_dataset(cfg.dataset, cfg.root, split, transform=transform)
        ds.thermal_norm = cfg.thermal()  # what the checkpoint records and the node applies
    except DatasetError as e:
        raise PlanError(f"cannot read the {what} of {cfg.dataset} at {cfg.root}: {e}") from e
    if len(ds) == 0:
        raise PlanError(
            f"the {what} ({ds.split}) of {cfg.dataset} at {cfg.root} is empty: check --root "
            "and the split names, or write data with `sccosf synth`"
        )
    return ds


def default_val_split(layout: str) -> str:
    """FMB has train/test only; MFNet has val (the peers select on test: see the recipes)."""
    return "test" if layout == "fmb" else "val"


def make_plan(cfg: TrainConfig, world_size: int = 1) -> RunPlan:
    train = _open(cfg, tuple(cfg.train_splits), "training split(s)", _train_transform(cfg))
    layout = str(getattr(train, "name", cfg.dataset))
    val_split = cfg.val_split or default_val_split(layout)
    try:
        val = _open(cfg, val_split, "validation split", None)
    except PlanError as e:
        if getattr(train, "layout", None) == MRFS_LAYOUT and val_split == "test":
            raise PlanError(
                f"{e}. This is the MRFS layout of MFNet: it has no test.txt because its val.txt "
                "is the test set; train on train only and validate on val (--train-split train "
                "--val-split val)"
            ) from e
        raise

    batch = int(cfg.batch_size)
    if batch % world_size:
        raise PlanError(
            f"--batch-size {batch} is the global batch and must divide evenly over the "
            f"{world_size} processes; use a multiple of {world_size}"
        )
    if len(train) < batch:
        raise PlanError(
            f"{len(train)} training images cannot fill one global batch of {batch}; lower "
            "--batch-size or add data"
        )
    per_epoch = len(train) // batch
    max_iters = int(cfg.max_iters) if cfg.max_iters is not None else int(cfg.epochs) * per_epoch
    if cfg.warmup_iters is not None:
        warmup = int(cfg.warmup_iters)
    elif cfg.warmup_epochs is not None:
        warmup = round(float(cfg.warmup_epochs) * per_epoch)
    else:
        warmup = min(DEFAULT_WARMUP_CAP, max_iters // 10)
    if cfg.eval_interval is None:
        eval_interval = max(1, math.ceil(max_iters / 10))
    else:
        eval_interval = int(cfg.eval_interval)
    return RunPlan(
        train_set=train,
        val_set=val,
        layout=layout,
        val_split=val_split,
        world_size=world_size,
        global_batch=batch,
        local_batch=batch // world_size,
        iters_per_epoch=per_epoch,
        max_iters=max_iters,
        warmup_iters=min(warmup, max_iters),
        eval_interval=eval_interval,
    )


def encoder_of(cfg: TrainConfig) -> str:
    """The timm encoder the run's preset (and overrides) use."""
    from sccosf_ros.model.network import PRESETS

    if cfg.preset not in PRESETS:
        raise PlanError(f"unknown preset {cfg.preset!r}; valid presets: {', '.join(PRESETS)}")
    return str(cfg.model_overrides.get("encoder", PRESETS[cfg.preset].encoder))


def pretrained_weights(cfg: TrainConfig) -> str | None:
    """``<timm model>.<tag>`` the encoder starts from, or None (random initialisation)."""
    from sccosf_ros.model.encoder import timm_model_name
    from sccosf_ros.model.encoder_weights import is_weights_file

    if not cfg.pretrained:
        return None
    if is_weights_file(cfg.pretrained):
        return str(cfg.pretrained)
    try:
        return timm_model_name(encoder_of(cfg), cfg.pretrained)
    except ValueError as e:
        raise PlanError(str(e)) from e


def describe(cfg: TrainConfig, plan: RunPlan) -> dict[str, Any]:
    """The resolved run, as ``train_config.json`` records it (top-level keys for people and
    tools; ``config`` holds every TrainConfig field)."""
    return {
        "recipe": cfg.recipe,
        "dataset": cfg.dataset,
        "layout": plan.layout,
        "root": str(cfg.root),
        "preset": cfg.preset,
        "ablation": cfg.ablation,
        "pretrained": cfg.pretrained or "none",
        "pretrained_weights": pretrained_weights(cfg),
        "drop_path": cfg.drop_path,
        "init_from": cfg.init_from,
        "freeze_encoder": cfg.freeze_encoder,
        "fusion_only": cfg.fusion_only,
        "epochs": plan.epochs,
        "max_iters": plan.max_iters,
        "iters_per_epoch": plan.iters_per_epoch,
        "warmup_iters": plan.warmup_iters,
        "global_batch_size": plan.global_batch,
        "batch_size_per_process": plan.local_batch,
        "world_size": plan.world_size,
        "lr": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "poly_power": cfg.poly_power,
        "crop": list(cfg.crop),
        "scales": None if cfg.scales is None else list(cfg.scales),
        "scale_range": list(cfg.scale_range),
        "train_splits": list(plan.train_set.splits),
        "val_split": plan.val_split,
        "n_train_images": len(plan.train_set),
        "n_val_images": len(plan.val_set),
        "eval_interval": plan.eval_interval,
        "checkpoint_interval": cfg.checkpoint_interval,
        "checkpoint_minutes": cfg.checkpoint_minutes,
        "sync_bn": cfg.sync_bn,
        "num_classes": plan.num_classes,
        "class_names": plan.class_names,
        "config": cfg.to_json_dict(),
    }


def write_train_config(out: str | Path, info: dict[str, Any]) -> Path:
    """``OUT/train_config.json`` (``describe`` + run facts); TrainError if it cannot be written."""
    path = Path(out) / "train_config.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info, indent=2) + "\n")
    except OSError as e:
        raise TrainError(f"cannot write {e.filename or path}: {e.strerror or e}") from e
    return path
