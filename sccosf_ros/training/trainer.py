"""Training loop of SC-CoSF (paper §4.1): AdamW, poly + warm-up schedule, joint loss, validation.

One ``Trainer`` serves a laptop CPU run on synthetic scenes and a ``torchrun`` job on many GPUs:

* optimiser AdamW (lr 6e-5, weight decay 0.01; no decay on norms, biases, ``A_log``/``D``, the
  Δ bias and layer scales: ``param_groups.py``), poly decay power 0.9 with linear warm-up
  (``schedule.PolyWarmupLR``), stepped per iteration;
* loss ``JointLoss`` (CE + 0.1 · fusion, §3.3; the fusion terms over the valid, non-padded
  pixels); bf16 autocast on CUDA;
* the data is checked before step 1 (``dataset_check``: every sample decodes, sizes and ids
  valid); a sample that fails later stops the run with one line naming the file, after saving;
* validation every ``eval_interval`` steps (``validation.py``): confusion-matrix mIoU (overall,
  day, night), sharded over processes and summed;
* checkpoints (``checkpointing.py``): ``out/latest.pt`` (weights + ``train_state``, replaced
  atomically) at every evaluation and, whatever ``eval_interval`` says, every
  ``checkpoint_interval`` steps (default 200) or ``checkpoint_minutes`` (default 2), whichever
  comes first; and ``out/best.pt`` (best mIoU);
* ``resume=True`` continues from ``out/latest.pt`` with the same step, optimizer, scheduler,
  RNG and data order: each sample's augmentation is seeded by (seed, epoch, index), so a resumed
  run reproduces an uninterrupted one exactly (on the same hardware);
* SIGINT/SIGTERM (with ``stop_signals.GracefulStop``): finish the step, save, exit;
* logs: tqdm bar with the loss terms, ``out/log.csv``, TensorBoard in ``out/tensorboard``,
  ``out/train_config.json``.

The run's settings are a ``TrainConfig`` (``config.py``), resolved against the data by
``plan.make_plan`` before any model exists.

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
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from sccosf_ros.data.datasets import SegmentationDataset
from sccosf_ros.data.errors import load_error_message
from sccosf_ros.device import resolve_device
from sccosf_ros.training import distributed as dist_utils
from sccosf_ros.training.checkpointing import CheckpointMixin
from sccosf_ros.training.config import TrainConfig
from sccosf_ros.training.errors import (
    DamagedDatasetError,
    NonFiniteLossError,
    TrainDataError,
    TrainError,
)
from sccosf_ros.training.freezing import freeze_parts, set_train_mode
from sccosf_ros.training.init_from import init_from_checkpoint
from sccosf_ros.training.losses import TERMS, LossCounts
from sccosf_ros.training.param_groups import param_groups
from sccosf_ros.training.plan import PlanError, RunPlan, describe, make_plan, write_train_config
from sccosf_ros.training.run_log import LogWindow, short_terms
from sccosf_ros.training.sampling import (
    LOAD_ERROR,
    SeededSamples,
    StepBatchSampler,
    collate,
    to_device,
)
from sccosf_ros.training.schedule import PolyWarmupLR
from sccosf_ros.training.split_overlap import SplitOverlapError, report_split_overlap
from sccosf_ros.training.stop_signals import GracefulStop, NoStop
from sccosf_ros.training.validation import ValidationMixin


class Trainer(CheckpointMixin, ValidationMixin):
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
        self._check_splits()
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
            write_train_config(self.out, self.run_info())

    # ---------------------------------------------------------------- set-up
    def _pick_device(self) -> torch.device:
        dev = resolve_device(self.cfg.device)  # DeviceError: one line, as every command
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

    def _check_splits(self) -> None:
        """No training image in a held-out split (split_overlap.py; main process hashes)."""
        error = None
        if self.main:
            try:
                report_split_overlap(self.cfg, self.train_set, self.val_set, self.cfg.progress)
            except SplitOverlapError as e:
                error = str(e)
        error = dist_utils.broadcast_object(error)
        if error:
            raise SplitOverlapError(error)

    def _check_data(self) -> None:
        """Decode every training and validation sample once (main process; others wait)."""
        from sccosf_ros.data.dataset_check import check_dataset

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
            raise DamagedDatasetError(
                "the dataset has damaged samples:\n  " + "\n  ".join(problems)
            )

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
                f"--crop {min(ch, int(h * hi))} {min(cw, int(w * hi))} or smaller"
            )

    def _build_model(self) -> None:
        from sccosf_ros.model import build_model
        from sccosf_ros.model.encoder import PretrainedWeightsError
        from sccosf_ros.training.sync_batchnorm import convert_sync_batchnorm

        cfg = self.cfg
        overrides = cfg.model_overrides_of_run()
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
        if cfg.init_from and not cfg.resume:  # a resumed run gets its weights from latest.pt
            line = init_from_checkpoint(
                model, cfg.init_from, self.class_names, fusion_only=cfg.fusion_only
            )
            if self.main:
                print(line, file=sys.stderr)
        if self.dist.enabled and cfg.sync_bn:
            model = convert_sync_batchnorm(model, self.device)
        self.frozen = freeze_parts(model, dataclasses.asdict(cfg))
        self.model = model.to(self.device)
        self.set_train_mode(True)
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

    def _build_loss(self) -> torch.nn.Module:
        from sccosf_ros.training.losses import JointLoss

        # fusion-only: the (frozen) segmentation head's loss is off
        seg_weight = 0.0 if self.cfg.fusion_only else 1.0
        return JointLoss(self.layout, seg_weight=seg_weight).to(self.device)

    def set_train_mode(self, training: bool) -> None:
        """Train/eval mode of the network; frozen parts always in eval (freezing.py)."""
        set_train_mode(self.model, training, self.frozen)

    @property
    def net(self) -> torch.nn.Module:
        """The module that runs the forward pass (DDP wrapper when distributed)."""
        return self.ddp if self.ddp is not None else self.model

    def _autocast(self) -> Any:
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
            raise NonFiniteLossError(
                f"loss became non-finite at step {self.step + 1}{where} (terms {terms}); lower "
                f"--lr or check the data. {self.latest_path} holds the last good state"
            )
        return {k: float(v) / world for k, v in zip(TERMS, t[:-1].tolist(), strict=True)}

    def train_step(self, batch: dict, counts: LossCounts | None = None) -> dict[str, float]:
        """One optimizer step on this process's share of the global batch; returns the loss
        terms averaged over all processes. ``counts``: the loss divisors (None: this batch's)."""
        rgb, th, label, valid = to_device(batch, self.device)
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

    def _after_step(self, window: LogWindow, t_start: float, end: int, bar: Any) -> None:
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
        window = LogWindow()
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
                bar.set_postfix(short_terms(terms), refresh=False)
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
        except (KeyboardInterrupt, TrainDataError) as e:
            aborted = True
            if self.main and self._saved_step != self.step:
                print(
                    f"\nstopped at step {self.step}: saving {self.latest_path} "
                    "(continue with --resume)",
                    file=sys.stderr,
                )
            self._save_latest()
            if isinstance(e, TrainDataError):
                raise TrainDataError(f"{e} ({self.latest_path} saved at step {self.step})") from e
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
        tb = self.out / "tensorboard"
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
            # None when this run wrote none (--no-tensorboard, or tensorboard unavailable)
            "tensorboard": str(tb) if self.cfg.tensorboard and tb.is_dir() else None,
            "config_json": str(self.out / "train_config.json"),
        }

    def close(self) -> None:
        dist_utils.shutdown_distributed()


def train(config: TrainConfig) -> dict:
    """Build a ``Trainer``, train to the end, release the process group; returns the summary."""
    trainer = Trainer(config)
    try:
        return trainer.fit()
    finally:
        trainer.close()
