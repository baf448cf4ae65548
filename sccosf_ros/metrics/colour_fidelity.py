"""Colour fidelity of a fused image: does it keep the colours of the RGB image?

The nine fusion metrics see grey levels only, so a fused image can score well with its colours
gone. Here: the mean absolute difference of the chroma planes (full-range ITU-R 601 Cb and Cr,
``metrics.ycbcr``) between the fused and the RGB image, in grey levels 0–255; 0 = the RGB
image's colours exactly.
"""

from __future__ import annotations

import numpy as np

from sccosf_ros.metrics.ycbcr import rgb_to_ycbcr

COLOUR_METRICS: tuple[str, ...] = ("dCb", "dCr")
COLOUR_LABELS: dict[str, str] = {"dCb": "|ΔCb|", "dCr": "|ΔCr|"}


def colour_fidelity(fused_rgb: np.ndarray, rgb: np.ndarray) -> dict[str, float]:
    """``{"dCb": mean |Cb_fused − Cb_rgb|, "dCr": mean |Cr_fused − Cr_rgb|}`` of two (H, W, 3)
    RGB images of the same size."""
    if np.shape(fused_rgb) != np.shape(rgb):
        raise ValueError(
            f"fused {np.shape(fused_rgb)} and RGB {np.shape(rgb)} must have the same shape"
        )
    _, cb_f, cr_f = rgb_to_ycbcr(fused_rgb)
    _, cb, cr = rgb_to_ycbcr(rgb)
    return {"dCb": float(np.abs(cb_f - cb).mean()), "dCr": float(np.abs(cr_f - cr).mean())}
