"""The generated calibration rig: a Lepton-sized (160x120 centikelvin) core beside an RGB camera,
with a microbolometer's fixed pattern; its homography keeps the thermal view inside RGB."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sccosf_ros.synthetic.rig import lepton_rig, render_rig_frames


@pytest.mark.parametrize("rgb_size", [(480, 640), (720, 1280), (1080, 1920)])
def test_lepton_rig_thermal_view_lies_inside_the_rgb_image(rgb_size):
    cfg = lepton_rig(rgb_size)
    h, w = cfg.thermal_size
    corners = np.array([[[0, 0]], [[w - 1, 0]], [[0, h - 1]], [[w - 1, h - 1]]], np.float64)
    mapped = cv2.perspectiveTransform(corners, np.asarray(cfg.homography).reshape(3, 3))
    assert (mapped >= 0).all() and (mapped[..., 0] < rgb_size[1]).all()
    assert (mapped[..., 1] < rgb_size[0]).all()


def test_lepton_frames_are_centikelvin_with_a_fixed_pattern():
    frames = render_rig_frames(lepton_rig(poses=1, empty=2))
    board, empty = frames[0], frames[1:]
    assert board.thermal.shape == (120, 160) and board.thermal.dtype == np.uint16
    assert board.rgb.shape == (480, 640, 3) and board.has_board
    assert 29315 - 100 < np.median(empty[0].thermal) < 29315 + 10  # 20 °C, vignetted corners
    assert board.thermal.max() > 30815 - 100  # heated squares at 35 °C
    # column offsets and vignetting repeat from frame to frame; temporal noise does not
    a, b = (f.thermal.astype(np.float64) for f in empty)
    assert np.corrcoef(a.mean(0), b.mean(0))[0, 1] > 0.9
    assert 2.0 < (a - b).std() / np.sqrt(2) < 8.0  # ~5 cK (50 mK NETD)
