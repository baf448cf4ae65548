"""Parity of an exported graph with the torch model: the bar every backend must meet.

Compared on what a user gets, ``Predictor.predict`` outputs: class-id masks (label agreement =
equal pixels / all pixels over every pair) and uint8 fused images (max absolute difference,
in 1/255 steps). The bar (``LABEL_AGREEMENT``, ``FUSED_MAX_DIFF``): ≥ 99.9 % equal labels
and fused pixels within 2/255, against torch fp32 on the same frames.

The caller brings the frames (``sccosf export`` and the tests use synthetic street scenes,
``sccosf_ros.synthetic.pairs.frame_pairs``): this module renders nothing, so backends do not
depend on the synthetic data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

LABEL_AGREEMENT = 0.999
FUSED_MAX_DIFF = 2  # of 255


@dataclass
class ParityReport:
    backend: str
    pairs: int
    pixels: int
    label_agreement: float | None  # None: the model has no segmentation head
    fused_max_diff: int | None  # None: the model has no fusion head
    fused_mean_diff: float | None

    @property
    def passed(self) -> bool:
        labels_ok = self.label_agreement is None or self.label_agreement >= LABEL_AGREEMENT
        fused_ok = self.fused_max_diff is None or self.fused_max_diff <= FUSED_MAX_DIFF
        return labels_ok and fused_ok

    def line(self) -> str:
        la = "n/a" if self.label_agreement is None else f"{100 * self.label_agreement:.3f} %"
        fd = "n/a" if self.fused_max_diff is None else f"{self.fused_max_diff}/255"
        fm = "n/a" if self.fused_mean_diff is None else f"{self.fused_mean_diff:.4f}"
        verdict = "ok" if self.passed else "BELOW THE BAR"
        return (
            f"{self.backend:<12} pairs {self.pairs:>3}  label agreement {la:>10}  "
            f"fused max diff {fd:>7}  mean {fm}  {verdict}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def thermal_is_raw(predictor: Any) -> bool:
    """Whether a Predictor's thermal normalisation expects raw counts (fixed range > 255)."""
    norm = predictor.thermal_norm
    return norm.mode == "fixed" and float(norm.high) > 255


@dataclass(frozen=True)
class PairDiff:
    """How far one pair's outputs are from the reference's (the counts a report sums)."""

    equal_labels: int
    pixels: int  # 0: one side has no segmentation head
    fused_max: int | None  # None: one side has no fusion head
    fused_mean: float | None

    def to_dict(self) -> dict[str, Any]:
        """The report's field names, for one pair (benchmark rows)."""
        return {
            "label_agreement": self.equal_labels / self.pixels if self.pixels else None,
            "fused_max_diff": self.fused_max,
            "fused_mean_diff": self.fused_mean,
        }


def pair_diff(
    ref_labels: np.ndarray | None,
    labels: np.ndarray | None,
    ref_fused: np.ndarray | None,
    fused: np.ndarray | None,
) -> PairDiff:
    """Equal class ids and uint8 fused differences of one pair (None: that head is absent)."""
    equal = pixels = 0
    if ref_labels is not None and labels is not None:
        equal, pixels = int(np.count_nonzero(ref_labels == labels)), int(ref_labels.size)
    if ref_fused is None or fused is None:
        return PairDiff(equal, pixels, None, None)
    diff = np.abs(ref_fused.astype(np.int16) - fused.astype(np.int16))
    return PairDiff(equal, pixels, int(diff.max()), float(diff.mean()))


def summarize(backend: str, diffs: Sequence[PairDiff]) -> ParityReport:
    """One report over every pair: labels pooled over all pixels, fused max over all pairs."""
    pixels = sum(d.pixels for d in diffs)
    fused = [d for d in diffs if d.fused_max is not None]
    return ParityReport(
        backend=backend,
        pairs=len(diffs),
        pixels=pixels,
        label_agreement=sum(d.equal_labels for d in diffs) / pixels if pixels else None,
        fused_max_diff=max((d.fused_max for d in fused), default=None),
        fused_mean_diff=sum(d.fused_mean for d in fused) / len(fused) if fused else None,
    )


def compare(
    reference: Any, candidate: Any, pairs: Iterable[tuple[np.ndarray, np.ndarray]]
) -> ParityReport:
    """Run both Predictors on ``pairs`` and measure how far ``candidate`` is from ``reference``."""
    diffs = []
    for rgb, thermal in pairs:
        a, b = reference.predict(rgb, thermal), candidate.predict(rgb, thermal)
        diffs.append(pair_diff(a.labels, b.labels, a.fused, b.fused))
    return summarize(str(getattr(candidate, "backend", "?")), diffs)
