"""Full-range ITU-R 601 YCbCr (the JPEG form, as ``cv2.COLOR_RGB2YCrCb``), in float.

Y = 0.299 R + 0.587 G + 0.114 B; Cb = 128 + (B − Y) / 1.772; Cr = 128 + (R − Y) / 1.402, all in
grey levels 0–255. The inverse is the exact inverse of these formulas (OpenCV's rounded
coefficients would move the chroma of a round trip by a fraction of a level). Used by the
luminance baselines (fuse Y, keep Cb/Cr) and the colour-fidelity metric.
"""

from __future__ import annotations

import numpy as np

KR, KG, KB = 0.299, 0.587, 0.114
CB_SCALE = 2.0 * (1.0 - KB)  # 1.772
CR_SCALE = 2.0 * (1.0 - KR)  # 1.402


def rgb_to_ycbcr(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H, W, 3) RGB (any numeric dtype, grey levels 0–255) → float64 Y, Cb, Cr planes."""
    a = np.asarray(rgb, dtype=np.float64)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"RGB image must be (H, W, 3), got shape {np.shape(rgb)}")
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    y = KR * r + KG * g + KB * b
    return y, 128.0 + (b - y) / CB_SCALE, 128.0 + (r - y) / CR_SCALE


def ycbcr_to_rgb(y: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> np.ndarray:
    """Float Y, Cb, Cr planes → (H, W, 3) uint8 RGB (rounded, clipped to 0–255)."""
    r = y + CR_SCALE * (cr - 128.0)
    b = y + CB_SCALE * (cb - 128.0)
    g = (y - KR * r - KB * b) / KG
    rgb = np.stack([r, g, b], axis=-1)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)
