"""Emulated thermal cameras: one scene temperature in every unit, telemetry rows, FFC bursts."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.synthetic import render_scene
from sccosf_ros.synthetic.camera_models import CAMERAS
from sccosf_ros.synthetic.sensor import celsius_from_counts, counts_from_celsius
from sccosf_ros.synthetic.thermal_camera import (
    FFC_FROZEN,
    FFC_SHUTTER,
    SHUTTER_C,
    ThermalCamera,
    ThermalStream,
    camera_image,
    ffc_schedule,
)
from sccosf_ros.thermal import UNITS


def test_counts_and_celsius_are_inverse():
    c = np.array([6000.0, 7000.0, 8123.0, 9000.0], np.float32)
    np.testing.assert_allclose(counts_from_celsius(celsius_from_counts(c)), c, atol=1e-2)


@pytest.fixture(scope="module")
def counts():
    return render_scene(3, height=60, width=80, night=False).thermal16


def _celsius(units: str, image: np.ndarray) -> np.ndarray:
    scale, offset = UNITS[units]
    return image.astype(np.float64) * scale + offset


def test_every_unit_shows_the_same_temperatures(counts):
    """centikelvin, decikelvin and °C of one scene read back as the same °C (up to rounding)."""
    images = {
        u: camera_image(ThermalCamera(u, "x", u, None), counts)
        for u in ("centikelvin", "decikelvin", "celsius")
    }
    assert images["centikelvin"].dtype == np.uint16 and images["celsius"].dtype == np.float32
    truth = celsius_from_counts(counts)
    for units, step in (("centikelvin", 0.01), ("decikelvin", 0.1), ("celsius", 1e-4)):
        err = np.abs(_celsius(units, images[units]) - truth).max()
        assert err <= step / 2 + 1e-3, units
    # a person (~34 °C) is in the scene and reads warm in every unit
    assert 30.0 < np.percentile(images["celsius"], 99.5) < 60.0


def test_camera_sizes_encodings_and_telemetry(counts):
    for cam in CAMERAS.values():
        stream = ThermalStream(cam, seed=3, scene_size=counts.shape)
        frame = stream.frame(0, lambda: counts, None)
        rows, cols = cam.size or counts.shape
        assert frame.shape == (rows + cam.telemetry_rows, cols), cam.name
        expected = {"mono16": np.uint16, "16UC1": np.uint16, "mono8": np.uint8}
        assert frame.dtype == expected.get(cam.encoding, np.float32)
    raw = ThermalStream(CAMERAS["boson640_raw"], 3, counts.shape)
    a, b = raw.frame(0, lambda: counts, None), raw.frame(1, lambda: counts, None)
    np.testing.assert_array_equal(a[:-2], b[:-2])  # same scene, same image rows
    assert not np.array_equal(a[-2:], b[-2:])  # telemetry carries a frame counter
    assert a[-2:].max() > 4 * a[:-2].max()  # and is garbage to the image's range


def test_default_camera_is_the_renderers_counts(counts):
    stream = ThermalStream(None, 3, counts.shape)
    assert stream.encoding == "mono16"
    assert stream.frame(0, lambda: counts, None) is counts


def test_ffc_schedule_bursts():
    times = [0.004 + i / 8.7 for i in range(40)]  # 4.6 s at 8.7 Hz
    kinds = ffc_schedule(times, period=2.0, duration=0.4)
    for lo in (2.0, 4.0):  # one ~0.4 s burst every 2 s: 3 or 4 frames at 8.7 Hz
        burst = [k for t, k in zip(times, kinds, strict=True) if lo <= t < lo + 0.4]
        n_frozen = (len(burst) + 1) // 2
        assert len(burst) in (3, 4)
        assert burst == [FFC_FROZEN] * n_frozen + [FFC_SHUTTER] * (len(burst) - n_frozen)
    assert sum(k is not None for k in kinds) == 7
    assert ffc_schedule(times, 0.0, 0.4) == [None] * len(times)


@pytest.mark.parametrize("name", sorted(CAMERAS))
def test_ffc_frames_are_frozen_then_near_uniform(counts, name):
    cam = CAMERAS[name]
    stream = ThermalStream(cam, 3, counts.shape)
    n = cam.telemetry_rows
    image = slice(0, -n if n else None)
    good = stream.frame(0, lambda: counts, None)
    frozen = stream.frame(1, lambda: counts + 100, FFC_FROZEN)  # the scene moved on: not shown
    shutter = stream.frame(2, lambda: counts, FFC_SHUTTER)
    np.testing.assert_array_equal(frozen[image], good[image])
    flat = shutter[image].astype(np.float64)
    assert flat.std() < 0.05 * max(good[image].astype(np.float64).std(), 1.0)
    if cam.units in UNITS and UNITS[cam.units] is not None:
        assert abs(_celsius(cam.units, shutter[image]).mean() - SHUTTER_C) < 0.1
