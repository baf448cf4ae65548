"""``sccosf bench model`` counting helpers (the latency part is exercised by the benchmark)."""

from __future__ import annotations

import torch

from sccosf_ros.bench.model import count_flops, count_params
from sccosf_ros.model import build_model
from sccosf_ros.model.s6 import S6


def test_flop_count_adds_up_and_includes_the_scan():
    f = count_flops("nano", (64, 96))
    parts = f["gmac_encoder"] + f["gmac_sc_cfm"] + f["gmac_icrm"] + f["gmac_reaw"]
    assert abs(parts - f["gmac"]) < 1e-6 * max(1.0, f["gmac"])
    assert f["gflop"] == 2 * f["gmac"]
    # the analytic scan count: every S6 unit over its sequence length (one pair)
    with torch.device("meta"):
        m = build_model("nano")
    expected = 0
    for name, mod in m.named_modules():
        if not isinstance(mod, S6):
            continue
        parts = name.split(".")  # fusion.i.… or seg_head.blocks.i.…
        stage = int(parts[1] if parts[0] == "fusion" else parts[2])
        length = (64 >> (2 + stage)) * (96 >> (2 + stage))
        expected += mod.scan_flops(1, length)
    assert abs(f["scan_gflop"] - expected / 1e9) < 1e-12


def test_flops_scale_with_pixels_and_params_split():
    small, big = count_flops("nano", (64, 64)), count_flops("nano", (128, 128))
    assert 3.5 < big["gmac_encoder"] / small["gmac_encoder"] < 4.5
    with torch.device("meta"):
        p = count_params(build_model("nano"))
    assert abs(p["encoder"] + p["sc_cfm"] + p["icrm"] + p["reaw"] - p["total"]) < 1e-9
