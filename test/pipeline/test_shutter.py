"""Shutter / FFC frames: frozen repeats and closed-shutter frames in counts, °C and 8-bit AGC are
told apart from real (also dark, low-contrast) scenes, on rosbags Image messages."""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from sccosf_ros.bag.bag_io import IMAGE, make_header
from sccosf_ros.pipeline.image_codec import decode_thermal, encode_image
from sccosf_ros.pipeline.shutter import (
    ShutterCheck,
    kelvin_per_unit,
    robust_spread,
    same_frame,
)
from sccosf_ros.thermal import ThermalNorm, crop_thermal

STORE = get_typestore(Stores.ROS2_HUMBLE)
H, W = 120, 160
RNG = np.random.default_rng(7)


def _msg(array: np.ndarray, encoding: str, t_ns: int = 0):
    header = make_header(STORE, t_ns, "thermal")
    return encode_image(array, encoding, header=header, msg_type=STORE.types[IMAGE])


def _shutter(level: float, noise: float, dtype) -> np.ndarray:
    """A closed shutter: one temperature plus sensor noise (and two dead pixels)."""
    frame = level + RNG.normal(0.0, noise, (H, W))
    frame[3, 5], frame[60, 90] = level * 1.5, 0.0  # dead pixels: the robust range ignores them
    return frame.astype(dtype)


def _night(low: float, high: float, noise: float, dtype) -> np.ndarray:
    """A dark, low-contrast scene: a smooth gradient from ``low`` to ``high`` plus noise."""
    ramp = np.linspace(low, high, W)[None, :] + np.linspace(0, (high - low) / 4, H)[:, None]
    return (ramp + RNG.normal(0.0, noise, (H, W))).astype(dtype)


def _check(check: ShutterCheck, msg, norm=None, min_spread=0.5, frozen=False, crop=(0, 0, 0, 0)):
    return check.check(
        msg,
        frozen=frozen,
        min_spread_k=min_spread,
        decode=lambda m: crop_thermal(decode_thermal(m), crop),
        norm=norm,
    )


# (frame, encoding, units) — closed shutters, each in its camera's values
SHUTTERS = {
    "raw counts": (_shutter(8000, 3.0, np.uint16), "mono16", "counts"),
    "centikelvin": (_shutter(29815, 5.0, np.uint16), "16UC1", "centikelvin"),
    "decikelvin": (_shutter(2981, 0.5, np.uint16), "mono16", "decikelvin"),
    "32FC1 celsius": (_shutter(25.0, 0.05, np.float32), "32FC1", "celsius"),
    "32FC1 no units": (_shutter(25.0, 0.05, np.float32), "32FC1", "counts"),
    "32FC1 kelvin": (_shutter(298.0, 0.05, np.float32), "32FC1", "kelvin"),
    "mono8 AGC": (_shutter(128, 1.0, np.uint8), "mono8", "counts"),
}
# Real but dull scenes: 2-3 K of contrast at night (the AGC one stretched by the camera).
NIGHTS = {
    "raw counts": (_night(7900, 8150, 3.0, np.uint16), "mono16", "counts"),
    "centikelvin": (_night(27500, 27750, 5.0, np.uint16), "16UC1", "centikelvin"),
    "32FC1 celsius": (_night(2.0, 4.5, 0.05, np.float32), "32FC1", "celsius"),
    "32FC1 no units": (_night(2.0, 4.5, 0.05, np.float32), "32FC1", "counts"),
    "mono8 AGC": (_night(40, 200, 2.0, np.uint8), "mono8", "counts"),
}


@pytest.mark.parametrize("kind", SHUTTERS)
def test_a_closed_shutter_frame_is_skipped(kind):
    frame, encoding, units = SHUTTERS[kind]
    found = _check(ShutterCheck(), _msg(frame, encoding), ThermalNorm(units=units))
    assert found is not None and found.reason == "uniform" and found.new_event
    assert "shutter closed" in found.detail
    # 0 turns the check off
    assert _check(ShutterCheck(), _msg(frame, encoding), ThermalNorm(units=units), 0.0) is None


@pytest.mark.parametrize("kind", NIGHTS)
def test_a_dark_low_contrast_scene_is_not_a_shutter(kind):
    frame, encoding, units = NIGHTS[kind]
    assert _check(ShutterCheck(), _msg(frame, encoding), ThermalNorm(units=units)) is None


def test_counts_with_a_scale_are_read_as_kelvin():
    # 0.04 K per count: the raw shutter's 14 counts of noise are 0.6 K, above 0.5 K
    norm = ThermalNorm(units="counts", scale=0.04, offset=-273.15)
    frame, encoding, _ = SHUTTERS["raw counts"]
    assert kelvin_per_unit(np.dtype(np.uint16), norm) == pytest.approx(0.04)
    spread = robust_spread(frame)
    assert _check(ShutterCheck(), _msg(frame, encoding), norm, min_spread=spread * 0.04 * 1.1)
    assert (
        _check(ShutterCheck(), _msg(frame, encoding), norm, min_spread=spread * 0.04 * 0.9) is None
    )


def test_telemetry_rows_are_cropped_before_the_spread():
    frame = _shutter(8000, 3.0, np.uint16)
    frame[-2:] = RNG.integers(0, 65535, (2, W))  # Boson raw: two telemetry rows
    msg = _msg(frame, "mono16")
    assert _check(ShutterCheck(), msg) is None  # the telemetry hides the shutter
    assert _check(ShutterCheck(), msg, crop=(0, 2, 0, 0)) is not None


def test_a_frozen_frame_is_skipped_until_the_picture_moves():
    scene = _night(7000, 9000, 3.0, np.uint16)
    moved = scene.copy()
    moved[-1, -1] += 1  # one pixel: the strided sample misses it, the full comparison does not
    check = ShutterCheck()
    seq = [_msg(scene, "mono16", t) for t in range(3)] + [_msg(moved, "mono16", 3)]
    found = [_check(check, m, frozen=True) for m in seq]
    assert found[0] is None and found[3] is None
    assert [f.reason for f in found[1:3]] == ["frozen", "frozen"]
    assert [f.new_event for f in found[1:3]] == [True, False]  # one shutter event, two frames
    assert same_frame(scene, scene.copy()) and not same_frame(scene, moved)
    # frozen off (the default): a still image published in a loop is not a shutter
    check = ShutterCheck()
    assert all(_check(check, m) is None for m in seq)


def test_same_frame_needs_the_same_shape_and_type():
    scene = _night(7000, 9000, 3.0, np.uint16)
    assert not same_frame(scene, scene.astype(np.float32))
    assert not same_frame(scene, scene[:, :80])
    assert not same_frame(None, scene)


def test_a_frozen_picture_under_changing_telemetry_rows_is_frozen_after_the_crop():
    # a Boson raw frame: the picture froze, the 2 telemetry rows (a frame counter) did not
    scene = _night(7000, 9000, 3.0, np.uint16)
    frames = []
    for t in range(3):
        f = np.vstack([scene, np.full((2, scene.shape[1]), t, np.uint16)])
        frames.append(_msg(f, "mono16", t))
    check = ShutterCheck()
    found = [_check(check, m, frozen=True, crop=(0, 2, 0, 0)) for m in frames]
    assert found[0] is None and [f.reason for f in found[1:]] == ["frozen", "frozen"]
    check = ShutterCheck()  # without the crop the counter hides the freeze
    assert all(_check(check, m, frozen=True) is None for m in frames)


def test_each_shutter_closure_is_one_event():
    good = _msg(_night(7000, 9000, 3.0, np.uint16), "mono16")
    closed = _msg(SHUTTERS["raw counts"][0], "mono16")
    check = ShutterCheck()
    found = [_check(check, m) for m in (good, closed, closed, good, closed)]
    assert [None if f is None else f.new_event for f in found] == [None, True, False, None, True]


def test_frames_without_finite_values_are_left_to_the_nan_policy():
    frame = np.full((H, W), np.nan, np.float32)
    assert robust_spread(frame) is None
    assert _check(ShutterCheck(), _msg(frame, "32FC1")) is None


def test_tiny_frames_are_never_judged_uniform():
    frame = np.full((8, 8), 8000, np.uint16)  # an 8x8 array may well see one temperature
    assert _check(ShutterCheck(), _msg(frame, "mono16")) is None
