"""Colour fidelity: 0 for the RGB image itself, textbook chroma for a known colour."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.metrics.colour_fidelity import colour_fidelity


def test_the_rgb_image_itself_scores_zero():
    rgb = np.random.default_rng(0).integers(0, 256, (8, 9, 3), dtype=np.uint8)
    assert colour_fidelity(rgb, rgb) == {"dCb": 0.0, "dCr": 0.0}


def test_pure_red_turned_grey():
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    grey = np.full((4, 4, 3), 76, np.uint8)  # any grey has Cb = Cr = 128
    # JFIF: Cb(red) = 128 - 0.168736 * 255, Cr(red) = 128 + 0.5 * 255
    got = colour_fidelity(grey, red)
    assert got["dCb"] == pytest.approx(0.168736 * 255, abs=1e-3)
    assert got["dCr"] == pytest.approx(0.5 * 255, abs=1e-3)


def test_half_the_pixels_changed_halves_the_mean():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 2] = 200  # blue
    fused = rgb.copy()
    fused[0] = 0  # black: no chroma
    # Cb(blue 200) - 128 = 0.5 * 200 (JFIF), on half of the pixels
    assert colour_fidelity(fused, rgb)["dCb"] == pytest.approx(0.5 * 200 / 2, abs=1e-3)


def test_shapes_must_match():
    with pytest.raises(ValueError, match="same shape"):
        colour_fidelity(np.zeros((2, 3, 3), np.uint8), np.zeros((3, 2, 3), np.uint8))
