"""Thermal → RGB image registration with a fixed 3×3 homography.

SC-CoSF (like MFNet and FMB) assumes pixel-aligned RGB/thermal pairs; real rigs have two
cameras side by side with different optics, so the thermal frame is warped onto the RGB image
plane first. The homography ``H`` maps thermal pixel coordinates to RGB pixel coordinates,
``[u_rgb, v_rgb, 1]ᵀ ∝ H · [u_th, v_th, 1]ᵀ`` (OpenCV's ``findHomography(thermal_pts,
rgb_pts)``), row-major as a ROS parameter ``[h11, h12, h13, h21, h22, h23, h31, h32, h33]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

__all__ = ["IDENTITY", "is_identity", "parse_homography", "warp_thermal"]

IDENTITY = np.eye(3, dtype=np.float64)

_FORMAT_HINT = (
    "homography must be 9 numbers, row-major [h11, h12, h13, h21, h22, h23, h31, h32, h33], "
    "mapping thermal pixel coordinates to RGB pixel coordinates"
)


def parse_homography(values: Sequence[float] | np.ndarray | None) -> np.ndarray | None:
    """9 numbers (flat or 3×3) → float64 (3, 3) matrix; empty or None → None (no registration).

    Raises ValueError for a wrong count, non-numbers, NaN/inf, or a singular matrix.
    """
    if values is None:
        return None
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{_FORMAT_HINT}; got non-numeric values {values!r}") from None
    if arr.size == 0:
        return None
    if arr.size != 9 or arr.shape not in ((9,), (3, 3), (1, 9), (9, 1)):
        raise ValueError(f"{_FORMAT_HINT}; got {arr.size} values (shape {arr.shape})")
    H = arr.reshape(3, 3)
    if not np.isfinite(H).all():
        raise ValueError(f"{_FORMAT_HINT}; got NaN or infinite values: {H.ravel().tolist()}")
    # Singular ⇔ the warp collapses the image onto a line or point; cond() also catches
    # nearly singular matrices that would amplify rounding into garbage.
    cond = np.linalg.cond(H)
    if not np.isfinite(cond) or cond > 1e12:
        raise ValueError(
            f"homography {H.ravel().tolist()} is singular (condition number {cond:.3g}): "
            "it must be invertible; estimate it with cv2.findHomography(thermal_pts, rgb_pts)"
        )
    return H


def is_identity(H: np.ndarray | None, atol: float = 1e-12) -> bool:
    """True for None or a matrix equal to the identity up to scale."""
    if H is None:
        return True
    H = np.asarray(H, dtype=np.float64)
    if H[2, 2] == 0:
        return False
    return bool(np.allclose(H / H[2, 2], IDENTITY, rtol=0.0, atol=atol))


def warp_thermal(
    thermal: np.ndarray,
    homography: np.ndarray | Sequence[float] | None,
    out_size: tuple[int, int],
    border_value: float | None = None,
) -> np.ndarray:
    """Warp ``thermal`` (H, W[, C]; uint8, uint16 or float32) onto an ``out_size = (h, w)`` grid.

    Bilinear interpolation, dtype kept. Pixels that fall outside the thermal frame get
    ``border_value``; ``None`` means the frame's minimum (NaN ignored), so a min–max or
    percentile ``ThermalNorm`` is not stretched by an artificial 0 border around raw counts.
    An identity homography with an equal size returns a copy without resampling. A thermal
    camera of another resolution needs the scale inside ``H`` (identity only crops or pads).
    """
    img = np.asarray(thermal)
    if img.ndim not in (2, 3) or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"thermal must be an (H, W) or (H, W, C) image, got shape {img.shape}")
    if img.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        raise ValueError(f"thermal dtype must be uint8, uint16 or float32, got {img.dtype}")
    h, w = (int(v) for v in out_size)
    if h <= 0 or w <= 0:
        raise ValueError(f"out_size must be (height, width) > 0, got {out_size}")
    H = parse_homography(homography)
    if H is None or is_identity(H):
        if img.shape[:2] == (h, w):
            return img.copy()
        H = IDENTITY
    if border_value is None:
        border_value = float(np.nanmin(img)) if img.size else 0.0
        if not np.isfinite(border_value):  # all-NaN frame
            border_value = 0.0
    out = cv2.warpPerspective(
        np.ascontiguousarray(img),
        H,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(border_value,) * 4,
    )
    return out[..., None] if img.ndim == 3 and out.ndim == 2 else out
