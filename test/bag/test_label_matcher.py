"""bag-eval's label matching: predictions and labels joined by stamp, either order."""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from sccosf_ros.bag.label_matcher import LabelMatcher, decode_label
from sccosf_ros.pipeline.compressed import COMPRESSED_IMAGE, encode_compressed


def test_label_matching_tolerates_label_before_or_after_prediction():
    m = LabelMatcher(tolerance_ns=1000)
    a, b = np.zeros((2, 2), np.uint8), np.ones((2, 2), np.uint8)
    m.add_label(10_000, a)
    m.add_pred(10_500, b)  # within tolerance of the waiting label
    m.add_pred(20_000, a)
    m.add_label(22_000, b)  # too far: both stay waiting
    m.add_label(20_000, b)
    got = m.take()
    assert [(s, p.sum(), g.sum()) for s, p, g in got] == [(10_500, 4, 0), (20_000, 0, 4)]
    assert list(m.labels) == [22_000] and not m.preds


def test_png_labels_decode_and_lossy_or_too_large_ones_are_refused():
    cls = get_typestore(Stores.ROS2_HUMBLE).types[COMPRESSED_IMAGE]
    ids = np.arange(12, dtype=np.uint16).reshape(3, 4)
    for enc, arr in (("mono16", ids), ("mono8", ids.astype(np.uint8))):
        got = decode_label(encode_compressed(arr, enc, "png", msg_type=cls))
        assert got.dtype == np.uint8 and (got == ids).all()
    with pytest.raises(ValueError, match="labels must be PNG"):
        decode_label(encode_compressed(ids.astype(np.uint8), "mono8", "jpeg", msg_type=cls))
    with pytest.raises(ValueError, match="class id 300"):
        decode_label(encode_compressed(ids * 0 + 300, "mono16", "png", msg_type=cls))
