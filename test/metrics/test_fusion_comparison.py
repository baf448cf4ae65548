"""compare_fusion scores every fused image with fusion_metrics and colour_fidelity alike."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sccosf_ros.metrics.colour_fidelity import colour_fidelity
from sccosf_ros.metrics.fusion import FusionConvention, fusion_metrics
from sccosf_ros.metrics.fusion_baselines import max_luminance
from sccosf_ros.metrics.fusion_comparison import (
    COMPARISON_METRICS,
    compare_fusion,
    comparison_means,
)


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    ir = rng.integers(0, 256, (24, 32), dtype=np.uint8)
    return rgb, ir


def test_rows_are_the_shared_metrics(pair):
    rgb, ir = pair
    fused = np.full_like(rgb, 90)  # a constant fused image: defined, nothing crashes
    conv = FusionConvention(ssim_data_range=255, mi_units="bits")
    scores = compare_fusion(fused, rgb, ir, conv)
    assert list(scores) == ["model", "rgb", "average", "max"]
    assert scores["model"] == {
        **fusion_metrics(fused, rgb, ir, conv),
        **colour_fidelity(fused, rgb),
    }
    assert scores["max"] == {
        **fusion_metrics(max_luminance(rgb, ir), rgb, ir, conv),
        **colour_fidelity(max_luminance(rgb, ir), rgb),
    }
    assert scores["model"]["SD"] == 0.0 and scores["rgb"]["dCb"] == 0.0
    assert all(math.isfinite(v) for s in scores.values() for v in s.values())


def test_no_fusion_head_leaves_the_model_row_out(pair):
    assert list(compare_fusion(None, *pair)) == ["rgb", "average", "max"]


def test_means_leave_non_finite_values_out():
    a = {"rgb": dict.fromkeys(COMPARISON_METRICS, 1.0)}
    b = {"rgb": {**dict.fromkeys(COMPARISON_METRICS, 3.0), "Qabf": float("nan")}}
    means = comparison_means([a, b])
    assert list(means) == ["rgb"]
    assert means["rgb"]["SD"] == 2.0 and means["rgb"]["Qabf"] == 1.0
    nan_only = {"rgb": {**dict.fromkeys(COMPARISON_METRICS, 1.0), "Qabf": float("nan")}}
    assert comparison_means([nan_only])["rgb"]["Qabf"] is None
