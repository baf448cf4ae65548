"""preview_grid: a real PNG with one RGB | thermal | label row per sample."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from sccosf_ros.classes import MFNET_PALETTE
from sccosf_ros.synthetic import preview_grid, render_scene


@dataclass
class _Sample:  # what preview_grid reads of a dataset sample
    rgb: np.ndarray
    thermal: np.ndarray
    label: np.ndarray


def _sample(seed: int) -> _Sample:
    s = render_scene(seed, 48, 64, night=bool(seed % 2))
    return _Sample(rgb=s.rgb, thermal=s.thermal8, label=s.label)


def test_preview_rows_and_tiles(tmp_path):
    samples = [_sample(i) for i in range(3)]
    path = preview_grid(samples, MFNET_PALETTE, tmp_path / "p.png", tile_width=100)
    img = cv2.imread(str(path))[..., ::-1]
    tile_h = 75  # 48 * 100 / 64
    assert img.shape == (3 * tile_h + 2 * 4, 3 * 100 + 2 * 4, 3)
    assert (img[tile_h : tile_h + 4] == 255).all()  # white rule between rows
    assert (img[:, 100:104] == 255).all()  # and between tiles
    # the RGB tile is the sample's image, downscaled
    want = cv2.resize(samples[0].rgb, (100, tile_h), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(img[:tile_h, :100], want)


def test_preview_needs_samples(tmp_path):
    with pytest.raises(ValueError, match="no samples"):
        preview_grid([], MFNET_PALETTE, tmp_path / "p.png")
