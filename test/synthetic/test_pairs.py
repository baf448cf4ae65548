"""synthetic/pairs.py: the one frame-pair maker (rendered synthetic scenes)."""

from __future__ import annotations

import numpy as np

from sccosf_ros.synthetic.pairs import frame_pair, frame_pairs


def test_a_pair_in_dataset_and_camera_form():
    rgb, th8 = frame_pair(24, 32, seed=3)
    assert rgb.shape == (24, 32, 3) and rgb.dtype == np.uint8 and th8.dtype == np.uint8
    rgb16, th16 = frame_pair(24, 32, seed=3, raw_thermal=True)
    assert th16.shape == (24, 32) and th16.dtype == np.uint16 and (rgb16 == rgb).all()


def test_frame_pairs_alternate_day_and_night_from_consecutive_seeds():
    pairs = frame_pairs(3, (24, 32), thermal_raw=True, seed=5)
    assert [t.dtype for _, t in pairs] == [np.uint16] * 3
    for i, (rgb, _) in enumerate(pairs):
        expected, _ = frame_pair(24, 32, seed=5 + i, raw_thermal=True, night=bool(i % 2))
        np.testing.assert_array_equal(rgb, expected)
    # the night scene is the darker one
    assert pairs[1][0].mean() < pairs[0][0].mean()
