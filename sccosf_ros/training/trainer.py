"""Training loop of SC-CoSF (paper §4.1): AdamW, poly + warm-up schedule, joint loss, validation.

One ``Trainer`` serves a laptop CPU run on synthetic scenes and a ``torchrun`` job on many GPUs:

* optimiser AdamW (lr 6e-5, weight decay 0.01; no decay on norms, biases, ``A_log``/``D``, the
  Δ bias and layer scales: ``param_groups.py``), poly decay power 0.9 with linear warm-up
  (``schedule.PolyWarmupLR``), stepped per iteration;
* loss ``JointLoss`` (CE + 0.1 · fusion, §3.3; the fusion terms over the valid, non-padded
  pixels); bf16 autocast on CUDA;
* the data is checked before step 1 (``dataset_check``: every sample decodes, sizes and ids
  valid); a sample that fails later stops the run with one line naming the file, after saving;
* validation every ``eval_interval`` steps: network forward on batches of the validation split,
  confusion-matrix mIoU (overall, day, night), sharded over processes and summed;
* checkpoints in the ``sccosf_ros.inference`` format, written atomically by the main process:
  ``out/latest.pt`` (weights + ``train_state``: optimizer, scheduler, step, epoch, best mIoU,
  RNG states; everything loads with ``weights_only=True``) at every evaluation, every
  ``checkpoint_interval`` steps and every ``checkpoint_minutes`` (default 10), and
  ``out/best.pt`` (best mIoU);
* ``resume=True`` continues from ``out/latest.pt`` with the same step, optimizer, scheduler,
  RNG and data order: each sample's augmentation is seeded by (seed, epoch, index), so a resumed
  run reproduces an uninterrupted one exactly (on the same hardware);
* SIGINT/SIGTERM (with ``stop_signals.GracefulStop``): finish the step, save, exit;
* logs: tqdm bar with the loss terms, ``out/log.csv``, TensorBoard in ``out/tensorboard``,
  ``out/train_config.json``.

Multi-GPU / multi-node: run under ``torchrun``. ``batch_size`` is the *global* batch, divided
over the processes; every step's global batch holds the same images whatever the number of
processes (``sampling.StepBatchSampler``), BatchNorm is synchronised (``sync_bn``), and each loss
term is divided by its global element count, so N processes follow the 1-process run step for
step up to float rounding. A non-finite loss or a damaged sample on any process stops all of
them together; logged losses are the all-process means.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from sccosf_ros.inference import (
    CheckpointError,
    checkpoint_config,
    load_checkpoint,
    resolve_device,
    save_checkpoint,
)
from sccosf_ros.metrics.segmentation import DAY, NIGHT, SegmentationEvaluator
from sccosf_ros.model.network import ABLATIONS
from sccosf_ros.thermal import ThermalNorm
from sccosf_ros.training import distributed as dist_utils
from sccosf_ros.training.datasets import DATASET_NAMES, SegmentationDataset
from sccosf_ros.training.losses import TERMS, LossCounts
from sccosf_ros.training.param_groups import param_groups
from sccosf_ros.training.plan import PlanError, RunPlan, describe, make_plan
from sccosf_ros.training.sampling import (
    LOAD_ERROR,
    SeededSamples,
    StepBatchSampler,
    collate,
    load_error_message,
)
from sccosf_ros.training.schedule import PolyWarmupLR
from sccosf_ros.training.stop_signals import GracefulStop, NoStop

MIN_CROP = 32  # the encoder's output stride: smaller crops leave no spatial extent at stage 4
MAX_SCALE = 1.75  # largest random rescale of the paper's augmentation


class TrainError(RuntimeError):
    """A training run that cannot start or continue; the message says what to change."""


class TrainDataError(TrainError):
    """A sample failed to load during training (``latest.pt`` was saved first)."""


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
    checkpoint_interval: int | None = None  # steps between latest.pt saves (None: time only)
    checkpoint_minutes: float | None = 10.0  # also save latest.pt this often (None/0: off)
    train_splits: tuple[str, ...] = ("train",)  # their union is trained on
    val_split: str | None = None  # None: "val" for the MFNet layout, "test" for FMB
    log_interval: int = 10
    num_workers: int = 2
    seed: int = 0
    resume: bool = False
    ablation: str | None = None  # paper Table 4 variants A..F
    pretrained: str | None = None  # encoder weights: None (random) | in1k | in22k | a timm tag
    sync_bn: bool = True  # SyncBatchNorm under DDP (no effect on one process)
    check_data: bool = True  # decode every sample before step 1 (dataset_check)
    amp: bool = True  # bf16 autocast on CUDA (ignored on CPU)
    device: str = "auto"
    threads: int | None = None  # torch intra-op threads; 1 is fastest on a busy shared CPU
    progress: bool = True
    tensorboard: bool = True
    model_overrides: dict[str, Any] = field(default_factory=dict)  # extra build_model overrides
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
        if self.checkpoint_interval is not None and self.checkpoint_interval < 1:
            raise TrainError(
                f"checkpoint_interval must be >= 1 step, got {self.checkpoint_interval}"
            )
        if self.checkpoint_minutes is not None and self.checkpoint_minutes < 0:
            raise TrainError(f"checkpoint_minutes must be >= 0, got {self.checkpoint_minutes}")

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d


# --------------------------------------------------------------------------- helpers
def _rng_state(device: torch.device) -> dict:
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "key": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": random.getstate(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            n["key"].numpy().astype(np.uint32),
            n["pos"],
            n["has_gauss"],
            n["cached_gaussian"],
        )
    )
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _to_device(batch: dict, device: torch.device) -> tuple[torch.Tensor, ...]:
    """rgb, thermal, label and the valid mask (all True when the batch has none) on device."""
    nb = device.type == "cuda"
    label = batch["label"].to(device, non_blocking=nb)
    valid = batch.get("valid")
    return (
        batch["rgb"].to(device, non_blocking=nb),
        batch["thermal"].to(device, non_blocking=nb),
        label,
        torch.ones_like(label, dtype=torch.bool)
        if valid is None
        else valid.to(device, non_blocking=nb),
    )


def _finite_or_none(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _fmt_terms(terms: dict[str, float]) -> dict[str, str]:
    short = {
        "total": "loss",
        "ce": "ce",
        "fusion": "fus",
        "content": "con",
        "gradient": "grad",
        "color": "col",
    }
    return {short.get(k, k): f"{v:.4f}" for k, v in terms.items() if k in short}


class _LogWindow:
    """Loss terms summed over the steps since the last log row, and the time they took."""

    def __init__(self) -> None:
        self.t0, self.n, self.sums = time.perf_counter(), 0, {}

    def add(self, terms: dict[str, float]) -> None:
        for key, v in terms.items():
            self.sums[key] = self.sums.get(key, 0.0) + v
        self.n += 1

    def flush(self, images_per_step: int) -> tuple[dict[str, float], float]:
        """(mean of each term, images/s) over the window; starts a new window."""
        dt = time.perf_counter() - self.t0
        ips = self.n * images_per_step / max(dt, 1e-9)
        mean = {key: v / self.n for key, v in self.sums.items()}
        self.t0, self.n, self.sums = time.perf_counter(), 0, {}
        return mean, ips


# --------------------------------------------------------------------------- the trainer
class Trainer:
    """Builds data, model, optimiser and logs from a ``TrainConfig``; ``fit()`` trains.

    Only the main process (rank 0) writes files or prints the progress bar. ``stop`` is the
    run's ``GracefulStop`` (signal handling, critical sections); the default installs nothing.
    """

    def __init__(self, config: TrainConfig, *, stop: GracefulStop | None = None) -> None:
        config.validate()
        self.cfg = config
        self.stop = stop if stop is not None else NoStop()
        if config.threads:
            torch.set_num_threads(config.threads)
        self.dist = dist_utils.DistInfo.from_env()
        self.device = self._pick_device()
        dist_utils.init_distributed(self.dist, self.device)
        self.out = Path(config.out)
        self.main = self.dist.is_main
        self.log = None

        self._build_data()
        if config.check_data:
            self._check_data()
        self._check_crop(self.train_set)
        self._build_model()
        self.loss_fn = self._build_loss()
        self.step = 0
        self.epoch = 0
        self.best_miou: float | None = None
        self.last_val: dict | None = None
        self.history: list[dict] = []  # training rows (step, terms) for callers and tests
        self._saved_step: int | None = None  # the step latest.pt holds (None: not saved yet)
        self._last_save = time.monotonic()
        if config.resume:
            self._resume()
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "train_config.json").write_text(
                json.dumps(self.run_info(), indent=2) + "\n"
            )

    # ---------------------------------------------------------------- set-up
    def _pick_device(self) -> torch.device:
        try:
            dev = resolve_device(self.cfg.device)
        except ValueError as e:
            raise TrainError(str(e)) from e
        if dev.type == "cuda" and self.dist.enabled:
            dev = torch.device("cuda", self.dist.local_rank)
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        return dev

    def _build_data(self) -> None:
        try:
            self.plan: RunPlan = make_plan(self.cfg, self.dist.world_size)
        except PlanError as e:
            raise TrainError(str(e)) from e
        plan = self.plan
        self.train_set, self.val_set = plan.train_set, plan.val_set
        self.layout, self.val_split = plan.layout, plan.val_split
        self.class_names, self.palette = plan.class_names, plan.palette
        self.num_classes = plan.num_classes
        self.iters_per_epoch, self.max_iters = plan.iters_per_epoch, plan.max_iters
        self.warmup_iters, self.eval_interval = plan.warmup_iters, plan.eval_interval
        self.local_batch = plan.local_batch

    def _check_data(self) -> None:
        """Decode every training and validation sample once (main process; others wait)."""
        from sccosf_ros.training.dataset_check import check_dataset

        problems: list[str] = []
        if self.main:
            report = check_dataset(
                [self.train_set, self.val_set],
                progress=self.cfg.progress,
                workers=max(1, self.cfg.num_workers),
                desc="check data",
            )
            problems = report.lines()
            if problems:
                problems.append(report.summary() + " (`sccosf check-dataset` lists them all)")
        problems = dist_utils.broadcast_object(problems)
        if problems:
            raise TrainDataError("the dataset has damaged samples:\n  " + "\n  ".join(problems))

    def _check_crop(self, train: SegmentationDataset) -> None:
        try:
            raw = train.load_raw(0)
        except (ValueError, OSError) as e:
            raise TrainDataError(load_error_message(train, 0, e)) from e
        h, w = raw.label.shape[:2]
        ch, cw = self.cfg.crop
        scales = self.cfg.scales or self.cfg.scale_range
        hi = max(scales)
        if ch > h * hi or cw > w * hi:
            raise TrainError(
                f"crop {ch}x{cw} (HxW) is larger than the training images ({h}x{w}) even at the "
                f"largest random scale {hi}: most of each sample would be padding. Use "
                f"--crop {min(ch, h)} {min(cw, w)} or smaller"
            )

    def _build_model(self) -> None:
        from sccosf_ros.model import build_model
        from sccosf_ros.model.encoder import PretrainedWeightsError
        from sccosf_ros.training.sync_batchnorm import convert_sync_batchnorm

        cfg = self.cfg
        overrides = dict(cfg.model_overrides)
        if cfg.ablation is not None:
            overrides["ablation"] = cfg.ablation
        if cfg.pretrained and not cfg.resume:  # a resumed run gets its weights from disk
            overrides["pretrained_encoder"] = cfg.pretrained
        torch.manual_seed(cfg.seed)  # identical initial weights on every process
        try:
            model = build_model(cfg.preset, num_classes=self.num_classes, **overrides)
        except PretrainedWeightsError as e:
            raise TrainError(str(e)) from e
        except (TypeError, ValueError, KeyError) as e:
            raise TrainError(f"cannot build model preset {cfg.preset!r}: {e}") from e
        if cfg.pretrained and cfg.resume:  # the checkpoints record how the run started
            model.config = dataclasses.replace(model.config, pretrained_encoder=cfg.pretrained)
        if self.dist.enabled and cfg.sync_bn:
            model = convert_sync_batchnorm(model, self.device)
        self.model = model.to(self.device)
        self.model.train()
        self.ddp = None
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            self.ddp = DistributedDataParallel(
                self.model,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
                # ablations drop a head or a branch: its parameters get no gradient
                find_unused_parameters=cfg.ablation is not None,
            )
        self.optimizer = torch.optim.AdamW(
            param_groups(self.model, cfg.weight_decay), lr=cfg.lr, betas=(0.9, 0.999)
        )
        self.scheduler = PolyWarmupLR(
            self.optimizer,
            self.max_iters,
            power=cfg.poly_power,
            warmup_iters=self.warmup_iters,
            warmup_ratio=cfg.warmup_ratio,
        )

    def _build_loss(self):
        from sccosf_ros.training.losses import JointLoss

        return JointLoss(self.layout).to(self.device)

    @property
    def net(self) -> torch.nn.Module:
        """The module that runs the forward pass (DDP wrapper when distributed)."""
        return self.ddp if self.ddp is not None else self.model

    def _autocast(self):
        if self.cfg.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def run_info(self) -> dict:
        return {
            **describe(self.cfg, self.plan),
            "train_images": len(self.train_set),
            "val_images": len(self.val_set),
            "device": str(self.device),
            "torch": torch.__version__,
        }

    # ---------------------------------------------------------------- checkpoints
    @property
    def latest_path(self) -> Path:
        return self.out / "latest.pt"

    @property
    def best_path(self) -> Path:
        return self.out / "best.pt"

    def train_state(self) -> dict:
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "max_iters": self.max_iters,
            "best_miou": self.best_miou,
            "rng": _rng_state(self.device),
            "config": self.cfg.to_json_dict(),
        }

    def _meta(self) -> dict:
        return {
            "step": self.step,
            "epoch": self.epoch,
            "max_iters": self.max_iters,
            "miou": None if self.last_val is None else self.last_val.get("miou"),
            "best_miou": self.best_miou,
            "layout": self.layout,
            "val_split": self.val_split,
            "train_config": self.cfg.to_json_dict(),
        }

    def save(self, path: Path, *, with_state: bool, half: bool = False) -> Path:
        with self.stop.critical():  # a signal never cuts a save short
            return save_checkpoint(
                path,
                self.model,
                class_names=self.class_names,
                palette=self.palette,
                thermal_norm=ThermalNorm(mode="auto"),
                dataset=self.cfg.dataset,
                train_size=self.cfg.crop,
                meta=self._meta(),
                train_state=self.train_state() if with_state else None,
                half=half,
            )

    def _save_latest(self) -> None:
        if self.main and self._saved_step != self.step:
            self._saved_step = self.step  # first: a deferred interrupt ends the save block
            self._last_save = time.monotonic()
            self.save(self.latest_path, with_state=True)

    def _resume(self) -> None:
        path = self.latest_path
        if not path.is_file():
            raise TrainError(
                f"--resume: {path} does not exist; start without --resume (or point --out at the "
                "run to continue)"
            )
        try:
            ckpt = load_checkpoint(path)
        except CheckpointError as e:
            raise TrainError(f"--resume: {e}") from e
        state = ckpt.get("train_state")
        if not state:
            raise TrainError(f"--resume: {path} has no train_state (it is not a latest.pt)")
        self._check_same_model(ckpt, path)
        try:
            self.model.load_state_dict(ckpt["state_dict"], strict=True)
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise TrainError(f"--resume: {path} does not match this model: {e}") from e
        # the schedule follows this run's length (a longer --max-iters extends the run)
        self.scheduler.max_iters = self.max_iters
        self.step = int(state["step"])
        self._saved_step = self.step
        self.epoch = int(state["epoch"])
        self.best_miou = state.get("best_miou")
        if self.step >= self.max_iters and self.main:
            print(
                f"note: {path} is at step {self.step} >= max_iters {self.max_iters}; "
                "nothing left to train",
                file=sys.stderr,
            )
        if int(state.get("max_iters", self.max_iters)) != self.max_iters and self.main:
            print(
                f"note: resumed run length changed from {state.get('max_iters')} to "
                f"{self.max_iters} iterations; the LR schedule follows the new length",
                file=sys.stderr,
            )
        _set_rng_state(state["rng"], self.device)
        for group, lr in zip(
            self.optimizer.param_groups, self.scheduler.get_last_lr(), strict=True
        ):
            group["lr"] = lr

    def _check_same_model(self, ckpt: dict, path: Path) -> None:
        """--resume continues the network it saved: same config and classes, or a TrainError."""
        from sccosf_ros.model.network import config_differences

        try:
            saved, num_classes = checkpoint_config(ckpt)
        except CheckpointError as e:
            raise TrainError(f"--resume: {e}") from e
        diff = config_differences(saved, self.model.config)
        if num_classes != self.num_classes:
            diff.insert(0, f"num_classes: {num_classes} → {self.num_classes}")
        if diff:
            raise TrainError(
                f"--resume: {path} holds a different network (preset "
                f"{ckpt['model'].get('preset')!r}) than this run asks for ({self.cfg.preset!r}): "
                f"{'; '.join(diff)}"
            )

    # ---------------------------------------------------------------- validation
    def _n_val(self) -> int:
        n = len(self.val_set)
        return n if self.cfg.max_eval_images is None else min(n, int(self.cfg.max_eval_images))

    def _val_batches(self) -> Iterator[dict]:
        """This process's shard of the validation images, batched by image size."""
        cfg = self.cfg
        shard = list(range(self.dist.rank, self._n_val(), self.dist.world_size))
        loader = DataLoader(
            SeededSamples(self.val_set, cfg.seed),  # no augmentation; catches damaged files
            batch_size=cfg.eval_batch_size or self.local_batch,
            sampler=[(0, i) for i in shard],
            num_workers=min(cfg.num_workers, 2),
            collate_fn=list,  # grouped by size below
            generator=torch.Generator().manual_seed(cfg.seed),  # leaves the global RNG alone
        )
        for samples in loader:
            for s in samples:
                if LOAD_ERROR in s:
                    raise TrainDataError(f"validation {s[LOAD_ERROR]}")
            by_size: dict[tuple[int, int], list[dict]] = {}
            for s in samples:
                by_size.setdefault(tuple(s["rgb"].shape[-2:]), []).append(s)
            yield from (collate(group) for group in by_size.values())

    def _val_logits(self, batch: dict) -> tuple[torch.Tensor | None, torch.Tensor]:
        """Logits at the label's size (None without a segmentation head) and the labels."""
        rgb, th, label, _ = _to_device(batch, self.device)
        size = self.cfg.eval_size
        if size is not None and tuple(rgb.shape[-2:]) != tuple(size):
            rgb = F.interpolate(rgb, size=tuple(size), mode="bilinear", align_corners=False)
            th = F.interpolate(th, size=tuple(size), mode="bilinear", align_corners=False)
        with self._autocast():
            logits = self.model(rgb, th).logits
        if logits is not None and logits.shape[-2:] != label.shape[-2:]:
            logits = F.interpolate(
                logits.float(), size=label.shape[-2:], mode="bilinear", align_corners=False
            )
        return logits, label

    def _sum_over_processes(self, counts: np.ndarray) -> torch.Tensor:
        return dist_utils.all_reduce_sum(torch.from_numpy(counts).to(self.device)).cpu()

    @torch.no_grad()
    def validate(self) -> dict:
        """mIoU (overall, day, night) of the current weights on the validation split.

        Each process scores its shard; the counts are summed over processes before scoring.
        """
        evaluator = SegmentationEvaluator(
            self.class_names, split_of=self.val_set.split_of, splits=(DAY, NIGHT)
        )
        was_training = self.model.training
        self.model.eval()
        try:
            for batch in self._val_batches():
                logits, label = self._val_logits(batch)
                if logits is None:  # ablation E: no segmentation head (the same on every rank)
                    return {
                        "miou": None,
                        "miou_day": None,
                        "miou_night": None,
                        "iou": {},
                        "n_images": self._n_val(),
                        "note": "ablation without segmentation head",
                    }
                pred, target = logits.argmax(1).cpu(), label.cpu()
                for j, name in enumerate(batch["name"]):
                    evaluator.update(pred[j], target[j], name=name)
        finally:
            self.model.train(was_training)
        evaluator.reduce(self._sum_over_processes)
        r = evaluator.result()
        splits = r["splits"]
        return {
            "miou": _finite_or_none(r["miou"]),
            "miou_day": _finite_or_none(splits.get(DAY, {}).get("miou")),
            "miou_night": _finite_or_none(splits.get(NIGHT, {}).get("miou")),
            "iou": {name: _finite_or_none(v) for name, v in r["iou"].items()},
            "n_images": r["n_images"],
        }

    # ---------------------------------------------------------------- training
    def _loader(self) -> DataLoader:
        cfg = self.cfg
        sampler = StepBatchSampler(
            len(self.train_set),
            cfg.batch_size,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
            seed=cfg.seed,
            start_step=self.step,
            max_iters=self.max_iters,
        )
        return DataLoader(
            SeededSamples(self.train_set, cfg.seed),
            batch_sampler=sampler,
            num_workers=cfg.num_workers,
            collate_fn=collate,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
            # a private generator: creating the loader must not advance the global RNG,
            # otherwise a resumed run would diverge from an uninterrupted one
            generator=torch.Generator().manual_seed(cfg.seed),
        )

    def _agree_before_step(self, batch: dict) -> LossCounts | None:
        """One all-reduce before the step: loss divisors summed over processes, and whether any
        process hit a damaged sample or a stop request. None = stop (all processes agree);
        TrainDataError on the process whose sample failed (and on the others)."""
        error = batch.get(LOAD_ERROR)
        if error is None:  # counted on the host: the step moves the batch to the device
            local = self.loss_fn.counts(batch["label"], batch.get("valid")).as_tensor()
            local = local.to(self.device)
        else:
            local = torch.zeros(3, device=self.device)
        flags = torch.tensor(
            [float(error is not None), float(self.stop.stop_requested)], device=self.device
        )
        summed = dist_utils.all_reduce_sum(torch.cat([local.float(), flags]))
        if error is not None:
            raise TrainDataError(error)
        if summed[3] > 0:
            raise TrainDataError(
                "a training sample failed to load on another process (its message names the "
                "file); stopped"
            )
        if summed[4] > 0:
            return None
        return LossCounts.from_tensor(summed[:3] / self.dist.world_size)

    def _all_rank_terms(self, terms: dict[str, float]) -> dict[str, float]:
        """The all-process mean of each logged term; TrainError (on every process together)
        when any process's loss is not finite."""
        values = [terms[k] for k in TERMS]
        local_bad = float(not all(math.isfinite(v) for v in values))
        t = torch.tensor([*values, local_bad], dtype=torch.float64, device=self.device)
        t = dist_utils.all_reduce_sum(t)
        world = self.dist.world_size
        if t[-1] > 0:
            where = "" if world == 1 else f" on {int(t[-1])} of {world} processes"
            raise TrainError(
                f"loss became non-finite at step {self.step + 1}{where} (terms {terms}); lower "
                f"--lr or check the data. {self.latest_path} holds the last good state"
            )
        return {k: float(v) / world for k, v in zip(TERMS, t[:-1].tolist(), strict=True)}

    def train_step(self, batch: dict, counts: LossCounts | None = None) -> dict[str, float]:
        """One optimizer step on this process's share of the global batch; returns the loss
        terms averaged over all processes. ``counts``: the loss divisors (None: this batch's)."""
        rgb, th, label, valid = _to_device(batch, self.device)
        with self._autocast():
            out = self.net(rgb, th)
            loss, terms = self.loss_fn(out, rgb, th, label, valid, counts)
        terms = self._all_rank_terms(terms)  # before backward: no process enters it alone
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        with self.stop.critical():  # the update is all or nothing
            if self.cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            self.epoch = self.step // self.iters_per_epoch
        return terms

    def _evaluate_and_checkpoint(self, elapsed: float) -> None:
        result = self.validate()
        self.last_val = result
        miou = result.get("miou")
        if self.main:
            improved = miou is not None and (self.best_miou is None or miou > self.best_miou)
            if improved:
                self.best_miou = miou
            if self.log is not None:
                self.log.val(self.step, self.epoch, result, elapsed)
            if improved or miou is None:  # no mIoU to rank by (ablation E): best = latest
                self.save(self.best_path, with_state=False)
        self.best_miou = dist_utils.broadcast_object(self.best_miou)
        self._saved_step = None  # latest.pt now gets this evaluation's mIoU in its meta
        self._save_latest()

    def _open_logs(self) -> Any:
        """RunLog (CSV/TensorBoard) and tqdm bar of the main process; the bar or None."""
        cfg = self.cfg
        if not self.main:
            return None
        from sccosf_ros.training.run_log import RunLog

        self.log = RunLog(
            self.out, resume_step=self.step if cfg.resume else None, tensorboard=cfg.tensorboard
        )
        if not cfg.progress:
            return None
        from tqdm import tqdm

        return tqdm(
            total=self.max_iters,
            initial=self.step,
            desc="train",
            unit="it",
            dynamic_ncols=True,
            file=sys.stderr,
        )

    def _checkpoint_due(self) -> bool:
        """latest.pt by steps (``checkpoint_interval``) or by time (``checkpoint_minutes``)."""
        every = self.cfg.checkpoint_interval
        if every and self.step % every == 0:
            return True
        minutes = self.cfg.checkpoint_minutes
        return bool(minutes) and time.monotonic() - self._last_save >= 60.0 * minutes

    def _after_step(self, window: _LogWindow, t_start: float, end: int, bar: Any) -> None:
        """Log rows, validation + checkpoints at their intervals, after one optimizer step."""
        cfg = self.cfg
        if self.step % cfg.log_interval == 0 or self.step == end:
            mean, ips = window.flush(cfg.batch_size)
            if self.log is not None:
                self.log.train(
                    self.step,
                    self.epoch,
                    self.scheduler.get_last_lr()[0],
                    mean,
                    ips,
                    time.perf_counter() - t_start,
                )
        at_eval = self.eval_interval > 0 and self.step % self.eval_interval == 0
        if at_eval or self.step == self.max_iters:
            self._evaluate_and_checkpoint(time.perf_counter() - t_start)
            if bar is not None and self.last_val and self.last_val.get("miou") is not None:
                bar.write(
                    f"step {self.step}: val mIoU {self.last_val['miou']:.4f} "
                    f"(best {self.best_miou:.4f})"
                )
        elif self._checkpoint_due():
            self._save_latest()

    def _train_loop(self, end: int, bar: Any) -> None:
        t_start = time.perf_counter()
        window = _LogWindow()
        for batch in self._loader():
            if self.step >= end:
                break
            counts = self._agree_before_step(batch)
            if counts is None:  # a stop was requested (on any process): keep the state
                break
            terms = self.train_step(batch, counts)
            window.add(terms)
            self.history.append({"step": self.step, **terms})
            if bar is not None:
                bar.update(1)
                bar.set_postfix(_fmt_terms(terms), refresh=False)
            self._after_step(window, t_start, end, bar)
            if self.step >= end:
                break

    def fit(self, stop_at: int | None = None) -> dict:
        """Train to ``max_iters`` (or stop after step ``stop_at``, or on a stop request; both
        save latest.pt). Returns a summary: step, best/last mIoU, checkpoint and log paths,
        ``stopped`` (the signal's name when a signal ended the run)."""
        end = self.max_iters if stop_at is None else min(int(stop_at), self.max_iters)
        bar = self._open_logs()
        aborted = False
        try:
            self._train_loop(end, bar)
            if self.step < self.max_iters:  # stopped early on request: keep the state
                self._save_latest()
        except (KeyboardInterrupt, TrainDataError):
            aborted = True
            if self.main and self._saved_step != self.step:
                print(
                    f"\nstopped at step {self.step}: saving {self.latest_path} "
                    "(continue with --resume)",
                    file=sys.stderr,
                )
            self._save_latest()
            raise
        except TrainError:
            aborted = True
            raise
        finally:
            if bar is not None:
                bar.close()
            if self.log is not None:
                self.log.close()
            if not aborted:
                dist_utils.barrier()
        return self.summary()

    def summary(self) -> dict:
        return {
            "step": self.step,
            "max_iters": self.max_iters,
            "epoch": self.epoch,
            "best_miou": self.best_miou,
            "last_val": self.last_val,
            "stopped": None if self.stop.requested is None else self.stop.requested.name,
            "latest": str(self.latest_path),
            "best": str(self.best_path),
            "log_csv": str(self.out / "log.csv"),
            "tensorboard": str(self.out / "tensorboard"),
            "config_json": str(self.out / "train_config.json"),
        }

    def close(self) -> None:
        dist_utils.shutdown_distributed()


def export_checkpoint(src: str | Path, dst: str | Path, *, half: bool = True) -> Path:
    """Copy a checkpoint without its ``train_state`` (optionally fp16): a small file to ship."""
    from sccosf_ros.inference import model_from_checkpoint

    ckpt = load_checkpoint(src)
    model = model_from_checkpoint(ckpt)
    meta = dict(ckpt.get("meta", {}))
    meta["exported_from"] = str(src)
    return save_checkpoint(
        dst,
        model,
        class_names=ckpt["class_names"],
        palette=ckpt["palette"],
        thermal_norm=ckpt.get("thermal_norm"),
        dataset=ckpt.get("dataset", "unknown"),
        train_size=ckpt.get("train_size"),
        meta=meta,
        half=half,
    )


def train(config: TrainConfig) -> dict:
    """Build a ``Trainer``, train to the end, release the process group; returns the summary."""
    trainer = Trainer(config)
    try:
        return trainer.fit()
    finally:
        trainer.close()
