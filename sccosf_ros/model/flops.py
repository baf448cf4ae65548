"""Multiply-accumulates of one forward pass (the paper's Table 3 "FLOPs"), counted on meta tensors.

``count_flops`` runs the network on the meta device (shapes only, no arithmetic) under
``torch.utils.flop_counter.FlopCounterMode``, which counts matrix multiplies and convolutions
(depthwise included) as 2 FLOPs per multiply-accumulate; ``gmac`` is the paper's convention,
``gflop`` = 2 x GMAC. Elementwise work (activations, norms, gating, pooling, interpolation) and
the selective scan (a custom op) are not seen by the counter; the scan gets an analytic count
(mamba-ssm's reference: 9·b·d·n·l + b·d·l FLOPs per call) summed over every S6 unit. Used by
``sccosf bench model`` and by the training time estimate.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from sccosf_ros.model import build_model
from sccosf_ros.model.s6 import S6


def count_flops(preset: str, size: tuple[int, int], num_classes: int = 9) -> dict[str, float]:
    """GMACs (conv + matmul, by part) and analytic selective-scan GFLOPs for one pair."""
    with torch.device("meta"):
        model = build_model(preset, num_classes=num_classes).eval()
    scan_flops = [0]

    def hook(mod: S6, args: tuple, _out: Any) -> None:
        u = args[0]  # (B,k,d,L)
        scan_flops[0] += mod.scan_flops(u.shape[0], u.shape[-1])

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, S6)]
    rgb = torch.zeros(1, 3, *size, device="meta")
    thermal = torch.zeros(1, 1, *size, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False, depth=2) as counter:
        model(rgb, thermal)
    for h in handles:
        h.remove()
    by_module = counter.get_flop_counts()

    def gmac(name: str) -> float:
        if name in by_module:
            return sum(by_module[name].values()) / 2e9
        # a ModuleList is never called itself: sum its direct children
        depth = name.count(".") + 1
        return (
            sum(
                sum(v.values())
                for k, v in by_module.items()
                if k.startswith(name + ".") and k.count(".") == depth
            )
            / 2e9
        )

    total = counter.get_total_flops() / 2e9
    return {
        "gmac": total,
        "gmac_encoder": gmac("SCCoSF.encoder"),
        "gmac_sc_cfm": gmac("SCCoSF.fusion"),
        "gmac_icrm": gmac("SCCoSF.seg_head"),
        "gmac_reaw": gmac("SCCoSF.fusion_head"),
        "gflop": 2 * total,
        "scan_gflop": scan_flops[0] / 1e9,
    }
