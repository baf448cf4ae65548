"""Thermal normalisation keeps raw 16-bit counts visible (unlike cv_bridge's 255/65535 scaling)."""

import numpy as np
import pytest

from sccosf_ros.thermal import ThermalNorm


def test_auto_uint8_is_divided_by_255():
    t = np.array([[0, 51, 255]], np.uint8)
    np.testing.assert_allclose(ThermalNorm()(t), [[0.0, 0.2, 1.0]], atol=1e-7)


def test_auto_uint16_raw_counts_use_the_full_range():
    rng = np.random.default_rng(0)
    counts = (7400 + rng.integers(0, 600, (60, 80))).astype(np.uint16)
    out = ThermalNorm()(counts)
    assert out.dtype == np.float32
    # cv_bridge's mono16 → mono8 would give at most 8000*255/65535 ≈ 31 of 255: nearly black.
    assert out.max() == pytest.approx(1.0) and out.min() == pytest.approx(0.0)
    assert out.std() > 0.2


def test_fixed_range_maps_linearly_and_clips():
    norm = ThermalNorm(mode="fixed", low=7000, high=9000)
    t = np.array([[6000, 7000, 8000, 9000, 12000]], np.uint16)
    np.testing.assert_allclose(norm(t), [[0, 0, 0.5, 1, 1]], atol=1e-6)


def test_minmax_and_percentile_and_nan():
    t = np.array([[1.0, 2.0, np.nan], [3.0, 5.0, np.inf]], np.float32)
    out = ThermalNorm(mode="minmax")(t)
    assert np.isfinite(out).all()
    assert out[0, 0] == 0.0 and out[1, 1] == 1.0 and out[0, 2] == 0.0
    hot = np.zeros((100, 100), np.uint16)
    hot[:] = 1000
    hot[:50] = 2000
    hot[0, 0] = 60000  # one hot pixel must not squash the rest
    p = ThermalNorm(mode="percentile")(hot)
    assert p[60, 60] == 0.0 and p[10, 10] == 1.0


def test_constant_frame_does_not_divide_by_zero():
    out = ThermalNorm(mode="minmax")(np.full((4, 4), 500, np.uint16))
    assert np.isfinite(out).all()


def test_three_channel_thermal_is_accepted():
    t = np.dstack([np.full((2, 2), 128, np.uint8)] * 3)
    np.testing.assert_allclose(ThermalNorm()(t), 128 / 255, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "bogus"},
        {"mode": "fixed", "low": 5, "high": 5},
        {"mode": "percentile", "percentile_low": 90, "percentile_high": 10},
    ],
)
def test_bad_settings_fail_clearly(kwargs):
    with pytest.raises(ValueError):
        ThermalNorm(**kwargs)
