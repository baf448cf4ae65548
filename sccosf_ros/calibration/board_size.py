"""How big the board is in an image, in pixels, and whether it is too small to be found.

A small thermal core (a 160×120 FLIR Lepton) sees a board across the room as a few dozen
pixels: below about :data:`MIN_SQUARE_PX` pixels per square neither detector finds it reliably
even in the upscaled image. When the RGB image shows the board and the thermal one does not,
the board's size in thermal is estimated from its heat (the largest warm blob: the heated
squares) so that ``sccosf calibrate`` can say "too small" rather than "not found".
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sccosf_ros.calibration.board import BoardSpec, to_gray8

MIN_SQUARE_PX = 4.0  # below: squares too small to detect reliably (measured on 160×120 rigs)


@dataclass(frozen=True)
class BoardSize:
    """The board's squares area (cols + 1 by rows + 1 squares) in an image, pixels."""

    width_px: float
    height_px: float
    square_px: float
    estimated: bool = False  # from the heat blob, the board itself not found

    @property
    def too_small(self) -> bool:
        return self.square_px < MIN_SQUARE_PX

    def __str__(self) -> str:
        about = "about " if self.estimated else ""
        return f"{about}{self.width_px:.0f}x{self.height_px:.0f} px"


def size_from_points(points: np.ndarray, spec: BoardSpec) -> BoardSize:
    """From the found grid points: the median distance between neighbours is one square."""
    g = points.reshape(spec.rows, spec.cols, 2)
    steps = np.concatenate(
        [
            np.linalg.norm(np.diff(g, axis=1), axis=-1).ravel(),
            np.linalg.norm(np.diff(g, axis=0), axis=-1).ravel(),
        ]
    )
    sq = float(np.median(steps))
    return BoardSize(sq * (spec.cols + 1), sq * (spec.rows + 1), sq)


def size_from_heat(image: np.ndarray, spec: BoardSpec) -> BoardSize | None:
    """From a thermal image whose board was not found: the largest warm blob's rotated box
    (Otsu threshold; diagonal neighbours join, as a checkerboard's hot squares touch at their
    corners). None when there is no blob to measure."""
    gray = to_gray8(image)
    if int(gray.max()) - int(gray.min()) < 16:  # a flat image: nothing warm in it
        return None
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero(labels == biggest)
    if xs.size < 4:
        return None
    pts = np.stack([xs, ys], -1).astype(np.float32)
    (_, _), (a, b), _ = cv2.minAreaRect(pts)
    a, b = a + 1.0, b + 1.0  # pixel centres → pixel edges
    long_, short = max(a, b), min(a, b)
    if spec.cols >= spec.rows:
        w, h = long_, short
    else:
        w, h = short, long_
    sq = float(np.sqrt(w * h / ((spec.cols + 1) * (spec.rows + 1))))
    return BoardSize(float(w), float(h), sq, estimated=True)
