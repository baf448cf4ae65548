"""Fusion baselines: what a fused image has to beat to be worth publishing.

Three images made from the sources alone, no network (pure numpy), each scored with the same
``fusion_metrics`` as the model's fused image:

* ``rgb``: the RGB image alone (no fusion at all);
* ``average``: Y = (Y_rgb + IR) / 2, the RGB image's Cb/Cr kept (YCbCr, ``metrics.ycbcr``);
* ``max``: Y = max(Y_rgb, IR) per pixel, the RGB image's Cb/Cr kept.

Inputs: ``rgb`` (H, W, 3) uint8 RGB, ``ir`` (H, W) uint8 infrared at the same size; outputs
(H, W, 3) uint8 RGB.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sccosf_ros.metrics.ycbcr import rgb_to_ycbcr, ycbcr_to_rgb


def _checked(rgb: np.ndarray, ir: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rgb, ir = np.asarray(rgb), np.asarray(ir)
    if ir.ndim == 3 and ir.shape[2] == 1:
        ir = ir[..., 0]
    if rgb.ndim != 3 or rgb.shape[2] != 3 or ir.ndim != 2:
        raise ValueError(f"need (H, W, 3) RGB and (H, W) infrared, got {rgb.shape} and {ir.shape}")
    if rgb.shape[:2] != ir.shape:
        raise ValueError(f"RGB {rgb.shape[:2]} and infrared {ir.shape} must have the same size")
    if rgb.dtype != np.uint8 or ir.dtype != np.uint8:
        raise TypeError(f"need uint8 images, got {rgb.dtype} and {ir.dtype}")
    return rgb, ir


def _fuse_luminance(
    rgb: np.ndarray, ir: np.ndarray, combine: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    rgb, ir = _checked(rgb, ir)
    y, cb, cr = rgb_to_ycbcr(rgb)
    return ycbcr_to_rgb(combine(y, ir.astype(np.float64)), cb, cr)


def rgb_alone(rgb: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """The RGB image unchanged: the score of not fusing."""
    return _checked(rgb, ir)[0].copy()


def average_luminance(rgb: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Mean of the RGB luminance and the infrared image, the RGB chroma kept."""
    return _fuse_luminance(rgb, ir, lambda y, t: (y + t) / 2.0)


def max_luminance(rgb: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Per-pixel maximum of the RGB luminance and the infrared image, the RGB chroma kept."""
    return _fuse_luminance(rgb, ir, np.maximum)


# name → (function, label in reports)
BASELINES: dict[str, tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], str]] = {
    "rgb": (rgb_alone, "RGB alone (no fusion)"),
    "average": (average_luminance, "average of RGB luminance and IR (RGB chroma kept)"),
    "max": (max_luminance, "per-pixel max of RGB luminance and IR (RGB chroma kept)"),
}
