"""bag-eval's label matching: predictions and labels joined by stamp, either order."""

from __future__ import annotations

import numpy as np

from sccosf_ros.bag.label_matcher import LabelMatcher


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
