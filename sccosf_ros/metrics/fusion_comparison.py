"""The model's fused image beside the baselines, scored alike: one row per kind of fused image.

``compare_fusion(fused, rgb, ir)`` gives, for the model's fused image and each baseline of
``fusion_baselines``, the nine ``fusion_metrics`` (the convention given) and the colour fidelity
(``colour_fidelity``: mean |ΔCb|, |ΔCr| against the RGB image). Both ``sccosf eval`` modes (a
labelled dataset and folders of unlabelled pairs) use it, so their tables agree.
"""

from __future__ import annotations

import numpy as np

from sccosf_ros.metrics.colour_fidelity import COLOUR_LABELS, COLOUR_METRICS, colour_fidelity
from sccosf_ros.metrics.fusion import (
    DEFAULT_CONVENTION,
    FUSION_METRICS,
    FusionConvention,
    fusion_metrics,
)
from sccosf_ros.metrics.fusion_baselines import BASELINES

MODEL = "model"
FUSED_KINDS: tuple[str, ...] = (MODEL, *BASELINES)
KIND_LABELS: dict[str, str] = {MODEL: "model", **{k: v[1] for k, v in BASELINES.items()}}
COMPARISON_METRICS: tuple[str, ...] = (*FUSION_METRICS, *COLOUR_METRICS)
METRIC_LABELS: dict[str, str] = {**{m: m for m in FUSION_METRICS}, **COLOUR_LABELS}


def score_fused(
    fused: np.ndarray,
    rgb: np.ndarray,
    ir: np.ndarray,
    convention: FusionConvention = DEFAULT_CONVENTION,
) -> dict[str, float]:
    """The nine fusion metrics and the colour fidelity of one fused RGB image."""
    return {**fusion_metrics(fused, rgb, ir, convention), **colour_fidelity(fused, rgb)}


def baseline_images(rgb: np.ndarray, ir: np.ndarray) -> dict[str, np.ndarray]:
    """Every baseline's fused image of one pair (name → (H, W, 3) uint8 RGB)."""
    return {name: fn(rgb, ir) for name, (fn, _) in BASELINES.items()}


def compare_fusion(
    fused: np.ndarray | None,
    rgb: np.ndarray,
    ir: np.ndarray,
    convention: FusionConvention = DEFAULT_CONVENTION,
    baselines: dict[str, np.ndarray] | None = None,
) -> dict[str, dict[str, float]]:
    """kind → scores for the model's ``fused`` image (left out when None: no fusion head) and
    every baseline (``baselines``: images already made by ``baseline_images``)."""
    images = dict(baselines) if baselines is not None else baseline_images(rgb, ir)
    if fused is not None:
        images = {MODEL: fused, **images}
    return {kind: score_fused(img, rgb, ir, convention) for kind, img in images.items()}


def comparison_means(
    per_image: list[dict[str, dict[str, float]]],
) -> dict[str, dict[str, float | None]]:
    """kind → metric → mean over the images of ``compare_fusion`` results; values that are
    not finite (Qabf without source edges) are left out, None where no image has one."""
    kinds = [k for k in FUSED_KINDS if any(k in scores for scores in per_image)]
    means: dict[str, dict[str, float | None]] = {}
    for kind in kinds:
        means[kind] = {}
        for m in COMPARISON_METRICS:
            v = np.asarray([s[kind][m] for s in per_image if kind in s], dtype=np.float64)
            v = v[np.isfinite(v)]
            means[kind][m] = float(v.mean()) if v.size else None
    return means
