"""The thermal → RGB homography over every board pair, fitted robustly, and its errors.

All corners of all pairs go into one ``cv2.findHomography(thermal_pts, rgb_pts, RANSAC)``
(outliers, such as a pair whose board moved between the two exposures, are voted out), which
OpenCV refines on the inliers (Levenberg–Marquardt). The reprojection error of a pair is the
mean distance in RGB pixels between its RGB corners and its thermal corners mapped by ``H``,
and in thermal pixels between its thermal corners and its RGB corners mapped by ``H⁻¹``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from sccosf_ros.calibration.errors import CalibrationError


@dataclass
class HomographyFit:
    """``H`` (3×3, thermal pixel → RGB pixel, H[2, 2] = 1) and how well it fits."""

    H: np.ndarray
    pair_errors: list[float]  # mean reprojection error per pair, RGB pixels
    inliers: int
    points: int
    # the same in thermal pixels (RGB corners mapped back by H⁻¹): the measure that compares
    # rigs whatever the RGB resolution, and what a small thermal core's accuracy is judged by
    pair_errors_thermal: list[float] = field(default_factory=list)
    ransac_px: float = 3.0  # the inlier threshold used, RGB pixels

    @property
    def mean_error(self) -> float:
        return float(np.mean(self.pair_errors)) if self.pair_errors else float("nan")

    @property
    def mean_error_thermal(self) -> float:
        e = self.pair_errors_thermal
        return float(np.mean(e)) if e else float("nan")


def reprojection_errors(H: np.ndarray, thermal_pts: np.ndarray, rgb_pts: np.ndarray) -> np.ndarray:
    """Per point: |H · thermal − rgb| in RGB pixels."""
    mapped = cv2.perspectiveTransform(thermal_pts.reshape(-1, 1, 2).astype(np.float64), H)
    return np.linalg.norm(mapped.reshape(-1, 2) - rgb_pts.reshape(-1, 2), axis=1)


def fit_homography(
    pairs: list[tuple[np.ndarray, np.ndarray]], ransac_px: float = 3.0
) -> HomographyFit:
    """``pairs`` of (thermal points, RGB points), same order → the robust fit.

    CalibrationError when OpenCV finds no homography (degenerate points, e.g. all on one line).
    """
    th = np.concatenate([p[0] for p in pairs]).astype(np.float64)
    rgb = np.concatenate([p[1] for p in pairs]).astype(np.float64)
    # One thermal pixel is several RGB pixels beside a small core (160 px wide → 720p: ~5):
    # the threshold is at least one thermal pixel's worth, else good corners are voted out.
    threshold = max(ransac_px, _scale(th, rgb))
    H, mask = cv2.findHomography(th, rgb, cv2.RANSAC, threshold, maxIters=5000, confidence=0.999)
    if H is None:
        raise CalibrationError("no homography fits the board corners (are the boards degenerate?)")
    H = H / H[2, 2]
    H_inv = np.linalg.inv(H)
    errors = [float(reprojection_errors(H, t, r).mean()) for t, r in pairs]
    errors_th = [float(reprojection_errors(H_inv, r, t).mean()) for t, r in pairs]
    return HomographyFit(H, errors, int(mask.sum()), int(mask.size), errors_th, threshold)


def _scale(th: np.ndarray, rgb: np.ndarray) -> float:
    """RGB pixels per thermal pixel, from the spread of the corresponding points."""
    spread_th = float(np.sqrt(np.prod(th.std(axis=0))))
    spread_rgb = float(np.sqrt(np.prod(rgb.std(axis=0))))
    return spread_rgb / spread_th if spread_th > 0 else 1.0


def frame_agreement(H_a: np.ndarray, H_b: np.ndarray, thermal_size: tuple[int, int]) -> float:
    """Mean distance (RGB pixels) between where two homographies put the thermal frame's
    pixels (a 32×32 grid over it): how far apart two calibrations are."""
    h, w = thermal_size
    ys, xs = np.meshgrid(np.linspace(0, h - 1, 32), np.linspace(0, w - 1, 32), indexing="ij")
    pts = np.stack([xs.ravel(), ys.ravel()], -1).reshape(-1, 1, 2)
    a = cv2.perspectiveTransform(pts, np.asarray(H_a, np.float64)).reshape(-1, 2)
    b = cv2.perspectiveTransform(pts, np.asarray(H_b, np.float64)).reshape(-1, 2)
    return float(np.linalg.norm(a - b, axis=1).mean())
