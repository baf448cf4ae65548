"""Finding a heated calibration board in an RGB or a thermal image, with sub-pixel corners.

Checkerboards (``findChessboardCorners`` + ``cornerSubPix``) and symmetric circle grids
(``findCirclesGrid``; blob centres are sub-pixel already). ``pattern`` is (cols, rows) of inner
corners / circles, as OpenCV counts them. Thermal frames (raw 16-bit counts or 8-bit) are
stretched to 8 bits between robust percentiles first; a heated board is inverted in thermal (the
black squares or circles absorb the heat and are the *bright* ones), so each image is tried as
it is and inverted.

Small images (a 160×120 Lepton, a 320×256 core: narrower than ``SMALL_WIDTH``) are searched
upscaled ×2…×4 (cubic) with the sector-based ``findChessboardCornersSB`` (sub-pixel itself;
``findChessboardCorners`` as a fallback), and the corners mapped back: at 6–9 px per square
they come out within ~0.1 thermal px. Larger images whose board OpenCV's fast check rejects
(squares of ~10 px, a board far away) get the sector-based detector too.

Corner order: OpenCV may return a grid starting at any of its corners (180° turns, and for a
square grid also transposed), and the two images need the same order to correspond. Both are
put in one canonical order by image direction: first corner at the top left, rows running
right, columns running down. That holds while both cameras are upright and the board is rolled
by less than 45° in the images (a mirrored thermal image would need flipping first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from sccosf_ros.calibration.errors import CalibrationError

BOARDS = ("checkerboard", "circles")


@dataclass(frozen=True)
class BoardSpec:
    """A calibration board: pattern (cols, rows) of inner corners or circles, and its kind."""

    cols: int
    rows: int
    kind: str = "checkerboard"

    @property
    def pattern(self) -> tuple[int, int]:
        return (self.cols, self.rows)

    @property
    def points(self) -> int:
        return self.cols * self.rows


def parse_pattern(text: str, kind: str = "checkerboard") -> BoardSpec:
    """``"9x6"`` → BoardSpec(9, 6, kind); CalibrationError saying what to write otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", str(text))
    if m is None:
        raise CalibrationError(
            f"--pattern {text!r} must be COLSxROWS of inner corners, e.g. 9x6 for a board "
            "of 10x7 squares"
        )
    cols, rows = int(m.group(1)), int(m.group(2))
    if cols < 2 or rows < 2:
        raise CalibrationError(f"--pattern {text!r}: need at least 2x2 inner corners")
    if kind not in BOARDS:
        raise CalibrationError(f"--board must be one of {', '.join(BOARDS)}, got {kind!r}")
    return BoardSpec(cols, rows, kind)


def to_gray8(image: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Any RGB/grey/thermal frame → uint8 grey; non-uint8 data stretched between percentiles."""
    a = np.asarray(image)
    if a.ndim == 3:
        a = cv2.cvtColor(a[..., :3], cv2.COLOR_RGB2GRAY) if a.dtype == np.uint8 else a.mean(-1)
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    f = a.astype(np.float32)
    finite = f[np.isfinite(f)]
    if finite.size == 0:
        return np.zeros(a.shape, np.uint8)
    lo, hi = np.percentile(finite, [low, high])
    if hi <= lo:
        hi = lo + 1.0
    f = np.nan_to_num(f, nan=float(lo))
    return np.clip((f - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)


def canonical_order(points: np.ndarray, spec: BoardSpec) -> np.ndarray:
    """The grid ``points`` (N, 2) in row-major order starting top left (module docstring)."""
    grid = points.reshape(spec.rows, spec.cols, 2)
    candidates = [grid, grid[::-1, ::-1], grid[::-1, :], grid[:, ::-1]]
    if spec.rows == spec.cols:
        candidates += [c.transpose(1, 0, 2) for c in candidates]

    def score(g: np.ndarray) -> float:
        along_row = g[0, -1] - g[0, 0]  # should point right (+x)
        along_col = g[-1, 0] - g[0, 0]  # should point down (+y)
        return along_row[0] / np.linalg.norm(along_row) + along_col[1] / np.linalg.norm(along_col)

    best = max(candidates, key=score)
    return np.ascontiguousarray(best.reshape(-1, 2))


def _spacing(points: np.ndarray, spec: BoardSpec) -> float:
    """Smallest distance between neighbouring grid points (pixels)."""
    g = points.reshape(spec.rows, spec.cols, 2)
    d = [np.linalg.norm(np.diff(g, axis=1), axis=-1), np.linalg.norm(np.diff(g, axis=0), axis=-1)]
    return float(min(x.min() for x in d))


SEARCH_WIDTH = 960  # wider images are searched at a smaller scale, then refined at full size


def _checkerboard(gray: np.ndarray, spec: BoardSpec, sector_too: bool = True) -> np.ndarray | None:
    # FAST_CHECK rejects a frame without a board in milliseconds (else: seconds at 720p).
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE | cv2.CALIB_CB_FAST_CHECK
    scale = min(1.0, SEARCH_WIDTH / gray.shape[1])
    small = (
        gray
        if scale == 1.0
        else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    found, corners = cv2.findChessboardCorners(small, spec.pattern, flags=flags)
    if not found and sector_too:
        # FAST_CHECK also rejects boards of small squares (~10 px, a board far away): the
        # sector-based detector finds those in ~0.1 s, and fails as fast without a board.
        found, corners = cv2.findChessboardCornersSB(small, spec.pattern)
    if not found:
        return None
    # Corners of the resized image, back on the full-size pixel grid (pixel centres).
    pts = ((corners.reshape(-1, 2) + 0.5) / scale - 0.5).astype(np.float32)
    # Refine within a window well inside one square.
    half = int(np.clip(_spacing(pts, spec) * 0.3, 2, 11))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 1e-3)
    refined = cv2.cornerSubPix(gray, pts.reshape(-1, 1, 2), (half, half), (-1, -1), criteria)
    return refined.reshape(-1, 2)


def _circles(gray: np.ndarray, spec: BoardSpec) -> np.ndarray | None:
    found, centers = cv2.findCirclesGrid(gray, spec.pattern, flags=cv2.CALIB_CB_SYMMETRIC_GRID)
    return centers.reshape(-1, 2).astype(np.float32) if found else None


# Small images (a 160×120 or 320×256 thermal core) are searched upscaled: OpenCV's detectors
# need squares (circles) of more than a few pixels, and sub-pixel fits need more than a few
# pixels per edge. Cubic interpolation keeps the blurred edges' shape, so the corners found in
# the upscaled image, mapped back, are sub-pixel corners of the original.
SMALL_WIDTH = 480
MAX_UPSCALE = 4


def upscale_factor(width: int) -> int:
    """1 for images at least SMALL_WIDTH wide, else up to ×4 (160 → 640 px wide)."""
    return 1 if width >= SMALL_WIDTH else min(MAX_UPSCALE, -(-640 // max(1, width)))


def _checkerboard_sb(gray: np.ndarray, spec: BoardSpec) -> np.ndarray | None:
    """The sector-based detector: more robust on blurred, low-contrast boards, and sub-pixel
    (ACCURACY) itself; slower, so only for small (upscaled) images."""
    found, corners = cv2.findChessboardCornersSB(gray, spec.pattern, flags=cv2.CALIB_CB_ACCURACY)
    return corners.reshape(-1, 2).astype(np.float32) if found else None


def _upscaled(gray: np.ndarray, spec: BoardSpec, k: int) -> np.ndarray | None:
    """Detect in the image upscaled ×k, corners mapped back onto its pixel grid."""
    up = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    if spec.kind == "checkerboard":
        pts = _checkerboard_sb(up, spec)
        if pts is None:
            pts = _checkerboard(up, spec, sector_too=False)
    else:
        pts = _circles(up, spec)
    return None if pts is None else ((pts + 0.5) / k - 0.5).astype(np.float32)


def find_board(
    image: np.ndarray, spec: BoardSpec, inverted_first: bool = False
) -> np.ndarray | None:
    """The board's (cols × rows, 2) points in canonical order, or None when not found.

    ``image``: RGB uint8, grey uint8, or thermal (uint16 counts, float): tried as it is and
    inverted (a heated board's dark squares are the hot ones; ``inverted_first`` for thermal
    saves the slow failing attempt).
    """
    gray = to_gray8(image)
    k = upscale_factor(gray.shape[1])
    order = (255 - gray, gray) if inverted_first else (gray, 255 - gray)
    for candidate in order:
        if k > 1:
            pts = _upscaled(candidate, spec, k)
        elif spec.kind == "checkerboard":
            pts = _checkerboard(candidate, spec)
        else:
            pts = _circles(candidate, spec)
        if pts is not None:
            return canonical_order(pts, spec)
    return None
