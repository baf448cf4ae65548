"""``sccosf bench model`` counting helpers (the latency part is exercised by the benchmark)."""

from __future__ import annotations

import pytest
import torch

from sccosf_ros.bench.model import count_flops, count_params
from sccosf_ros.model import build_model
from sccosf_ros.model.s6 import S6


def test_flop_count_adds_up_and_includes_the_scan():
    f = count_flops("nano", (64, 96))
    parts = f["gmac_encoder"] + f["gmac_sc_cfm"] + f["gmac_icrm"] + f["gmac_reaw"]
    assert abs(parts - f["gmac"]) < 1e-6 * max(1.0, f["gmac"])
    assert f["gflop"] == 2 * f["gmac"]
    # The scan by hand (mamba-ssm's count: 9 FLOPs per state element and step, + 1 for D·u,
    # per channel of every scan unit). nano at 64×96: ConvNeXt-atto widths 40/80/160/320 at
    # strides 4/8/16/32 → L = 16·24, 8·12, 4·6, 2·3; d_state N = 1.
    # Sc-LRB, every stage: the self S6 and the cross S6, each k = 2 units (one per modality)
    # of d_inner = ssm_ratio·C = 20, 80, 160, 320 channels.
    lengths = (16 * 24, 8 * 12, 4 * 6, 2 * 3)
    per_channel_step = 9 * 1 + 1  # N = 1
    sc_lrb = sum(2 * 2 * d * L * per_channel_step for d, L in zip((20, 80, 160, 320), lengths))
    # ICRM: one ICR-VSS block at strides 8, 16, 32 (none at 4), SS2D's k = 4 directions,
    # d_inner = decoder width 32, 64, 128.
    icrm = sum(4 * d * L * per_channel_step for d, L in zip((32, 64, 128), lengths[1:]))
    assert (sc_lrb, icrm) == (844_800, 215_040)
    assert f["scan_gflop"] == pytest.approx((sc_lrb + icrm) / 1e9, rel=1e-12)


def test_scan_flops_of_one_small_unit_by_hand():
    s6 = S6(3, d_state=2, k=2)  # two units of 3 channels, 2 states; batch 1, length 5
    # per unit, channel and step: 9 FLOPs per state (2 states) + 1 for D·u = 19
    assert s6.scan_flops(1, 5) == 2 * 3 * 5 * 19 == 570
    assert s6.scan_flops(4, 5) == 4 * 570


def test_flops_scale_with_pixels_and_params_split():
    small, big = count_flops("nano", (64, 64)), count_flops("nano", (128, 128))
    assert 3.5 < big["gmac_encoder"] / small["gmac_encoder"] < 4.5
    with torch.device("meta"):
        p = count_params(build_model("nano"))
    assert abs(p["encoder"] + p["sc_cfm"] + p["icrm"] + p["reaw"] - p["total"]) < 1e-9
