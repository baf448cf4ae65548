"""Segmentation scores: the confusion matrix and the one evaluator every path uses.

mIoU convention: the mean of the per-class IoU over every class of the dataset that occurs in
the ground truth or in the predictions (a class absent from both has IoU NaN and is skipped).
For MFNet that is all 9 classes including ``unlabeled``, like the paper's Table 1 (whose 8
object columns average to less than its mIoU); for FMB all 15 classes including
``background``, like the evaluator of MRFS (the code the paper follows). Pixels labelled
``ignore_index`` (255) are not counted.

``SegmentationEvaluator`` adds per-image bookkeeping and named subsets ("splits", e.g. MFNet's
day and night halves, §4.2) on top of ``ConfusionMatrix``; training validation (summed over
DDP processes with ``reduce``), ``sccosf eval``, ``sccosf bag-eval`` and the demo all score
with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sccosf_ros.classes import IGNORE_INDEX


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor on any device, without importing torch
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

    def counts(self, pred: Any, target: Any) -> np.ndarray:
        """The (K, K) counts of one batch, checked, without adding them."""
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
        return np.bincount(t * k + p, minlength=k * k).reshape(k, k)

    def update(self, pred: Any, target: Any) -> None:
        """Add a batch: ``pred`` and ``target`` class-id arrays/tensors of the same shape."""
        self.matrix += self.counts(pred, target)

    def update_from_matrix(self, matrix: Any) -> None:
        """Add a (K, K) count matrix (e.g. one summed over distributed workers)."""
        m = np.rint(_to_numpy(matrix)).astype(np.int64)
        if m.shape != self.matrix.shape:
            raise ValueError(f"expected a {self.matrix.shape} matrix, got {m.shape}")
        if (m < 0).any():
            raise ValueError("a confusion matrix cannot hold negative counts")
        self.matrix += m

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


class SegmentationEvaluator:
    """mIoU, per-class IoU and pixel accuracy over images, overall and per split.

    Args:
        class_names: the dataset's classes, in class-id order (K = their number).
        ignore_index: label value that is not counted.
        split_of: image name → split (e.g. ``mfnet_day_night``: "day"/"night"), or None when the
            image belongs to no split; without it there are no splits.
        splits: splits that exist even before an image of them arrives. Processes that
            ``reduce`` their counts must hold the same splits: declare them here, and an image
            of any other split is then an error.

    Scores are floats, NaN where undefined (a class absent from ground truth and predictions,
    or nothing counted at all); callers writing JSON turn NaN into null.
    """

    def __init__(
        self,
        class_names: Sequence[str],
        *,
        ignore_index: int = IGNORE_INDEX,
        split_of: Callable[[str], str | None] | None = None,
        splits: Sequence[str] = (),
    ) -> None:
        self.class_names = [str(c) for c in class_names]
        if not self.class_names:
            raise ValueError("SegmentationEvaluator needs at least one class name")
        self.ignore_index = int(ignore_index)
        self.split_of = split_of
        self._declared = bool(splits)
        self._all = ConfusionMatrix(len(self.class_names), self.ignore_index)
        self._n = 0
        self._splits: dict[str, ConfusionMatrix] = {}
        self._split_n: dict[str, int] = {}
        for s in splits:
            self._add_split(str(s))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_images(self) -> int:
        return self._n

    @property
    def confusion(self) -> ConfusionMatrix:
        """The overall counts (``.matrix`` is what DDP sums; ``reduce`` also sums the splits)."""
        return self._all

    def _add_split(self, split: str) -> None:
        self._splits[split] = ConfusionMatrix(self.num_classes, self.ignore_index)
        self._split_n[split] = 0

    def _split(self, name: str | None) -> str | None:
        if self.split_of is None or name is None:
            return None
        split = self.split_of(name)
        if split is None:
            return None
        split = str(split)
        if split not in self._splits:
            if self._declared:
                raise ValueError(
                    f"image {name!r} is in split {split!r}, not one of the declared splits "
                    f"{list(self._splits)}"
                )
            self._add_split(split)
        return split

    def update(self, pred: Any, target: Any, name: str | None = None) -> None:
        """Add one image (H, W) or a batch (B, H, W) of class ids (numpy or torch).

        ``name`` is the image's name; ``split_of(name)`` puts it (for a batch: all B images)
        into a split. ValueError for a shape mismatch or ids outside 0..K-1 (other than
        ``ignore_index``); nothing is counted then.
        """
        p, t = _to_numpy(pred), _to_numpy(target)
        if p.shape != t.shape:
            raise ValueError(f"prediction {p.shape} and target {t.shape} differ in shape")
        if p.ndim not in (2, 3):
            raise ValueError(f"expected (H, W) or (B, H, W) class ids, got shape {p.shape}")
        delta = self._all.counts(p, t)  # checks the ids before anything is counted
        split = self._split(name)
        n = 1 if p.ndim == 2 else p.shape[0]
        self._all.matrix += delta
        self._n += n
        if split is not None:
            self._splits[split].matrix += delta
            self._split_n[split] += n

    def reduce(self, sum_fn: Callable[[np.ndarray], Any]) -> None:
        """Replace the counts with their sum over processes (DDP validation).

        ``sum_fn`` takes a 1-D int64 numpy array and returns the element-wise sum over all
        processes (numpy or torch); every process must call this with the same splits.
        """
        parts = [np.array([self._n], np.int64), self._all.matrix.ravel()]
        for s in self._splits:
            parts += [np.array([self._split_n[s]], np.int64), self._splits[s].matrix.ravel()]
        flat = np.concatenate(parts)
        summed = np.rint(_to_numpy(sum_fn(flat))).astype(np.int64).ravel()
        if summed.shape != flat.shape:
            raise ValueError(f"sum_fn returned shape {summed.shape}, expected {flat.shape}")
        k2 = self.num_classes**2
        self._n, pos = int(summed[0]), 1
        self._all.matrix[:] = summed[pos : pos + k2].reshape(self._all.matrix.shape)
        pos += k2
        for s, cm in self._splits.items():
            self._split_n[s] = int(summed[pos])
            cm.matrix[:] = summed[pos + 1 : pos + 1 + k2].reshape(cm.matrix.shape)
            pos += 1 + k2

    def _scores(self, cm: ConfusionMatrix, n_images: int) -> dict:
        iou = cm.iou()
        return {
            "miou": cm.miou(),
            "iou": {c: float(v) for c, v in zip(self.class_names, iou, strict=True)},
            "pixel_acc": cm.pixel_accuracy(),
            "n_images": int(n_images),
        }

    def result(self) -> dict:
        """``{"miou", "iou": {class: IoU}, "pixel_acc", "n_images", "confusion": [[int]],
        "splits": {split: {"miou", "iou", "pixel_acc", "n_images"}}}``; splits without images
        are left out."""
        out = self._scores(self._all, self._n)
        out["confusion"] = self._all.matrix.tolist()
        out["splits"] = {
            s: self._scores(cm, self._split_n[s])
            for s, cm in self._splits.items()
            if self._split_n[s]
        }
        return out
