"""Ground-truth labels for bag-eval's predictions: a label topic's images matched by stamp."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sccosf_ros.pipeline.compressed import check_compressed, decode_compressed, is_compressed
from sccosf_ros.pipeline.image_codec import decode_image

LABEL_WINDOW_NS = 10 * 1_000_000_000  # unmatched labels/predictions older than this are dropped


@dataclass
class LabelMatcher:
    """Joins predictions and ground-truth labels by stamp, whichever arrives first.

    A "prediction" is whatever the caller pairs with a label: bag-eval's predicted ids,
    extract's name of a kept frame."""

    tolerance_ns: int
    labels: dict[int, np.ndarray] = field(default_factory=dict)
    preds: dict[int, Any] = field(default_factory=dict)
    matched: list[tuple[int, Any, np.ndarray]] = field(default_factory=list)
    dropped_labels: int = 0

    @staticmethod
    def _nearest(table: dict[int, Any], stamp: int, tol: int) -> int | None:
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

    def add_pred(self, stamp: int, pred: Any) -> None:
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

    def take(self) -> list[tuple[int, Any, np.ndarray]]:
        out, self.matched = self.matched, []
        return out


def decode_label(msg: Any) -> np.ndarray:
    """A label image as an (H, W) uint8 array of class ids (``ValueError`` otherwise).

    A raw ``Image`` (mono8, or mono16 with ids below 256) or a ``CompressedImage`` as
    image_transport's compressed plugin writes it, PNG only (a JPEG's losses would change ids).
    """
    if is_compressed(msg):
        fmt = check_compressed(msg)
        if fmt.codec != "png":
            raise ValueError(
                f"label image {msg.format!r} is {fmt.codec}: labels must be PNG "
                "(lossless), as image_transport's compressed plugin writes mono8/mono16"
            )
        arr, what = decode_compressed(msg), msg.format
    else:
        arr, what = decode_image(msg), msg.encoding
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2 or arr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"label image must be mono8 or mono16 class ids, got {what}")
    if arr.dtype == np.uint16:
        if arr.size and int(arr.max()) > 255:
            raise ValueError(f"label image holds class id {int(arr.max())}: at most 255")
        arr = arr.astype(np.uint8)
    return arr
