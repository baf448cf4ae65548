"""ChannelLayerNorm2d: timm's LayerNorm2d in eager, reductions over axis 1 in a captured graph."""

from __future__ import annotations

import timm
import torch
import torch.nn.functional as F
from timm.layers import LayerNorm2d

from sccosf_ros.model.layer_norm2d import ChannelLayerNorm2d, layer_norm_over, use_channel_norms


def _norm(channels: int) -> ChannelLayerNorm2d:
    torch.manual_seed(0)
    norm = ChannelLayerNorm2d(channels, eps=1e-5)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
    return norm.eval()


def test_layer_norm_over_an_axis_equals_layer_norm_of_the_moved_axis():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 10) * 4 + 2
    w, b = torch.rand(6) + 0.5, torch.randn(6)
    ref = F.layer_norm(x.transpose(2, 3), (6,), w, b, 1e-5).transpose(2, 3)
    got = layer_norm_over(x, w.view(6, 1), b.view(6, 1), 1e-5, 2)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)


def test_the_captured_graph_has_no_permutes_and_the_same_numbers():
    norm = _norm(12)
    x = torch.randn(1, 12, 5, 7) * 3 + 1
    program = torch.export.export(norm, (x,))
    ops = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert not any("permute" in op or "transpose" in op for op in ops), ops
    assert any("mean" in op for op in ops), ops
    torch.testing.assert_close(program.module()(x), norm(x), rtol=1e-5, atol=1e-5)


def test_eager_is_timm_layernorm2d_bit_for_bit():
    norm = _norm(8)
    timm_norm = LayerNorm2d(8, eps=1e-5)
    timm_norm.load_state_dict(norm.state_dict())
    x = torch.randn(2, 8, 4, 6).contiguous(memory_format=torch.channels_last)
    assert torch.equal(norm(x), timm_norm(x))


def test_a_timm_backbone_keeps_its_weights_and_keys():
    torch.manual_seed(0)
    backbone = timm.create_model("convnext_atto", features_only=True).eval()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        ref = backbone(x)
    use_channel_norms(backbone)
    norms = [m for m in backbone.modules() if isinstance(m, LayerNorm2d)]
    assert norms and all(type(m) is ChannelLayerNorm2d for m in norms)
    after = backbone.state_dict()
    assert list(after) == list(before)
    assert all(torch.equal(after[k], before[k]) for k in before)
    with torch.no_grad():
        got = backbone(x)
    assert all(torch.equal(a, b) for a, b in zip(got, ref, strict=True))
