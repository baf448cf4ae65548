"""``TrainConfig``: everything a training run needs (paper §4.1 defaults), and its checks.

Saved to ``out/train_config.json`` and inside each checkpoint; ``recipes`` fill it from YAML,
``plan`` resolves it against the data, ``Trainer`` runs it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sccosf_ros.data.datasets import DATASET_NAMES
from sccosf_ros.model.network import ABLATIONS
from sccosf_ros.thermal import DEFAULT_WINDOW_C, ThermalNorm
from sccosf_ros.training.errors import TrainError

MIN_CROP = 32  # the encoder's output stride: smaller crops leave no spatial extent at stage 4
MAX_SCALE = 1.75  # largest random rescale of the paper's augmentation
# latest.pt whatever eval_interval says, whichever comes first: a SIGKILL (OOM killer, a
# preempted job) loses at most this much
CHECKPOINT_STEPS = 200
CHECKPOINT_MINUTES = 2.0


@dataclass
class TrainConfig:
    """Everything a run needs; saved to ``out/train_config.json`` and inside each checkpoint."""

    dataset: str = "synthetic"  # mfnet | fmb | synthetic (a folder written by `sccosf synth`)
    root: str = ""
    out: str = "runs/sccosf"
    preset: str = "nano"
    max_iters: int | None = None  # exactly one of max_iters / epochs
    epochs: int | None = None
    batch_size: int = 8  # the GLOBAL batch: all processes together (divided over them)
    crop: tuple[int, int] = (480, 640)  # (H, W) random crop after the random rescale
    scale_range: tuple[float, float] = (0.5, MAX_SCALE)  # uniform rescale, unless scales
    scales: tuple[float, ...] | None = None  # rescale drawn from this set (Sigma, MRFS)
    lr: float = 6e-5
    weight_decay: float = 0.01
    poly_power: float = 0.9
    warmup_iters: int | None = None  # None: warmup_epochs, else min(1500, 10 % of the run)
    warmup_epochs: float | None = None  # warm-up length in epochs (Sigma: 10)
    warmup_ratio: float = 1e-6
    grad_clip: float | None = None  # max grad norm, None = off
    eval_interval: int | None = None  # steps; None: 10 evaluations per run; 0 = only at the end
    eval_size: tuple[int, int] | None = None  # run validation at (H, W); None = native size
    eval_batch_size: int | None = None  # per process; None = the per-process training batch
    max_eval_images: int | None = None  # validate on the first N images only (quick runs)
    checkpoint_interval: int | None = CHECKPOINT_STEPS  # steps between latest.pt saves (0: off)
    checkpoint_minutes: float | None = CHECKPOINT_MINUTES  # also this often (None/0: off)
    train_splits: tuple[str, ...] = ("train",)  # their union is trained on
    val_split: str | None = None  # None: "val" for the MFNet layout, "test" for FMB
    log_interval: int = 10
    num_workers: int = 2
    seed: int = 0
    resume: bool = False
    ablation: str | None = None  # paper Table 4 variants A..F
    # encoder weights: None (random) | in1k | in22k | a timm tag | a local .pth/.safetensors file
    pretrained: str | None = None
    drop_path: float | None = None  # encoder stochastic depth; None: the preset's (0)
    init_from: str | None = None  # SC-CoSF checkpoint to fine-tune from (init_from.py)
    freeze_encoder: bool = False  # encoder weights fixed (freezing.py)
    fusion_only: bool = False  # segmentation side frozen and its loss off: fused image only
    allow_overlap: bool = False  # train even if training images are in the held-out splits
    sync_bn: bool = True  # SyncBatchNorm under DDP (no effect on one process)
    check_data: bool = True  # decode every sample before step 1 (dataset_check)
    amp: bool = True  # bf16 autocast on CUDA (ignored on CPU)
    device: str = "auto"
    threads: int | None = None  # torch intra-op threads; 1 is fastest on a busy shared CPU
    progress: bool = True
    tensorboard: bool = True
    model_overrides: dict[str, Any] = field(default_factory=dict)  # extra build_model overrides
    # How the thermal images become [0, 1] (thermal.ThermalNorm; recorded in the checkpoint,
    # so the node normalises as the network was trained): auto = uint8 / 255.
    thermal_norm: str = "auto"  # auto | minmax | percentile | fixed | temperature
    thermal_units: str = "counts"  # temperature: what the values are (thermal.UNITS)
    thermal_scale: tuple[float, float] = (0.0, 0.0)  # units counts: °C = v·scale + offset
    thermal_window: tuple[float, float] = DEFAULT_WINDOW_C  # temperature: °C mapped to 0..1
    thermal_range: tuple[float, float] = (0.0, 255.0)  # fixed: raw values mapped to 0..1
    recipe: str | None = None  # the recipe this config came from (recorded only)

    def __post_init__(self) -> None:
        if isinstance(self.train_splits, str):
            self.train_splits = (self.train_splits,)
        self.train_splits = tuple(str(s) for s in self.train_splits)
        self.crop = tuple(int(v) for v in self.crop)
        self.scale_range = tuple(float(v) for v in self.scale_range)
        if self.scales is not None:
            self.scales = tuple(float(v) for v in self.scales)
        if self.eval_size is not None:
            self.eval_size = tuple(int(v) for v in self.eval_size)
        for name in ("thermal_scale", "thermal_window", "thermal_range"):
            setattr(self, name, tuple(float(v) for v in getattr(self, name)))
        if self.pretrained in ("", "none"):
            self.pretrained = None

    def validate(self) -> None:  # noqa: C901 - one check per field, flat
        if self.dataset not in DATASET_NAMES:
            raise TrainError(f"dataset must be one of {DATASET_NAMES}, got {self.dataset!r}")
        if not self.root:
            raise TrainError("no dataset root given (--root DIR)")
        if (self.max_iters is None) == (self.epochs is None):
            raise TrainError("give exactly one of max_iters (--max-iters) or epochs (--epochs)")
        if self.max_iters is not None and self.max_iters < 1:
            raise TrainError(f"max_iters must be >= 1, got {self.max_iters}")
        if self.epochs is not None and self.epochs < 1:
            raise TrainError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise TrainError(f"batch_size must be >= 1, got {self.batch_size}")
        if len(self.crop) != 2 or min(self.crop) < MIN_CROP:
            raise TrainError(
                f"crop must be (H, W) with both >= {MIN_CROP} px (the network downsamples by "
                f"32), got {tuple(self.crop)}"
            )
        lo, hi = self.scale_range
        if not 0 < lo <= hi:
            raise TrainError(f"scale_range must satisfy 0 < low <= high, got {self.scale_range}")
        if self.scales is not None and (not self.scales or min(self.scales) <= 0):
            raise TrainError(f"scales must be positive numbers, got {self.scales}")
        if not self.lr > 0 or self.weight_decay < 0:
            raise TrainError(
                f"need lr > 0 and weight_decay >= 0, got {self.lr}, {self.weight_decay}"
            )
        if self.warmup_iters is not None and self.warmup_epochs is not None:
            raise TrainError("give at most one of warmup_iters and warmup_epochs")
        if self.ablation is not None and self.ablation not in ABLATIONS:
            raise TrainError(
                f"ablation must be one of {', '.join(ABLATIONS)}, got {self.ablation!r}"
            )
        if self.log_interval < 1:
            raise TrainError(f"log_interval must be >= 1, got {self.log_interval}")
        if self.num_workers < 0:
            raise TrainError(f"num_workers must be >= 0, got {self.num_workers}")
        if self.threads is not None and self.threads < 1:
            raise TrainError(f"threads must be >= 1, got {self.threads}")
        if self.eval_size is not None and min(self.eval_size) < MIN_CROP:
            raise TrainError(f"eval_size must be >= {MIN_CROP} px, got {self.eval_size}")
        if self.checkpoint_interval is not None and self.checkpoint_interval < 0:
            raise TrainError(
                f"checkpoint_interval must be >= 0 steps (0: off), got {self.checkpoint_interval}"
            )
        if self.checkpoint_minutes is not None and self.checkpoint_minutes < 0:
            raise TrainError(f"checkpoint_minutes must be >= 0, got {self.checkpoint_minutes}")
        self._validate_fine_tuning()
        self.thermal()

    def _validate_fine_tuning(self) -> None:
        if self.drop_path is not None and not 0.0 <= self.drop_path < 1.0:
            raise TrainError(f"drop_path must be in [0, 1), got {self.drop_path}")
        if self.fusion_only and self.ablation == "F":
            raise TrainError("fusion_only needs the fusion head, which ablation F removes")
        if self.init_from and self.pretrained:
            raise TrainError(
                "give at most one of init_from (an SC-CoSF checkpoint) and pretrained (encoder "
                "weights): the checkpoint already holds the encoder"
            )

    def model_overrides_of_run(self) -> dict[str, Any]:
        """``build_model`` overrides: ``model_overrides`` plus ablation and drop-path."""
        overrides = dict(self.model_overrides)
        if self.ablation is not None:
            overrides["ablation"] = self.ablation
        if self.drop_path is not None:
            overrides["drop_path_rate"] = self.drop_path
        return overrides

    def thermal(self) -> ThermalNorm:
        """The thermal normalisation the run trains with; TrainError when it is not one."""
        try:
            return ThermalNorm(
                mode=self.thermal_norm,
                low=self.thermal_range[0],
                high=self.thermal_range[1],
                units=self.thermal_units,
                scale=self.thermal_scale[0],
                offset=self.thermal_scale[1],
                window_low=self.thermal_window[0],
                window_high=self.thermal_window[1],
            )
        except (ValueError, IndexError) as e:
            raise TrainError(f"thermal normalisation: {e}") from None

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d
