"""Validation during training: mIoU (overall, day, night) of the current weights.

Every ``eval_interval`` steps the network runs on the validation split (no augmentation, at
``eval_size`` or the native size); each process scores its shard of the images with the shared
``SegmentationEvaluator`` (the one ``sccosf eval`` uses) and the confusion counts are summed over
processes before scoring. best.pt is chosen on this mIoU.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from sccosf_ros.data.datasets import SegmentationDataset
from sccosf_ros.day_night import DAY, NIGHT
from sccosf_ros.metrics.segmentation import SegmentationEvaluator
from sccosf_ros.training import distributed as dist_utils
from sccosf_ros.training.config import TrainConfig
from sccosf_ros.training.errors import TrainDataError
from sccosf_ros.training.sampling import LOAD_ERROR, SeededSamples, collate, to_device


def _finite_or_none(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


class ValidationMixin:
    """The validation half of ``Trainer`` (uses the model, split and process group it set up)."""

    cfg: TrainConfig
    dist: dist_utils.DistInfo
    device: torch.device
    model: Any
    val_set: SegmentationDataset
    class_names: list[str]
    local_batch: int

    def _autocast(self) -> Any:
        raise NotImplementedError  # the trainer's: bf16 on CUDA

    def set_train_mode(self, training: bool) -> None:
        raise NotImplementedError  # the trainer's: frozen parts stay in eval mode

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
        rgb, th, label, _ = to_device(batch, self.device)
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
        self.set_train_mode(False)
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
            self.set_train_mode(was_training)
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
