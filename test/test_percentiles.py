"""percentiles.py: one percentile summary for diagnostics, bag-eval and the benchmarks."""

from __future__ import annotations

import math

from sccosf_ros.percentiles import percentile, summarize


def test_percentile_is_linear_between_ranks_and_nan_when_empty():
    assert percentile([3.0, 1.0, 2.0, 10.0], 50) == 2.5  # between 2 and 3
    assert percentile([0.0, 10.0], 95) == 9.5
    assert math.isnan(percentile([], 50))


def test_summary_by_hand():
    # sorted 1, 2, 3, 4: p95 at rank 0.95 * 3 = 2.85 → 3 + 0.85 * (4 - 3)
    s = summarize([4.0, 1.0, 3.0, 2.0])
    assert math.isclose(s.pop("p95"), 3.85)
    assert s == {"mean": 2.5, "p50": 2.5, "max": 4.0, "n": 4}
    empty = summarize([])
    assert empty["n"] == 0 and all(math.isnan(empty[k]) for k in ("mean", "p50", "p95", "max"))
