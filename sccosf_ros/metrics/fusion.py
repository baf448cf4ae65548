"""Image-fusion quality metrics (paper §4.3, Figure 9), CDDFuse-evaluator conventions.

Every metric works on grayscale images with values 0–255: RGB inputs are converted with the
ITU-R 601 weights (``cv2.COLOR_RGB2GRAY``, rounded to integers, as the CDDFuse evaluator reads
images in GRAY mode). ``F`` is the fused image, ``A`` the visible and ``B`` the infrared source.

* EN   entropy of the 256-bin grey-level histogram, in bits (log2).
* SD   standard deviation (population, ddof = 0).
* SF   spatial frequency ``sqrt(mean(Δx²) + mean(Δy²))`` over neighbouring-pixel differences.
* AG   average gradient ``mean(sqrt((Gx² + Gy²) / 2))`` with central differences inside and
       one-sided differences on the border rows/columns.
* MI   mutual information from the 256×256 joint histogram, summed over both sources:
       ``MI(F, A) + MI(F, B)``; in nats by default (see conventions below).
* SCD  sum of the correlations of differences ``corr(A, F − B) + corr(B, F − A)``; a correlation
       with a constant image counts as 0 (CDDFuse would give NaN).
* VIF  pixel-domain visual information fidelity (4 scales, Gaussian windows 17/9/5/3 with
       σ = N/5, noise variance 2, log10), summed over both sources ``VIF(A, F) + VIF(B, F)``;
       a constant reference gives 0/0, which counts as 1 (CDDFuse convention).
* Qabf Xydeas–Petrović edge-preservation index (3×3 Sobel, zero padding, ``arctan`` angles,
       Γg = 0.9994, κg = −15, σg = 0.5, Γα = 0.9879, κα = −22, σα = 0.8), weighted by the
       source gradient strengths. The strength ratio is ``min(gA, gF) / max(gA, gF)`` (1 where
       both are 0); the MATLAB/CDDFuse code uses ``gF`` where ``gA == gF``, which differs only
       for equal gradients below 1 grey level. NaN when neither source has any edge.
* SSIM ``SSIM(F, A) + SSIM(F, B)`` (the CDDFuse evaluator sums over both sources, so the
       best value is 2); each term is the mean SSIM map with a 7×7 uniform window, sample
       covariance, K1 = 0.01, K2 = 0.03, cropped by 3 pixels at the border (scikit-image's
       ``structural_similarity`` defaults), with the data range of the convention.

Conventions (``FusionConvention``; recorded in every metrics.json and report.md). SSIM's data
range and MI's logarithm are where evaluators differ; the default follows the CDDFuse evaluator
(``utils/Evaluator.py``, scikit-image 0.19 and scikit-learn as its requirements pin):

* SSIM data range 2: it calls ``structural_similarity(F, A)`` on float images without
  ``data_range``, and scikit-image 0.19 then takes the float dtype range (-1, 1) = 2, even
  though the grey levels are 0–255. The constants C1, C2 are thus ~16 000× smaller than with
  255, which matters only in flat regions. ``ssim_data_range=255`` gives the textbook value.
* MI in nats: ``sklearn.metrics.mutual_info_score`` uses the natural log. VIFB's MATLAB
  ``metricsMutinf`` does too (``log``, after stretching each image to 0–255); the MATLAB
  ``analysis_MI`` used by SeAFusion-style evaluations reports bits (log2) — ``mi_units="bits"``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

FUSION_METRICS: tuple[str, ...] = ("EN", "SD", "SF", "AG", "MI", "SCD", "VIF", "Qabf", "SSIM")
MI_UNITS = {"nats": math.e, "bits": 2.0}


@dataclass(frozen=True)
class FusionConvention:
    """The choices where fusion evaluators differ (see the module docstring)."""

    ssim_data_range: float = 2.0  # CDDFuse evaluator (scikit-image 0.19 on float images)
    mi_units: str = "nats"  # CDDFuse (scikit-learn) and VIFB; "bits": MATLAB analysis_MI

    def __post_init__(self) -> None:
        if self.mi_units not in MI_UNITS:
            raise ValueError(f"mi_units must be one of {list(MI_UNITS)}, got {self.mi_units!r}")
        if not self.ssim_data_range > 0:
            raise ValueError(f"ssim_data_range must be > 0, got {self.ssim_data_range}")

    @property
    def name(self) -> str:
        if self == FusionConvention():
            return "cddfuse"
        return f"custom (SSIM data range {self.ssim_data_range:g}, MI in {self.mi_units})"

    def describe(self) -> str:
        """One sentence for reports."""
        return (
            f"{self.name}: grayscale 0-255 (ITU-R 601); EN in bits; MI in {self.mi_units}, "
            f"MI/VIF/SSIM/SCD summed over the visible and infrared sources; SSIM with a 7x7 "
            f"uniform window and data range {self.ssim_data_range:g}"
            + (
                " (scikit-image 0.19's float default, as the CDDFuse evaluator)"
                if self.ssim_data_range == 2.0
                else ""
            )
        )

    def to_dict(self) -> dict:
        return {"name": self.name, **asdict(self), "description": self.describe()}


DEFAULT_CONVENTION = FusionConvention()


# --------------------------------------------------------------------------- helpers
def to_gray(img: np.ndarray, what: str = "image") -> np.ndarray:
    """uint8 (H,W), (H,W,1) or (H,W,3) RGB → (H,W) float64 grey levels 0–255 (integers)."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        raise TypeError(f"{what} must be uint8 (0-255), got {a.dtype}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 3 and a.shape[2] == 3:
        a = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
    if a.ndim != 2:
        raise ValueError(f"{what} must be (H, W) or (H, W, 3), got shape {np.shape(img)}")
    return a.astype(np.float64)


def _filter_valid(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """2-D correlation keeping only fully covered pixels (``convolve2d(..., 'valid')``)."""
    kh, kw = kernel.shape
    h, w = img.shape
    if h < kh or w < kw:
        return np.zeros((0, 0))
    out = cv2.filter2D(img, cv2.CV_64F, kernel, borderType=cv2.BORDER_CONSTANT)
    rh, rw = kh // 2, kw // 2
    return out[rh : h - rh, rw : w - rw]


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    dx, dy = x - x.mean(), y - y.mean()
    denom = math.sqrt(float((dx * dx).sum()) * float((dy * dy).sum()))
    return float((dx * dy).sum() / denom) if denom > 0 else 0.0


# --------------------------------------------------------------------------- no-reference
def entropy(img: np.ndarray) -> float:
    """EN in bits of the 256-bin histogram of grey levels 0–255."""
    levels = np.clip(np.round(img), 0, 255).astype(np.int64).ravel()
    p = np.bincount(levels, minlength=256) / levels.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def standard_deviation(img: np.ndarray) -> float:
    return float(np.std(img))


def spatial_frequency(img: np.ndarray) -> float:
    rf = np.mean(np.diff(img, axis=1) ** 2) if img.shape[1] > 1 else 0.0
    cf = np.mean(np.diff(img, axis=0) ** 2) if img.shape[0] > 1 else 0.0
    return float(math.sqrt(rf + cf))


def average_gradient(img: np.ndarray) -> float:
    if min(img.shape) < 2:
        raise ValueError("average gradient needs an image of at least 2x2 pixels")
    gy, gx = np.gradient(img)  # central inside, one-sided on the border
    return float(np.mean(np.sqrt((gx * gx + gy * gy) / 2.0)))


# --------------------------------------------------------------------------- with references
def mutual_information(x: np.ndarray, y: np.ndarray, base: float = math.e) -> float:
    """MI(x, y) from the joint histogram of integer grey levels 0–255, in nats (``base`` e)
    or bits (``base`` 2)."""
    a = np.clip(np.round(x), 0, 255).astype(np.int64).ravel()
    b = np.clip(np.round(y), 0, 255).astype(np.int64).ravel()
    joint = np.bincount(a * 256 + b, minlength=256 * 256).reshape(256, 256) / a.size
    px, py = joint.sum(1), joint.sum(0)
    nz = joint > 0
    ratio = joint[nz] / np.outer(px, py)[nz]
    return max(float((joint[nz] * np.log(ratio)).sum()) / math.log(base), 0.0)


def scd(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return _correlation(a, f - b) + _correlation(b, f - a)


def _gaussian_window(n: int) -> np.ndarray:
    sd = n / 5.0
    r = (n - 1) / 2.0
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    h = np.exp(-(x * x + y * y) / (2.0 * sd * sd))
    h[h < np.finfo(h.dtype).eps * h.max()] = 0.0
    return h / h.sum()


def vif(ref: np.ndarray, dist: np.ndarray, sigma_nsq: float = 2.0) -> float:
    """Pixel-domain VIF of ``dist`` against ``ref`` (4 scales); 1 for a constant reference."""
    eps = 1e-10
    num = den = 0.0
    ref, dist = ref.astype(np.float64), dist.astype(np.float64)
    for scale in range(1, 5):
        win = _gaussian_window(2 ** (5 - scale) + 1)
        if scale > 1:
            ref = _filter_valid(ref, win)[::2, ::2]
            dist = _filter_valid(dist, win)[::2, ::2]
        if ref.size == 0:
            break
        mu1, mu2 = _filter_valid(ref, win), _filter_valid(dist, win)
        if mu1.size == 0:
            break
        s1 = np.maximum(_filter_valid(ref * ref, win) - mu1 * mu1, 0.0)
        s2 = np.maximum(_filter_valid(dist * dist, win) - mu2 * mu2, 0.0)
        s12 = _filter_valid(ref * dist, win) - mu1 * mu2
        g = s12 / (s1 + eps)
        sv = s2 - g * s12
        flat_ref = s1 < eps
        g[flat_ref] = 0.0
        sv[flat_ref] = s2[flat_ref]
        s1[flat_ref] = 0.0
        flat_dist = s2 < eps
        g[flat_dist] = 0.0
        sv[flat_dist] = 0.0
        neg = g < 0
        sv[neg] = s2[neg]
        g[neg] = 0.0
        sv = np.maximum(sv, eps)
        num += float(np.log10(1.0 + g * g * s1 / (sv + sigma_nsq)).sum())
        den += float(np.log10(1.0 + s1 / sigma_nsq).sum())
    return num / den if den > 0 else 1.0


_SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
_SOBEL_Y = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])


def _edge_strength_angle(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sx = cv2.filter2D(img, cv2.CV_64F, _SOBEL_X, borderType=cv2.BORDER_CONSTANT)
    sy = cv2.filter2D(img, cv2.CV_64F, _SOBEL_Y, borderType=cv2.BORDER_CONSTANT)
    g = np.sqrt(sx * sx + sy * sy)
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.where(sx == 0, math.pi / 2, np.arctan(sy / np.where(sx == 0, 1.0, sx)))
    return g, angle


def _edge_preservation(
    ga: np.ndarray, aa: np.ndarray, gf: np.ndarray, af: np.ndarray
) -> np.ndarray:
    hi, lo = np.maximum(ga, gf), np.minimum(ga, gf)
    strength = np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), 1.0)
    orientation = 1.0 - np.abs(aa - af) / (math.pi / 2)
    qg = 0.9994 / (1.0 + np.exp(-15.0 * (strength - 0.5)))
    qa = 0.9879 / (1.0 + np.exp(-22.0 * (orientation - 0.8)))
    return qg * qa


def qabf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ga, aa = _edge_strength_angle(a)
    gb, ab = _edge_strength_angle(b)
    gf, af = _edge_strength_angle(f)
    weight = float((ga + gb).sum())
    if weight <= 0:
        return float("nan")
    q = _edge_preservation(ga, aa, gf, af) * ga + _edge_preservation(gb, ab, gf, af) * gb
    return float(q.sum() / weight)


def ssim(
    x: np.ndarray,
    y: np.ndarray,
    data_range: float = DEFAULT_CONVENTION.ssim_data_range,
    win_size: int = 7,
) -> float:
    """Mean SSIM of two grey images (uniform window, sample covariance), 1 for x == y."""
    if min(x.shape) < win_size:
        raise ValueError(f"SSIM needs images of at least {win_size}x{win_size} pixels")
    x, y = x.astype(np.float64), y.astype(np.float64)

    def mean(img: np.ndarray) -> np.ndarray:
        return cv2.blur(img, (win_size, win_size), borderType=cv2.BORDER_REFLECT)

    n = win_size * win_size
    cov_norm = n / (n - 1.0)
    ux, uy = mean(x), mean(y)
    vx = cov_norm * (mean(x * x) - ux * ux)
    vy = cov_norm * (mean(y * y) - uy * uy)
    vxy = cov_norm * (mean(x * y) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    pad = (win_size - 1) // 2
    return float(s[pad : x.shape[0] - pad, pad : x.shape[1] - pad].mean())


# --------------------------------------------------------------------------- all at once
def fusion_metrics(
    fused_rgb: np.ndarray,
    vis_rgb: np.ndarray,
    ir: np.ndarray,
    convention: FusionConvention = DEFAULT_CONVENTION,
) -> dict:
    """All nine metrics of one fused image against its sources (uint8, same H×W)."""
    f = to_gray(fused_rgb, "fused image")
    a = to_gray(vis_rgb, "visible image")
    b = to_gray(ir, "infrared image")
    if not f.shape == a.shape == b.shape:
        raise ValueError(
            f"fused {f.shape}, visible {a.shape} and infrared {b.shape} must have the same size"
        )
    base, dr = MI_UNITS[convention.mi_units], convention.ssim_data_range
    return {
        "EN": entropy(f),
        "SD": standard_deviation(f),
        "SF": spatial_frequency(f),
        "AG": average_gradient(f),
        "MI": mutual_information(f, a, base) + mutual_information(f, b, base),
        "SCD": scd(f, a, b),
        "VIF": vif(a, f) + vif(b, f),
        "Qabf": qabf(f, a, b),
        "SSIM": ssim(f, a, dr) + ssim(f, b, dr),
    }
