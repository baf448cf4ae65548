"""The parity figures every backend is held to, from one pair and pooled over pairs."""

from __future__ import annotations

import numpy as np

from sccosf_ros.backends.parity import pair_diff, summarize


def test_pair_diff_and_summary():
    ref_labels = np.zeros((2, 5), np.uint8)
    labels = ref_labels.copy()
    labels[0, 0] = 3  # 1 of 10 pixels differs
    ref_fused = np.full((2, 5, 3), 100, np.uint8)
    fused = ref_fused.copy()
    fused[1, 4, 2] = 97  # below 100: no uint8 wrap-around
    d = pair_diff(ref_labels, labels, ref_fused, fused)
    assert d.to_dict() == {"label_agreement": 0.9, "fused_max_diff": 3, "fused_mean_diff": 0.1}
    same = pair_diff(ref_labels, ref_labels, ref_fused, ref_fused)
    report = summarize("x", [d, same])
    assert report.label_agreement == 19 / 20 and report.fused_max_diff == 3
    assert report.pairs == 2 and not report.passed  # 95 % < 99.9 %
    assert summarize("x", [same]).passed


def test_a_missing_head_is_none_not_zero():
    d = pair_diff(None, None, None, None)
    assert set(d.to_dict().values()) == {None}
    assert summarize("x", [d]).passed
