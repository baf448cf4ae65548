"""The fusion baselines against hand-computed values and OpenCV's own YCbCr conversion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sccosf_ros.metrics.fusion_baselines import (
    BASELINES,
    average_luminance,
    max_luminance,
    rgb_alone,
)
from sccosf_ros.metrics.ycbcr import rgb_to_ycbcr, ycbcr_to_rgb


def _grey(values: list[list[int]]) -> np.ndarray:
    g = np.asarray(values, dtype=np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def test_identical_inputs_give_the_input_back():
    rng = np.random.default_rng(0)
    ir = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    rgb = np.repeat(ir[..., None], 3, axis=2)  # grey RGB whose luminance is the IR image
    for name, (fn, _) in BASELINES.items():
        np.testing.assert_array_equal(fn(rgb, ir), rgb, err_msg=name)


def test_grey_pixels_known_values():
    rgb = _grey([[0, 100, 255], [10, 200, 51]])
    ir = np.array([[255, 50, 255], [10, 0, 50]], dtype=np.uint8)
    # a grey pixel has Y = its value and no chroma: the baselines are plain arithmetic
    np.testing.assert_array_equal(
        average_luminance(rgb, ir),
        _grey([[128, 75, 255], [10, 100, 50]]),  # 127.5, 50.5 → even
    )
    np.testing.assert_array_equal(max_luminance(rgb, ir), _grey([[255, 100, 255], [10, 200, 51]]))
    np.testing.assert_array_equal(rgb_alone(rgb, ir), rgb)


def test_colour_is_kept_and_luminance_fused():
    rng = np.random.default_rng(1)
    # mid-range colours and IR within ±30 of their luminance: fusing Y clips no channel
    rgb = rng.integers(90, 166, (16, 20, 3), dtype=np.uint8)
    y_rgb = rgb.astype(float) @ np.array([0.299, 0.587, 0.114])
    ir = np.round(y_rgb + rng.uniform(-30, 30, y_rgb.shape)).astype(np.uint8)
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb).astype(int)  # OpenCV's integer conversion
    targets = {average_luminance: (y_rgb + ir) / 2, max_luminance: np.maximum(y_rgb, ir)}
    for fn, target in targets.items():
        out = fn(rgb, ir)
        got = cv2.cvtColor(out, cv2.COLOR_RGB2YCrCb).astype(int)
        # chroma: the RGB image's, up to the rounding of two uint8 round trips
        assert np.abs(got[..., 1:] - ycrcb[..., 1:]).max() <= 2
        assert np.abs(got[..., 0] - target).max() <= 1.5


def test_ycbcr_round_trip_is_exact_on_uint8():
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (50, 60, 3), dtype=np.uint8)
    np.testing.assert_array_equal(ycbcr_to_rgb(*rgb_to_ycbcr(rgb)), rgb)
    y, cb, cr = rgb_to_ycbcr(np.array([[[255, 0, 0]]], np.uint8))
    # JFIF: Cb = 128 - 0.168736 R + ..., Cr = 128 + 0.5 R - ...
    assert (y[0, 0], cb[0, 0], cr[0, 0]) == pytest.approx((76.245, 84.97232, 255.5), abs=1e-4)


@pytest.mark.parametrize(
    ("rgb", "ir", "error"),
    [
        (np.zeros((4, 5, 3), np.uint8), np.zeros((4, 6), np.uint8), ValueError),
        (np.zeros((4, 5), np.uint8), np.zeros((4, 5), np.uint8), ValueError),
        (np.zeros((4, 5, 3), np.float32), np.zeros((4, 5), np.uint8), TypeError),
    ],
)
def test_bad_inputs_raise(rgb, ir, error):
    for fn, _ in BASELINES.values():
        with pytest.raises(error):
            fn(rgb, ir)
