"""Fusion metrics against hand-computed and independently computed values."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from sccosf_ros.metrics import FUSION_METRICS, fusion_metrics
from sccosf_ros.metrics import fusion as fm


def test_entropy_constant_and_uniform():
    assert fm.entropy(np.full((10, 10), 77.0)) == 0.0
    uniform = np.arange(256, dtype=np.float64).reshape(16, 16)
    assert fm.entropy(uniform) == pytest.approx(8.0)
    two_levels = np.array([[0.0, 255.0], [0.0, 255.0]])
    assert fm.entropy(two_levels) == pytest.approx(1.0)


def test_standard_deviation():
    assert fm.standard_deviation(np.full((4, 4), 9.0)) == 0.0
    assert fm.standard_deviation(np.array([[0.0, 2.0], [0.0, 2.0]])) == pytest.approx(1.0)


def test_spatial_frequency_by_hand():
    img = np.array([[0.0, 1.0], [2.0, 4.0]])
    # row differences 1, 2 → mean square 2.5; column differences 2, 3 → 6.5
    assert fm.spatial_frequency(img) == pytest.approx(math.sqrt(2.5 + 6.5))
    assert fm.spatial_frequency(np.full((3, 3), 5.0)) == 0.0


def test_average_gradient_by_hand():
    img = np.array([[0.0, 1.0, 4.0], [0.0, 1.0, 4.0]])
    # Gx: one-sided 1, central (4 - 0)/2 = 2, one-sided 3; Gy = 0
    assert fm.average_gradient(img) == pytest.approx((1 + 2 + 3) / 3 / math.sqrt(2))
    img2 = np.array([[0.0, 1.0], [2.0, 4.0]])
    per_pixel = [
        math.sqrt((1 + 4) / 2),
        math.sqrt((1 + 9) / 2),
        math.sqrt((4 + 4) / 2),
        math.sqrt((4 + 9) / 2),
    ]
    assert fm.average_gradient(img2) == pytest.approx(np.mean(per_pixel))


def test_mutual_information_in_nats():
    x = np.array([0.0, 0.0, 255.0, 255.0])
    assert fm.mutual_information(x, x) == pytest.approx(math.log(2))
    assert fm.mutual_information(x, np.array([0.0, 255.0, 0.0, 255.0])) == pytest.approx(0.0)
    uniform = np.arange(256, dtype=np.float64)
    assert fm.mutual_information(uniform, uniform) == pytest.approx(math.log(256))
    assert fm.mutual_information(uniform, np.zeros(256)) == pytest.approx(0.0)


def test_scd_by_construction():
    rng = np.random.default_rng(1)
    a, b = rng.random((20, 20)) * 100, rng.random((20, 20)) * 100
    # F = A + B: F - B = A and F - A = B, both correlations are 1
    assert fm.scd(a + b, a, b) == pytest.approx(2.0)
    # F = A = B: the differences are constant → correlations count as 0
    assert fm.scd(a, a, a) == 0.0


def test_valid_filter_matches_a_direct_sum():
    rng = np.random.default_rng(2)
    img, k = rng.random((12, 15)), rng.random((5, 5))
    direct = np.array(
        [[np.sum(img[i : i + 5, j : j + 5] * k) for j in range(11)] for i in range(8)]
    )
    np.testing.assert_allclose(fm._filter_valid(img, k), direct, rtol=1e-10)


def _texture(seed: int, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.random((size, size)) * 255, (5, 5), 1.5)
    return np.round(img)


def test_ssim_identity_and_constant_images():
    x = _texture(3)
    assert fm.ssim(x, x) == pytest.approx(1.0)
    assert fm.ssim(x, 255 - x) < 0
    a, b = np.full((16, 16), 100.0), np.full((16, 16), 50.0)
    for data_range in (255.0, 2.0):  # textbook, and the CDDFuse evaluator's default
        c1 = (0.01 * data_range) ** 2
        expected = (2 * 100 * 50 + c1) / (100**2 + 50**2 + c1)
        assert fm.ssim(a, b, data_range) == pytest.approx(expected)
    assert fm.ssim(a, b) == fm.ssim(a, b, 2.0)  # the default convention


def test_conventions_change_ssim_and_mi_as_documented():
    x, y = _texture(5), _texture(6)
    rgb = np.dstack([x.astype(np.uint8)] * 3)
    ir = y.astype(np.uint8)
    default = fusion_metrics(rgb, rgb, ir)
    bits = fusion_metrics(rgb, rgb, ir, fm.FusionConvention(mi_units="bits"))
    assert bits["MI"] == pytest.approx(default["MI"] / math.log(2))
    textbook = fusion_metrics(rgb, rgb, ir, fm.FusionConvention(ssim_data_range=255.0))
    assert textbook["SSIM"] == pytest.approx(fm.ssim(x, x, 255.0) + fm.ssim(x, y, 255.0))
    assert textbook["SSIM"] != pytest.approx(default["SSIM"], abs=1e-6)
    for k in ("EN", "SD", "VIF", "Qabf"):
        assert bits[k] == default[k] == textbook[k]
    assert fm.DEFAULT_CONVENTION.name == "cddfuse"
    assert "data range 2" in fm.DEFAULT_CONVENTION.describe()
    with pytest.raises(ValueError, match="mi_units"):
        fm.FusionConvention(mi_units="hartleys")


def test_vif_and_qabf_on_identical_images():
    x = _texture(4)
    assert fm.vif(x, x) == pytest.approx(1.0, abs=1e-6)
    assert fm.vif(x, np.full_like(x, x.mean())) < 0.05  # nothing of the reference survives
    q_max = 0.9994 / (1 + math.exp(-15 * 0.5)) * 0.9879 / (1 + math.exp(-22 * 0.2))
    assert fm.qabf(x, x, x) == pytest.approx(q_max)
    assert fm.qabf(np.full_like(x, 128.0), x, _texture(5)) < 0.5 * q_max
    assert math.isnan(fm.qabf(x, np.zeros_like(x), np.zeros_like(x)))  # no source edges


def test_fusion_metrics_of_a_perfect_copy():
    gray = _texture(6).astype(np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    m = fusion_metrics(rgb, rgb, gray)
    assert list(m) == list(FUSION_METRICS)
    assert m["SSIM"] == pytest.approx(2.0)  # summed over both sources
    assert m["VIF"] == pytest.approx(2.0, abs=1e-6)
    # a copy shares all its information: MI(F, A) = H(F), counted here (nats, and EN in bits)
    p = np.bincount(gray.ravel(), minlength=256) / gray.size
    p = p[p > 0]
    assert m["MI"] == pytest.approx(2 * -(p * np.log(p)).sum())
    assert m["EN"] == pytest.approx(-(p * np.log2(p)).sum())
    assert m["SD"] == pytest.approx(gray.std())
    # every edge kept at full strength and angle: Qg(1) · Qa(1) (the identical-image maximum)
    q_max = 0.9994 / (1 + math.exp(-15 * 0.5)) * 0.9879 / (1 + math.exp(-22 * 0.2))
    assert m["Qabf"] == pytest.approx(q_max)
    assert m["SCD"] == 0.0


def test_fusion_metrics_on_rgb_use_rounded_601_gray():
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    gray = fm.to_gray(rgb)
    expect = np.round(rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114)
    assert np.abs(gray - expect).max() <= 1  # cv2's fixed-point rounding
    m = fusion_metrics(rgb, rgb, rng.integers(0, 256, (32, 40), dtype=np.uint8))
    assert all(math.isfinite(v) for v in m.values())


def test_fusion_metrics_input_errors():
    img = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(TypeError, match="uint8"):
        fusion_metrics(img.astype(np.float32), img, img[..., 0])
    with pytest.raises(ValueError, match="same size"):
        fusion_metrics(img, img, np.zeros((16, 17), np.uint8))
