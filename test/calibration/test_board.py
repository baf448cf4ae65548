"""Board detection in a small (160x120, Lepton-sized) thermal image: searched upscaled, corners
sub-pixel against the generated truth; RGB boards of small squares (which OpenCV's fast check
rejects) found by the sector-based detector."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sccosf_ros.calibration.board import BoardSpec, find_board, upscale_factor
from sccosf_ros.synthetic.rig import lepton_rig, render_rig_frames

SPEC = BoardSpec(9, 6)
_TEX = 40  # texture pixels per board square in the generator: a corner sits half a pixel early


def _true_corners(board_to_image: np.ndarray) -> np.ndarray:
    """The inner corners of the generated board (a border square, then the squares)."""
    pts = [[2 + c - 0.5 / _TEX, 2 + r - 0.5 / _TEX] for r in range(SPEC.rows) for c in range(9)]
    pts = np.asarray(pts, np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, board_to_image).reshape(-1, 2)


@pytest.mark.parametrize(("width", "factor"), [(160, 4), (240, 3), (320, 2), (640, 1)])
def test_small_images_are_searched_upscaled(width, factor):
    assert upscale_factor(width) == factor


def test_lepton_board_corners_are_sub_pixel():
    cfg = lepton_rig((480, 640), poses=4, empty=0)
    H_inv = np.linalg.inv(np.asarray(cfg.homography).reshape(3, 3))
    for frame in render_rig_frames(cfg):
        pts = find_board(frame.thermal, SPEC, inverted_first=True)
        assert pts is not None, frame.name
        err = np.linalg.norm(pts - _true_corners(H_inv @ frame.board_to_rgb), axis=1)
        assert err.mean() < 0.3, (frame.name, err.mean())  # thermal pixels
        rgb = find_board(frame.rgb, SPEC)
        rgb_err = np.linalg.norm(rgb - _true_corners(frame.board_to_rgb), axis=1)
        assert rgb_err.mean() < 0.6, (frame.name, rgb_err.mean())


def test_rgb_board_of_small_squares_is_found():
    """~9 px squares in 1280x720 (a board far away): FAST_CHECK rejects them."""
    cfg = lepton_rig((720, 1280), board_width=(0.13, 0.15), poses=2, empty=1)
    frames = render_rig_frames(cfg)
    for frame in frames[:2]:
        pts = find_board(frame.rgb, SPEC)
        assert pts is not None
        assert np.linalg.norm(pts - _true_corners(frame.board_to_rgb), axis=1).mean() < 0.6
    assert find_board(frames[2].rgb, SPEC) is None  # the bare scene
