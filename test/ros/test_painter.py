"""The node's OpenCV colouring equals sccosf_ros.classes (the reference implementation)."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.classes import FMB_PALETTE, MFNET_PALETTE, colorize, overlay
from sccosf_ros.ros.node import Painter


@pytest.mark.parametrize("palette", [MFNET_PALETTE, FMB_PALETTE])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 0.65, 1.0])
def test_painter_matches_classes(palette, alpha):
    rng = np.random.default_rng(int(alpha * 100))
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    labels = rng.integers(0, len(palette), (37, 53), dtype=np.uint8)
    labels[:3] = 255  # unlabeled
    p = Painter(palette, alpha)
    color = p.colorize(labels)
    np.testing.assert_array_equal(color, colorize(labels, palette))
    got = p.overlay(rgb, labels, color).astype(int)
    want = overlay(rgb, labels, palette, alpha).astype(int)
    assert np.abs(got - want).max() <= 1  # float rounding only
    keep = (labels == 0) | (labels == 255)
    np.testing.assert_array_equal(got[keep], rgb[keep])  # uncoloured classes untouched
