"""The picture to check a calibration by eye: thermal edges over the RGB image, before and after
registration.

Left: the thermal frame only scaled to the RGB size (what the network would see without
``registration.homography``); right: warped by the fitted homography (``warp_thermal``, what the
node does). Edges of the thermal image (Canny on its 8-bit stretch) are drawn in magenta over a
dimmed RGB image: after a good calibration they sit on the board's squares and on every object
edge at the board's distance.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from sccosf_ros.bag.contact_sheet import save_png, side_by_side
from sccosf_ros.calibration.board import to_gray8
from sccosf_ros.registration import warp_thermal

EDGE_COLOUR = (255, 0, 255)


def edges_over(rgb: np.ndarray, thermal_on_rgb: np.ndarray) -> np.ndarray:
    """``rgb`` dimmed, with the edges of ``thermal_on_rgb`` (same size) drawn on it."""
    gray = cv2.GaussianBlur(to_gray8(thermal_on_rgb), (0, 0), 1.5)
    edges = cv2.Canny(gray, 30, 90)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8)) > 0
    out = (rgb.astype(np.float32) * 0.6).astype(np.uint8)
    out[edges] = EDGE_COLOUR
    return out


def registration_preview(
    path: str | os.PathLike, rgb: np.ndarray, thermal: np.ndarray, H: np.ndarray, note: str = ""
) -> Path:
    """Write the before/after PNG (each panel at most 960 pixels wide)."""
    h, w = rgb.shape[:2]
    scaled = cv2.resize(thermal, (w, h), interpolation=cv2.INTER_LINEAR)
    warped = warp_thermal(thermal, H, (h, w))
    width = min(w, 960)
    sheet = side_by_side(
        [edges_over(rgb, scaled), edges_over(rgb, warped)],
        ["before: thermal only scaled to the RGB size", f"after: registration.homography {note}"],
        tile_width=width,
    )
    return save_png(path, sheet)
