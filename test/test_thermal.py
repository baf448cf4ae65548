"""Thermal normalisation keeps raw 16-bit counts visible (unlike cv_bridge's 255/65535 scaling)."""

import numpy as np
import pytest

from sccosf_ros.thermal import ThermalNorm, crop_thermal


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


# --------------------------------------------------------------------------- temperature
def _celsius_scene(engine_c: float | None = None) -> np.ndarray:
    """A 15 °C street, a 33 °C person and optionally a hot engine, in °C (float32)."""
    t = np.full((40, 60), 15.0, np.float32)
    t[10:30, 5:15] = 33.0
    if engine_c is not None:
        t[20:35, 35:55] = engine_c
    return t


def _as_units(celsius: np.ndarray, units: str) -> np.ndarray:
    kelvin = celsius.astype(np.float64) + 273.15
    if units == "centikelvin":
        return np.round(kelvin * 100).astype(np.uint16)
    if units == "decikelvin":
        return np.round(kelvin * 10).astype(np.uint16)
    if units == "kelvin":
        return kelvin.astype(np.float32)
    return celsius.astype(np.float32)


@pytest.mark.parametrize("units", ["centikelvin", "decikelvin", "kelvin", "celsius"])
def test_temperature_window_reads_each_unit_as_degrees(units):
    norm = ThermalNorm(mode="temperature", units=units, window_low=-10.0, window_high=40.0)
    out = norm(_as_units(_celsius_scene(), units))
    # decikelvin rounds 288.15 K to 0.1 K: 0.05 K of a 50 K window
    assert out[0, 0] == pytest.approx(25 / 50, abs=2e-3)  # 15 °C
    assert out[20, 10] == pytest.approx(43 / 50, abs=2e-3)  # 33 °C


def test_counts_need_a_scale_for_temperature_and_then_use_it():
    with pytest.raises(ValueError, match="set the units"):
        ThermalNorm(mode="temperature")
    # e.g. a core sending 0.04 K per count above 0 °C
    norm = ThermalNorm(mode="temperature", scale=0.04, offset=0.0, window_low=0, window_high=40)
    np.testing.assert_allclose(norm(np.array([[0, 500, 2000]], np.uint16)), [[0, 0.5, 1]])


def test_temperature_window_must_be_ordered_and_units_known():
    with pytest.raises(ValueError, match="low < high"):
        ThermalNorm(mode="temperature", units="celsius", window_low=40, window_high=40)
    with pytest.raises(ValueError, match="units 'fahrenheit'"):
        ThermalNorm(units="fahrenheit")


@pytest.mark.parametrize(("units", "engine_c"), [("centikelvin", 150.0), ("celsius", 400.0)])
def test_a_hot_engine_leaves_the_person_alone_in_temperature_mode_only(units, engine_c):
    temp = ThermalNorm(mode="temperature", units=units)
    minmax = ThermalNorm(mode="minmax")
    calm, hot = _as_units(_celsius_scene(), units), _as_units(_celsius_scene(engine_c), units)
    person = (slice(10, 30), slice(5, 15))
    p_calm, p_hot = temp(calm)[person].mean(), temp(hot)[person].mean()
    assert abs(p_hot - p_calm) <= 0.01 * p_calm
    m_calm, m_hot = minmax(calm)[person].mean(), minmax(hot)[person].mean()
    assert abs(m_hot - m_calm) > 0.5 * m_calm  # the same person turns dark


def test_old_checkpoint_records_take_the_new_defaults():
    norm = ThermalNorm.from_dict({"mode": "fixed", "low": 7000.0, "high": 9000.0})
    assert norm.units == "counts" and (norm.window_low, norm.window_high) == (-10.0, 40.0)
    assert ThermalNorm.from_dict(norm.to_dict()) == norm


# --------------------------------------------------------------------------- crop
def test_crop_cuts_rows_and_columns_and_refuses_to_leave_nothing():
    t = np.arange(514 * 640, dtype=np.uint32).reshape(514, 640).astype(np.uint16)
    assert crop_thermal(t, (0, 0, 0, 0)) is t
    out = crop_thermal(t, (0, 2, 0, 0))
    assert out.shape == (512, 640) and np.array_equal(out, t[:512])
    out = crop_thermal(t, (1, 2, 3, 4))
    assert out.shape == (511, 633) and out.flags.c_contiguous and out[0, 0] == t[1, 3]
    with pytest.raises(ValueError, match=r"leaves nothing of the 640x514 thermal image"):
        crop_thermal(t, (300, 300, 0, 0))
