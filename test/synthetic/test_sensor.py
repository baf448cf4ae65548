"""The cameras: raw thermal counts, their 8-bit map, and a radiometric camera's range."""

from __future__ import annotations

import numpy as np

from sccosf_ros.synthetic import (
    TEMPERATURE_RANGE_C,
    THERMAL_COUNTS,
    counts_from_celsius,
    render_scene,
    thermal8_from_counts,
)
from sccosf_ros.thermal import ThermalNorm

H, W = 96, 128


def test_counts_from_celsius_is_the_linear_map_of_the_ranges():
    (t0, t1), (c0, c1) = TEMPERATURE_RANGE_C, THERMAL_COUNTS
    np.testing.assert_allclose(counts_from_celsius(np.array([t0, t1])), [c0, c1])
    np.testing.assert_array_equal(
        thermal8_from_counts(np.array([0, c0, c1, 65535])), [0, 0, 255, 255]
    )


def test_thermal16_maps_linearly_onto_thermal8():
    scene = render_scene(3, H, W)
    lo, hi = THERMAL_COUNTS
    np.testing.assert_array_equal(scene.thermal8, thermal8_from_counts(scene.thermal16))
    expect = np.clip((scene.thermal16.astype(np.float64) - lo) * 255.0 / (hi - lo), 0, 255)
    assert np.abs(scene.thermal8 - expect).max() <= 0.5 + 1e-6
    fixed = ThermalNorm(mode="fixed", low=lo, high=hi)(scene.thermal16)
    assert np.abs(fixed - scene.thermal8 / 255.0).max() <= 0.5 / 255 + 1e-6
    # raw counts look like a radiometric camera's, not a stretched 8-bit image
    assert scene.thermal16.min() > 4000 and scene.thermal16.max() < 12000
    assert int(scene.thermal16.max()) - int(scene.thermal16.min()) > 300


def test_sensor_noise_changes_with_t_but_the_fixed_pattern_does_not():
    a, b = render_scene(8, H, W, night=False, t=0.0), render_scene(8, H, W, night=False, t=0.0)
    np.testing.assert_array_equal(a.rgb, b.rgb)
    c = render_scene(8, H, W, night=False, t=0.001)  # agents barely move, noise is new
    assert not np.array_equal(a.rgb, c.rgb)
    diff = a.thermal16.astype(np.int32) - c.thermal16.astype(np.int32)
    assert np.abs(np.median(diff)) <= 1  # the column pattern and textures stay
