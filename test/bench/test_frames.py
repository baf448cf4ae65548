"""bench/frames.py: the one test-frame maker (a rendered synthetic scene)."""

from __future__ import annotations

import numpy as np

from sccosf_ros.bench.frames import frame_pair


def test_a_pair_in_dataset_and_camera_form():
    rgb, th8 = frame_pair(24, 32, seed=3)
    assert rgb.shape == (24, 32, 3) and rgb.dtype == np.uint8 and th8.dtype == np.uint8
    rgb16, th16 = frame_pair(24, 32, seed=3, raw_thermal=True)
    assert th16.shape == (24, 32) and th16.dtype == np.uint16 and (rgb16 == rgb).all()
