"""Segmentation metrics (confusion matrix, IoU, mIoU) and, re-exported, the fusion metrics.

mIoU convention: the mean of the per-class IoU over every class of the dataset that occurs in
the ground truth or in the predictions (a class absent from both has IoU NaN and is skipped).
For MFNet that is all 9 classes including ``unlabeled``, like the paper's Table 1 (whose 8
object columns average to less than its mIoU); for FMB all 15 classes including
``background``, like the evaluator of MRFS (the code the paper follows). Pixels labelled
``ignore_index`` (255) are not counted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sccosf_ros.classes import IGNORE_INDEX
from sccosf_ros.training.fusion_metrics import FUSION_METRICS, fusion_metrics

__all__ = ["FUSION_METRICS", "ConfusionMatrix", "fusion_metrics"]


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor on any device
        x = x.detach().cpu().numpy()
    return np.asarray(x)


class ConfusionMatrix:
    """Accumulates a (K, K) confusion matrix: rows = ground truth, columns = prediction."""

    def __init__(self, num_classes: int, ignore_index: int = IGNORE_INDEX) -> None:
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = int(num_classes)
        self.ignore_index = int(ignore_index)
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def reset(self) -> None:
        self.matrix[:] = 0

    def update(self, pred: Any, target: Any) -> None:
        """Add a batch: ``pred`` and ``target`` class-id arrays/tensors of the same shape."""
        p = _to_numpy(pred).astype(np.int64, copy=False).ravel()
        t = _to_numpy(target).astype(np.int64, copy=False).ravel()
        if p.shape != t.shape:
            raise ValueError(
                f"prediction {np.shape(pred)} and target {np.shape(target)} differ in shape"
            )
        keep = t != self.ignore_index
        p, t = p[keep], t[keep]
        k = self.num_classes
        if t.size and (t.min() < 0 or t.max() >= k):
            raise ValueError(
                f"target holds class ids outside 0..{k - 1} (and not the ignore index "
                f"{self.ignore_index}): {sorted(set(np.unique(t)) - set(range(k)))[:10]}"
            )
        if p.size and (p.min() < 0 or p.max() >= k):
            raise ValueError(f"prediction holds class ids outside 0..{k - 1}")
        self.matrix += np.bincount(t * k + p, minlength=k * k).reshape(k, k)

    def update_from_matrix(self, matrix: Any) -> None:
        """Add a (K, K) count matrix (e.g. one summed over distributed workers)."""
        m = np.rint(_to_numpy(matrix)).astype(np.int64)
        if m.shape != self.matrix.shape:
            raise ValueError(f"expected a {self.matrix.shape} matrix, got {m.shape}")
        if (m < 0).any():
            raise ValueError("a confusion matrix cannot hold negative counts")
        self.matrix += m

    def merge(self, other: ConfusionMatrix) -> ConfusionMatrix:
        """Add another confusion matrix (e.g. from another worker) into this one."""
        self.update_from_matrix(other.matrix)
        return self

    @property
    def total(self) -> int:
        return int(self.matrix.sum())

    def iou(self) -> np.ndarray:
        """Per-class IoU = TP / (TP + FP + FN); NaN where a class is absent in both."""
        tp = np.diag(self.matrix).astype(np.float64)
        denom = self.matrix.sum(0) + self.matrix.sum(1) - np.diag(self.matrix)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denom > 0, tp / np.maximum(denom, 1), np.nan)

    def miou(self) -> float:
        """Mean IoU over the classes present (see module docstring); NaN if nothing counted."""
        iou = self.iou()
        return float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")

    def pixel_accuracy(self) -> float:
        """Fraction of counted pixels classified correctly (NaN if nothing counted)."""
        total = self.total
        return float(np.trace(self.matrix) / total) if total else float("nan")

    def class_accuracy(self) -> np.ndarray:
        """Per-class recall TP / (TP + FN); NaN for classes absent from the ground truth."""
        gt = self.matrix.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(gt > 0, np.diag(self.matrix) / np.maximum(gt, 1), np.nan)
