"""Parity of an exported graph with the torch model: the bar every backend must meet.

Compared on what a user gets, ``Predictor.predict`` outputs: class-id masks (label agreement =
equal pixels / all pixels over every pair) and uint8 fused images (max absolute difference,
in 1/255 steps). The bar (``LABEL_AGREEMENT``, ``FUSED_MAX_DIFF``): ≥ 99.9 % equal labels
and fused pixels within 2/255, against torch fp32 on the same frames.

Generated pairs are synthetic street scenes (``sccosf_ros.synthetic.render_scene``: the
data the shipped model was trained on, half of them at night), not noise: parity matters on
inputs that look like the camera's.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def generated_pairs(
    n: int, size: tuple[int, int], thermal_raw: bool, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` synthetic RGB + thermal pairs at ``size``; thermal as raw 16-bit counts when
    ``thermal_raw`` (a fixed radiometric normalisation), else 8-bit."""
    from sccosf_ros.synthetic import render_scene

    pairs = []
    for i in range(n):
        scene = render_scene(seed + i, size[0], size[1], night=bool(i % 2))
        pairs.append((scene.rgb, scene.thermal16 if thermal_raw else scene.thermal8))
    return pairs


def thermal_is_raw(predictor: Any) -> bool:
    """Whether a Predictor's thermal normalisation expects raw counts (fixed range > 255)."""
    norm = predictor.thermal_norm
    return norm.mode == "fixed" and float(norm.high) > 255


def compare(
    reference: Any, candidate: Any, pairs: Iterable[tuple[np.ndarray, np.ndarray]]
) -> ParityReport:
    """Run both Predictors on ``pairs`` and measure how far ``candidate`` is from ``reference``."""
    same = pixels = n = 0
    fused_max: int | None = None
    fused_sum = 0.0
    labels_seen = False
    for rgb, thermal in pairs:
        a, b = reference.predict(rgb, thermal), candidate.predict(rgb, thermal)
        n += 1
        if a.labels is not None and b.labels is not None:
            labels_seen = True
            same += int(np.count_nonzero(a.labels == b.labels))
            pixels += a.labels.size
        if a.fused is not None and b.fused is not None:
            diff = np.abs(a.fused.astype(np.int16) - b.fused.astype(np.int16))
            fused_max = max(fused_max or 0, int(diff.max()))
            fused_sum += float(diff.mean())
    return ParityReport(
        backend=str(getattr(candidate, "backend", "?")),
        pairs=n,
        pixels=pixels,
        label_agreement=(same / pixels) if labels_seen and pixels else None,
        fused_max_diff=fused_max,
        fused_mean_diff=None if fused_max is None else fused_sum / max(n, 1),
    )
