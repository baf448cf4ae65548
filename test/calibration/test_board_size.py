"""The board's size in a thermal image: from its corners, or estimated from its heat when it
is too small to be found (what ``sccosf calibrate`` reports as "too small")."""

from __future__ import annotations

import numpy as np

from sccosf_ros.calibration.board import BoardSpec, find_board
from sccosf_ros.calibration.board_size import (
    MIN_SQUARE_PX,
    BoardSize,
    size_from_heat,
    size_from_points,
)
from sccosf_ros.synthetic.rig import lepton_rig, render_rig_frames

SPEC = BoardSpec(9, 6)


def test_heat_estimate_agrees_with_the_found_corners():
    for frame in render_rig_frames(lepton_rig(poses=3, empty=0)):
        found = size_from_points(find_board(frame.thermal, SPEC, inverted_first=True), SPEC)
        heat = size_from_heat(frame.thermal, SPEC)
        assert heat is not None and heat.estimated and not found.estimated
        for a, b in ((found.width_px, heat.width_px), (found.height_px, heat.height_px)):
            assert abs(a - b) < 0.1 * a, (found, heat)
        assert not found.too_small  # 6-9 px squares


def test_a_board_too_small_to_find_is_measured_from_its_heat():
    cfg = lepton_rig(board_width=(0.13, 0.15), poses=2, empty=0)
    for frame in render_rig_frames(cfg):
        assert find_board(frame.thermal, SPEC, inverted_first=True) is None
        size = size_from_heat(frame.thermal, SPEC)
        # 13-15 % of 160 px incl. a one-square border: 10 of 12 squares are heated
        assert 16 <= size.width_px <= 22 and size.too_small, size
        assert str(size).startswith("about ")


def test_a_flat_image_has_no_board_size():
    assert size_from_heat(np.full((120, 160), 29315, np.uint16), SPEC) is None
    assert BoardSize(40, 28, MIN_SQUARE_PX - 0.1).too_small
    assert not BoardSize(40, 28, MIN_SQUARE_PX).too_small
