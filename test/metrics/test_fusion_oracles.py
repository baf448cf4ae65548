"""Fusion metrics against a second, deliberately plain implementation written here.

Nothing below calls ``sccosf_ros.metrics.fusion``'s helpers: histograms are counted with
``collections.Counter``, filters are explicit window sums (``sliding_window_view``), the
Sobel responses are true convolutions with zero padding (as CDDFuse's ``convolve2d``), and
SSIM is computed window by window. The images are small and *different* from each other
(fused = a blend of the sources plus noise), so VIF and Qabf are checked away from their
identical-image values. Plus hand-worked values where a closed form exists.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from sccosf_ros.metrics import fusion_metrics
from sccosf_ros.metrics.fusion import FusionConvention

SIZE = 96  # VIF's four scales all fit: 96 → 80 → 40 → 32 → 16 → 12 → 6 → 4


def _smooth_noise(rng: np.random.Generator, size: int, passes: int) -> np.ndarray:
    img = rng.random((size, size))
    for _ in range(passes):  # box blur by shifted means (no cv2): texture, not white noise
        img = (img + np.roll(img, 1, 0) + np.roll(img, 1, 1) + np.roll(img, (1, 1), (0, 1))) / 4
    return img


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(11)
    ramp = np.linspace(0, 1, SIZE)[None, :]
    vis = 40 + 150 * (0.5 * ramp + 0.5 * (_smooth_noise(rng, SIZE, 3) - 0.5) * 4).clip(0, 1)
    ir = 30 + 180 * (_smooth_noise(rng, SIZE, 5) - 0.5).clip(-0.5, 0.5) * 2 + 90
    ir[30:60, 20:50] += 60  # a warm body
    a = np.clip(np.round(vis), 0, 255).astype(np.uint8)
    b = np.clip(np.round(ir), 0, 255).astype(np.uint8)
    fused = 0.6 * a + 0.4 * b + rng.normal(0, 4, a.shape)
    f = np.clip(np.round(fused), 0, 255).astype(np.uint8)
    assert len({a.tobytes(), b.tobytes(), f.tobytes()}) == 3
    return f, a, b


# --------------------------------------------------------------------------- the oracle
def _entropy_bits(x: np.ndarray) -> float:
    counts = Counter(x.ravel().tolist())
    n = x.size
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _sd(x: np.ndarray) -> float:
    v = x.ravel().astype(float).tolist()
    mean = sum(v) / len(v)
    return math.sqrt(sum((t - mean) ** 2 for t in v) / len(v))


def _sf(x: np.ndarray) -> float:
    x = x.astype(float)
    rows = (x[:, 1:] - x[:, :-1]) ** 2
    cols = (x[1:, :] - x[:-1, :]) ** 2
    return math.sqrt(rows.mean() + cols.mean())


def _ag(x: np.ndarray) -> float:
    x = x.astype(float)
    gx, gy = np.empty_like(x), np.empty_like(x)
    gx[:, 1:-1] = (x[:, 2:] - x[:, :-2]) / 2
    gx[:, 0], gx[:, -1] = x[:, 1] - x[:, 0], x[:, -1] - x[:, -2]
    gy[1:-1, :] = (x[2:, :] - x[:-2, :]) / 2
    gy[0, :], gy[-1, :] = x[1, :] - x[0, :], x[-1, :] - x[-2, :]
    return float(np.mean(np.sqrt((gx**2 + gy**2) / 2)))


def _mi(x: np.ndarray, y: np.ndarray, log=math.log) -> float:
    """H(X) + H(Y) - H(X, Y) from counted grey levels."""
    n = x.size

    def h(counts: Counter) -> float:
        return -sum(c / n * log(c / n) for c in counts.values())

    xs, ys = x.ravel().tolist(), y.ravel().tolist()
    return h(Counter(xs)) + h(Counter(ys)) - h(Counter(zip(xs, ys)))


def _scd(f, a, b) -> float:
    f, a, b = (t.astype(float).ravel() for t in (f, a, b))
    return float(np.corrcoef(a, f - b)[0, 1] + np.corrcoef(b, f - a)[0, 1])


def _fspecial_gaussian(n: int) -> np.ndarray:
    """MATLAB ``fspecial('gaussian', n, n/5)``."""
    sigma = n / 5
    half = (n - 1) / 2
    h = np.array(
        [
            [math.exp(-((i - half) ** 2 + (j - half) ** 2) / (2 * sigma**2)) for j in range(n)]
            for i in range(n)
        ]
    )
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def _valid(img: np.ndarray, win: np.ndarray) -> np.ndarray:
    """MATLAB ``filter2(win, img, 'valid')``: window sums over fully covered positions."""
    if img.shape[0] < win.shape[0] or img.shape[1] < win.shape[1]:
        return np.zeros((0, 0))
    return np.einsum("ijkl,kl->ij", sliding_window_view(img, win.shape), win)


def _vif(ref: np.ndarray, dist: np.ndarray) -> float:
    """vifp_mscale.m (Sheikh & Bovik's pixel-domain VIF), sigma_nsq = 2, written out."""
    ref, dist = ref.astype(float), dist.astype(float)
    num = den = 0.0
    for scale in (1, 2, 3, 4):
        win = _fspecial_gaussian(2 ** (4 - scale + 1) + 1)
        if scale > 1:
            ref = _valid(ref, win)[::2, ::2]
            dist = _valid(dist, win)[::2, ::2]
        mu1, mu2 = _valid(ref, win), _valid(dist, win)
        if mu1.size == 0:
            break
        s1 = _valid(ref * ref, win) - mu1 * mu1
        s2 = _valid(dist * dist, win) - mu2 * mu2
        s12 = _valid(ref * dist, win) - mu1 * mu2
        s1[s1 < 0], s2[s2 < 0] = 0, 0
        g = s12 / (s1 + 1e-10)
        sv = s2 - g * s12
        g[s1 < 1e-10] = 0
        sv[s1 < 1e-10] = s2[s1 < 1e-10]
        s1[s1 < 1e-10] = 0
        g[s2 < 1e-10] = 0
        sv[s2 < 1e-10] = 0
        sv[g < 0] = s2[g < 0]
        g[g < 0] = 0
        sv[sv <= 1e-10] = 1e-10
        num += np.log10(1 + g**2 * s1 / (sv + 2)).sum()
        den += np.log10(1 + s1 / 2).sum()
    return float(num / den)


def _conv_same(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """scipy ``convolve2d(img, k, 'same')`` with zeros outside: the kernel is flipped."""
    padded = np.pad(img.astype(float), 1)
    return _valid(padded, k[::-1, ::-1])


def _qabf(f, a, b) -> float:
    sobel_y = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], float)
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)

    def strength_angle(img):
        sx, sy = _conv_same(img, sobel_x), _conv_same(img, sobel_y)
        angle = np.full(img.shape, math.pi / 2)
        nz = sx != 0
        angle[nz] = np.arctan(sy[nz] / sx[nz])
        return np.hypot(sx, sy), angle

    def preservation(gs, as_, gf, af):
        ratio = np.ones_like(gs)  # documented rule: min/max, 1 where both are 0
        lo, hi = np.minimum(gs, gf), np.maximum(gs, gf)
        ratio[hi > 0] = lo[hi > 0] / hi[hi > 0]
        orient = 1 - np.abs(as_ - af) / (math.pi / 2)
        return (
            0.9994
            / (1 + np.exp(-15 * (ratio - 0.5)))
            * 0.9879
            / (1 + np.exp(-22 * (orient - 0.8)))
        )

    (ga, aa), (gb, ab), (gf, af) = strength_angle(a), strength_angle(b), strength_angle(f)
    q = preservation(ga, aa, gf, af) * ga + preservation(gb, ab, gf, af) * gb
    return float(q.sum() / (ga + gb).sum())


def _ssim(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    """Mean over the pixels whose 7×7 window fits inside, sample (co)variances."""
    x, y = x.astype(float), y.astype(float)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(x.shape[0] - 6):
        for j in range(x.shape[1] - 6):
            px, py = x[i : i + 7, j : j + 7].ravel(), y[i : i + 7, j : j + 7].ravel()
            cov = np.cov(px, py)  # ddof 1
            mx, my = px.mean(), py.mean()
            values.append(
                (2 * mx * my + c1)
                * (2 * cov[0, 1] + c2)
                / ((mx**2 + my**2 + c1) * (cov[0, 0] + cov[1, 1] + c2))
            )
    return float(np.mean(values))


# --------------------------------------------------------------------------- the checks
@pytest.mark.parametrize(
    "convention",
    [FusionConvention(), FusionConvention(ssim_data_range=255.0, mi_units="bits")],
    ids=["cddfuse", "textbook-bits"],
)
def test_every_metric_matches_the_second_implementation(images, convention):
    f, a, b = images
    got = fusion_metrics(f, a, b, convention)
    log = math.log2 if convention.mi_units == "bits" else math.log
    want = {
        "EN": _entropy_bits(f),
        "SD": _sd(f),
        "SF": _sf(f),
        "AG": _ag(f),
        "MI": _mi(f, a, log) + _mi(f, b, log),
        "SCD": _scd(f, a, b),
        "VIF": _vif(a, f) + _vif(b, f),
        "Qabf": _qabf(f, a, b),
        "SSIM": _ssim(f, a, convention.ssim_data_range) + _ssim(f, b, convention.ssim_data_range),
    }
    assert set(got) == set(want)
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-7, abs=1e-9), name
    # away from the identical-image values the old tests pinned (VIF 2, Qabf at its maximum)
    assert 0.2 < got["VIF"] < 1.9 and 0.2 < got["Qabf"] < 0.9


def test_fused_rgb_is_read_as_its_601_gray(images):
    f, a, b = images
    rgb = np.dstack([f, f, f])  # equal channels: gray = the channel, whatever the weights
    assert fusion_metrics(rgb, np.dstack([a, a, a]), b) == fusion_metrics(f, a, b)


def test_qabf_by_hand_when_the_fused_image_halves_the_visible_edges():
    # F = A / 2 and a black infrared (no edge, not even at the zero-padded border): every
    # visible edge keeps its angle at half strength and only A's edges carry weight
    # → Qabf = Qg(0.5) · Qa(1) exactly.
    a = np.zeros((16, 16), np.uint8)
    a[:, 8:] = 200
    a[5:9, 2:6] = 120
    f = a // 2
    b = np.zeros_like(a)
    expected = 0.9994 / 2 * 0.9879 / (1 + math.exp(-22 * 0.2))
    assert fusion_metrics(f, a, b)["Qabf"] == pytest.approx(expected, rel=1e-12)


def test_vif_by_hand_for_a_brightness_shift_and_a_flat_source(images):
    # F = A + 10: the distortion channel is lossless (g = 1, no noise) → VIF(A, F) = 1;
    # a flat infrared has no information to keep → counts as 1 (CDDFuse convention).
    _, a, _ = images
    a = np.minimum(a, 245)
    f = a + 10
    assert fusion_metrics(f, a, np.full_like(a, 50))["VIF"] == pytest.approx(2.0, abs=1e-6)


def test_mi_and_entropy_by_hand():
    # F takes 4 equally likely levels; A keeps its top bit, B is independent of F's levels.
    f = np.array([[0, 64, 128, 192]] * 8, np.uint8).repeat(2, axis=1)  # 8×8
    a = np.where(f >= 128, 255, 0).astype(np.uint8)
    b = np.tile(np.array([[10], [20]], np.uint8), (4, 8))  # rows alternate, columns don't
    m = fusion_metrics(
        np.dstack([f] * 3), np.dstack([a] * 3), b, FusionConvention(mi_units="bits")
    )
    assert m["EN"] == pytest.approx(2.0)  # log2 4
    assert m["MI"] == pytest.approx(1.0)  # 1 bit shared with A, 0 with B
    assert m["SD"] == pytest.approx(math.sqrt(np.mean((f - 96.0) ** 2)))
