"""Weight decay by parameter role, checked by name on the real network."""

from __future__ import annotations

import torch

from sccosf_ros.model import build_model
from sccosf_ros.training.param_groups import param_groups, parameter_roles


def test_roles_by_name_on_the_nano_network():
    model = build_model("nano")
    roles = parameter_roles(model)
    expected = {
        # norms of every kind, whatever their rank
        "encoder.backbone.stem_1.weight": "norm",  # timm LayerNorm2d
        "fusion.0.lrb.self_correction.norm.weight": "norm",  # PairLayerNorm (k,1,d): 3-D
        "fusion.0.lrb.self_correction.norm.bias": "norm",
        "fusion.0.dcr.coord_attn.squeeze.1.weight": "norm",  # BatchNorm2d
        # every bias, including the S6 Δ bias (2-D)
        "encoder.backbone.stem_0.bias": "bias",
        "fusion.0.lrb.self_correction.scan.dt_proj_bias": "bias",
        "fusion_head.regions.0.weights.0.bias": "bias",
        # state-space parameters
        "fusion.0.lrb.self_correction.scan.A_log": "ssm",
        "fusion.0.lrb.self_correction.scan.D": "ssm",
        # ConvNeXt layer scale
        "encoder.backbone.stages_0.blocks.0.gamma": "layer_scale",
        # decayed weights: convs, linears, S6 projections (3-D)
        "encoder.backbone.stem_0.weight": "weight",
        "fusion_head.regions.0.weights.0.weight": "weight",
        "fusion.0.lrb.self_correction.scan.x_proj_weight": "weight",
        "fusion.0.lrb.self_correction.scan.dt_proj_weight": "weight",
    }
    for name, role in expected.items():
        assert roles[name] == role, name
    # every norm/bias/SSM parameter of the model is caught, not only the sampled ones
    for name, role in roles.items():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("A_log", "D") or leaf.endswith("bias") or ".norm." in name:
            assert role != "weight", name
        if role == "weight":
            assert leaf.endswith("weight"), name


def test_groups_partition_the_parameters():
    model = build_model("nano")
    decay, no_decay = param_groups(model, 0.01)
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    ids = [id(p) for g in (decay, no_decay) for p in g["params"]]
    assert len(ids) == len(set(ids)) == sum(1 for _ in model.parameters())
    norm = model.fusion[0].lrb.self_correction.norm.weight
    assert norm.ndim == 3 and any(p is norm for p in no_decay["params"])
    opt = torch.optim.AdamW([decay, no_decay], lr=1e-3)
    assert len(opt.param_groups) == 2
