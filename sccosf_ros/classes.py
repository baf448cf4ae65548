"""Class names and colour palettes of the datasets the paper uses (MFNet, FMB), plus colouring.

``colorize`` and ``overlay`` turn a class-id mask into pictures a person can read (RViz shows a raw
id mask as black). Pure numpy: shared by the Predictor, the ROS node, reports and bag tools.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import cv2
import numpy as np

IGNORE_INDEX = 255
Palette = Sequence[Sequence[int]]  # one (r, g, b) per class id

MFNET_CLASSES: tuple[str, ...] = (
    "unlabeled",
    "car",
    "person",
    "bike",
    "curve",
    "car_stop",
    "guardrail",
    "color_cone",
    "bump",
)
# The palette the MFNet release and its successors (RTFNet, CMX) draw masks with.
MFNET_PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0),
    (64, 0, 128),
    (64, 64, 0),
    (0, 128, 192),
    (0, 0, 192),
    (128, 128, 0),
    (64, 64, 128),
    (192, 128, 128),
    (192, 64, 0),
)

FMB_CLASSES: tuple[str, ...] = (
    "background",
    "Road",
    "Sidewalk",
    "Building",
    "Lamp",
    "Sign",
    "Vegetation",
    "Sky",
    "Person",
    "Car",
    "Truck",
    "Bus",
    "Motorcycle",
    "Bicycle",
    "Pole",
)
# Cityscapes colours for the classes FMB shares with it (T-Lamp = traffic light, T-Sign = sign).
FMB_PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0),
    (128, 64, 128),
    (244, 35, 232),
    (70, 70, 70),
    (250, 170, 30),
    (220, 220, 0),
    (107, 142, 35),
    (70, 130, 180),
    (220, 20, 60),
    (0, 0, 142),
    (0, 0, 70),
    (0, 60, 100),
    (0, 0, 230),
    (119, 11, 32),
    (153, 153, 153),
)

DATASET_CLASSES: dict[str, tuple[tuple[str, ...], tuple[tuple[int, int, int], ...]]] = {
    "mfnet": (MFNET_CLASSES, MFNET_PALETTE),
    "fmb": (FMB_CLASSES, FMB_PALETTE),
}


def default_palette(num_classes: int) -> list[tuple[int, int, int]]:
    """A distinct, deterministic palette for ``num_classes`` classes (class 0 black)."""
    rng = np.random.default_rng(12345)
    colors = [(0, 0, 0)] + [
        tuple(int(v) for v in rng.integers(40, 256, 3)) for _ in range(max(num_classes - 1, 0))
    ]
    return colors[:num_classes]


def _as_key(palette: Palette) -> tuple[tuple[int, int, int], ...]:
    return tuple(tuple(int(v) for v in c) for c in palette)


@functools.lru_cache(maxsize=16)
def _lut(palette: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    """(256, 1, 3) uint8 table for cv2.LUT, cached per palette (the node calls this per frame)."""
    lut = np.zeros((256, 1, 3), np.uint8)
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)[:255]
    lut[: len(pal), 0] = pal
    lut.setflags(write=False)
    return lut


_UNCOLOURED = np.zeros(256, np.uint8)  # ids the overlay leaves as they are: 0 and 255
_UNCOLOURED[0] = _UNCOLOURED[IGNORE_INDEX] = 1


def colorize(labels: np.ndarray, palette: Palette) -> np.ndarray:
    """(H, W) uint8 class ids → (H, W, 3) uint8 RGB (OpenCV LUT: ~1 ms at 640×480)."""
    if labels.dtype != np.uint8:
        raise TypeError(f"labels must be uint8 class ids, got {labels.dtype}")
    labels = np.ascontiguousarray(labels)
    return cv2.LUT(cv2.merge([labels, labels, labels]), _lut(_as_key(palette)))


def overlay(
    rgb: np.ndarray,
    labels: np.ndarray,
    palette: Palette,
    alpha: float = 0.5,
    color: np.ndarray | None = None,
) -> np.ndarray:
    """Blend the coloured mask over an RGB image; classes 0 and 255 stay uncoloured.

    ``color`` may pass an already computed ``colorize(labels, palette)`` to save the work.
    """
    if rgb.shape[:2] != labels.shape:
        raise ValueError(f"image {rgb.shape[:2]} and labels {labels.shape} differ in size")
    if color is None:
        color = colorize(labels, palette)
    rgb = np.ascontiguousarray(rgb)
    out = cv2.addWeighted(rgb, 1.0 - float(alpha), color, float(alpha), 0.0)
    cv2.copyTo(rgb, cv2.LUT(np.ascontiguousarray(labels), _UNCOLOURED), out)
    return out
