"""Ground-truth labels for bag-eval's predictions: a label topic's images matched by stamp."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sccosf_ros.pipeline.image_codec import decode_image

LABEL_WINDOW_NS = 10 * 1_000_000_000  # unmatched labels/predictions older than this are dropped


@dataclass
class LabelMatcher:
    """Joins predictions and ground-truth labels by stamp, whichever arrives first."""

    tolerance_ns: int
    labels: dict[int, np.ndarray] = field(default_factory=dict)
    preds: dict[int, np.ndarray] = field(default_factory=dict)
    matched: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)
    dropped_labels: int = 0

    @staticmethod
    def _nearest(table: dict[int, np.ndarray], stamp: int, tol: int) -> int | None:
        best = None
        for k in table:
            d = abs(k - stamp)
            if d <= tol and (best is None or d < abs(best - stamp)):
                best = k
        return best

    def add_label(self, stamp: int, label: np.ndarray) -> None:
        k = self._nearest(self.preds, stamp, self.tolerance_ns)
        if k is None:
            self.labels[stamp] = label
        else:
            self.matched.append((k, self.preds.pop(k), label))
        self._prune(stamp)

    def add_pred(self, stamp: int, pred: np.ndarray) -> None:
        k = self._nearest(self.labels, stamp, self.tolerance_ns)
        if k is None:
            self.preds[stamp] = pred
        else:
            self.matched.append((stamp, pred, self.labels.pop(k)))
        self._prune(stamp)

    def _prune(self, now: int) -> None:
        old = [k for k in self.labels if k < now - LABEL_WINDOW_NS]
        for k in old:
            del self.labels[k]
        self.dropped_labels += len(old)
        for k in [k for k in self.preds if k < now - LABEL_WINDOW_NS]:
            del self.preds[k]

    def take(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        out, self.matched = self.matched, []
        return out


def decode_label(msg: Any) -> np.ndarray:
    """A mono8 label image as an (H, W) array of class ids (``ValueError`` otherwise)."""
    arr = decode_image(msg)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2 or arr.dtype != np.uint8:
        raise ValueError(f"label image must be mono8 class ids, got {msg.encoding}")
    return arr
