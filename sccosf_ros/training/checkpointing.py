"""Checkpoints of a training run: ``latest.pt`` (resumable) and ``best.pt``, and ``--resume``.

Both are in the ``sccosf_ros.inference`` format, written atomically by the main process;
``latest.pt`` adds a ``train_state`` (optimizer, scheduler, step, epoch, best mIoU, RNG states;
everything loads with ``weights_only=True``). ``--resume`` continues the network it saved with
the same step, optimizer, scheduler and RNG. ``export_checkpoint`` writes a small copy to ship.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import torch

from sccosf_ros.inference import (
    CheckpointError,
    checkpoint_config,
    load_checkpoint,
    save_checkpoint,
    trained_with,
    weights_mismatch,
)
from sccosf_ros.training.config import TrainConfig
from sccosf_ros.training.errors import TrainError
from sccosf_ros.training.rng_state import rng_state, set_rng_state
from sccosf_ros.training.stop_signals import GracefulStop


class CheckpointMixin:
    """The checkpoint half of ``Trainer``: what latest.pt/best.pt hold, saving, resuming.

    Uses the run state the trainer sets up (annotated below); only rank 0 writes files.
    """

    cfg: TrainConfig
    out: Path
    main: bool
    device: torch.device
    stop: GracefulStop
    model: Any
    optimizer: torch.optim.Optimizer
    scheduler: Any
    step: int
    epoch: int
    max_iters: int
    num_classes: int
    best_miou: float | None
    last_val: dict | None
    layout: str
    val_split: str
    class_names: list[str]
    palette: list[list[int]]
    _saved_step: int | None
    _last_save: float

    @property
    def latest_path(self) -> Path:
        return self.out / "latest.pt"

    @property
    def best_path(self) -> Path:
        return self.out / "best.pt"

    def train_state(self) -> dict:
        """What ``--resume`` needs besides the weights (everything loads with weights_only)."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "max_iters": self.max_iters,
            "best_miou": self.best_miou,
            "rng": rng_state(self.device),
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
        """Write a checkpoint of the current weights (+ ``train_state``); TrainError on I/O."""
        try:
            with self.stop.critical():  # a signal never cuts a save short
                return save_checkpoint(
                    path,
                    self.model,
                    class_names=self.class_names,
                    palette=self.palette,
                    thermal_norm=self.cfg.thermal(),
                    dataset=self.cfg.dataset,
                    train_size=self.cfg.crop,
                    meta=self._meta(),
                    train_state=self.train_state() if with_state else None,
                    half=half,
                )
        except OSError as e:
            raise TrainError(f"cannot write {path}: {e.strerror or e}") from e

    def _save_latest(self) -> None:
        if self.main and self._saved_step != self.step:
            self._saved_step = self.step  # first: a deferred interrupt ends the save block
            self._last_save = time.monotonic()
            self.save(self.latest_path, with_state=True)

    def _resume(self) -> None:
        path = self.latest_path
        if path.is_dir():
            raise TrainError(
                f"--resume: {path} is a directory; expected the checkpoint file latest.pt that "
                "`sccosf train` writes there (move the directory away, or point --out at the run "
                "to continue)"
            )
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
        except RuntimeError as e:
            raise TrainError(
                f"--resume: {path} describes a different network than this run's "
                f"({self.cfg.preset!r}): {weights_mismatch(self.model, ckpt['state_dict'])}; "
                f"it was trained with {trained_with(ckpt)}"
            ) from e
        try:
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
        set_rng_state(state["rng"], self.device)
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


def export_checkpoint(src: str | Path, dst: str | Path, *, half: bool = True) -> Path:
    """Copy a checkpoint without its ``train_state`` (optionally fp16): a small file to ship."""
    from sccosf_ros.inference import model_from_checkpoint

    ckpt = load_checkpoint(src)
    model = model_from_checkpoint(ckpt)
    meta = dict(ckpt.get("meta", {}))
    meta["exported_from"] = str(src)
    try:
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
    except OSError as e:
        raise TrainError(f"cannot write {dst}: {e.strerror or e}") from e
