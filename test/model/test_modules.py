"""Sc-CFM parts (Sc-LRB, Sc-FGB, DCR), the ICRM and ReAW heads: shapes and defining maths."""

from __future__ import annotations

import torch

from sccosf_ros.model.dcr import DCR, CoordinateAttention
from sccosf_ros.model.icrm import ICRM, ICRVSSBlock
from sccosf_ros.model.reaw import ReAW, RegionWeighting
from sccosf_ros.model.sc_cfm import AdditionFusion, ScCFM
from sccosf_ros.model.sc_fgb import ScFGB
from sccosf_ros.model.sc_lrb import ScLRB


def test_sc_lrb_and_sc_fgb_concatenate_both_modalities():
    torch.manual_seed(0)
    fr, ft = torch.randn(2, 8, 5, 7), torch.randn(2, 8, 5, 7)
    lrb, fgb = ScLRB(8, d_state=2, ssm_ratio=0.5), ScFGB(8, ratio=0.5)
    assert lrb(fr, ft).shape == (2, 16, 5, 7) and lrb.out_channels == 16
    assert fgb(fr, ft).shape == (2, 16, 5, 7) and fgb.out_channels == 16


def test_sc_lrb_is_residual_around_the_scans():
    # output projections zeroed: O = F and W = O, so F^S = F^s·σ(0) + F^s, F^s = [F^R, F^I]
    torch.manual_seed(0)
    lrb = ScLRB(4, d_state=2)
    with torch.no_grad():
        for stage in (lrb.self_correction, lrb.cross_correction):
            stage.out_proj.weight.zero_()
            stage.out_proj.bias.zero_()
        lrb.channel_attn.weight.zero_()
        lrb.channel_attn.bias.zero_()  # σ(0) = 0.5
        fr, ft = torch.randn(1, 4, 3, 3), torch.randn(1, 4, 3, 3)
        torch.testing.assert_close(lrb(fr, ft), 1.5 * torch.cat((fr, ft), 1))


def test_coordinate_attention_is_a_separable_row_times_column_gate():
    torch.manual_seed(0)
    ca = CoordinateAttention(16).eval()
    x = torch.rand(1, 16, 6, 9) + 0.5
    with torch.no_grad():
        gate = ca(x) / x  # (1,C,H,W) = a_h ⊗ a_w per channel
    for c in range(16):
        s = torch.linalg.svdvals(gate[0, c].double())
        assert s[1] < 1e-5 * s[0]  # rank one
    assert (gate > 0).all() and (gate < 1).all()


def test_dcr_recalibrates_the_sum_of_both_branches():
    torch.manual_seed(0)
    dcr = DCR(16).eval()
    fs, fv = torch.randn(2, 16, 4, 5), torch.randn(2, 16, 4, 5)
    with torch.no_grad():
        torch.testing.assert_close(dcr(fs, fv), dcr.coord_attn(fs + fv))


def test_sc_cfm_ablation_variants_keep_output_width():
    fr, ft = torch.randn(1, 8, 4, 4), torch.randn(1, 8, 4, 4)
    for kw in ({}, {"use_sc_lrb": False}, {"use_sc_fgb": False}, {"use_dcr": False}):
        m = ScCFM(8, d_state=2, **kw)
        assert m(fr, ft).shape == (1, 16, 4, 4), kw
    add = AdditionFusion(8)
    torch.testing.assert_close(add(fr, ft), fr + ft)


def test_region_weights_are_a_softmax_over_branches():
    torch.manual_seed(0)
    rw = RegionWeighting(6, width=4, kernel_sizes=(1, 3, 5)).eval()
    x = torch.randn(2, 6, 7, 7)
    with torch.no_grad():
        # give every branch the same 1×1 map (centre tap only): then Σ λ_j e_j = e, since the
        # λ_j sum to one
        w = torch.randn(4, 6)
        for j, k in enumerate((1, 3, 5)):
            conv = rw.branches[j][0]
            conv.weight.zero_()
            conv.weight[:, :, k // 2, k // 2] = w
        out = rw(x)
        lam = torch.softmax(rw.weights(x.mean(dim=(2, 3))), dim=1)
    torch.testing.assert_close(lam.sum(1), torch.ones(2))
    torch.testing.assert_close(out, rw.branches[0](x))


def test_reaw_output_is_an_image_in_unit_range():
    torch.manual_seed(0)
    head = ReAW([8, 16, 32, 64], width=4, kernel_sizes=(1, 3), recon_width=4)
    feats = [torch.randn(1, c, 16 >> i, 20 >> i) * 100 for i, c in enumerate([8, 16, 32, 64])]
    out = head(feats, torch.rand(1, 3, 64, 80), torch.rand(1, 1, 64, 80))
    assert out.shape == (1, 3, 64, 80)
    assert out.min() >= 0 and out.max() <= 1


def test_icrm_shapes_and_zero_depth_stage():
    torch.manual_seed(0)
    chans = [8, 16, 32, 64]
    feats = [torch.randn(1, c, 16 >> i, 20 >> i) for i, c in enumerate(chans)]
    head = ICRM(chans, num_classes=5, dims=(8, 8, 16, 16), depths=(0, 1, 1, 2), d_state=2)
    assert head(feats).shape == (1, 5, 16, 20)
    assert len(head.blocks[0]) == 0 and len(head.blocks[3]) == 2
    blk = ICRVSSBlock(8, d_state=2, ssm_ratio=2.0)
    x = torch.randn(2, 8, 5, 6)
    assert blk(x).shape == x.shape


def test_icr_vss_norms_are_timm_layernorm2d_equal_to_a_channel_layernorm():
    """timm's LayerNorm2d (with torch's eps) replaced our own: the same numbers, bit for bit,
    as LayerNorm over the channels of the NHWC view, for NCHW and channels-last maps."""
    from timm.layers import LayerNorm2d

    torch.manual_seed(0)
    block = ICRVSSBlock(12, d_state=2)
    for norm in (block.norm, block.out_norm):
        assert isinstance(norm, LayerNorm2d) and norm.eps == 1e-5
        assert [k for k, _ in norm.named_parameters()] == ["weight", "bias"]
    norm = block.norm
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 12, 5, 7) * 3 + 1
    for inp in (x, x.contiguous(memory_format=torch.channels_last)):
        ref = torch.nn.functional.layer_norm(
            inp.permute(0, 2, 3, 1), (12,), norm.weight, norm.bias, 1e-5
        ).permute(0, 3, 1, 2)
        assert torch.equal(norm(inp), ref)


def test_icrm_merge_is_the_lateral_conv_of_the_upsampled_concatenation():
    """The lateral 1x1 conv runs before the resize (they commute): the same map as
    lateral(cat(upsample(x), f)) without the concatenation at the finer scale."""
    torch.manual_seed(0)
    chans = [8, 16, 32, 64]
    head = ICRM(chans, num_classes=5, dims=(8, 12, 16, 16), depths=(0, 1, 1, 1), d_state=2)
    x, f = torch.randn(1, 16, 5, 7), torch.randn(1, 16, 10, 14)
    up = torch.nn.functional.interpolate(x, size=(10, 14), mode="bilinear", align_corners=False)
    ref = head.lateral[1](torch.cat((up, f), dim=1))
    torch.testing.assert_close(head._merge(1, x, f), ref, rtol=1e-5, atol=1e-5)


def test_pair_layer_norm_in_a_graph_has_no_permutes_and_the_same_numbers():
    from sccosf_ros.model.sc_lrb import PairLayerNorm

    class ChannelsLast(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = PairLayerNorm(2, 6)

        def forward(self, y: torch.Tensor) -> torch.Tensor:
            return self.norm.channels_last(y, 4, 5)

    torch.manual_seed(0)
    module = ChannelsLast().eval()
    with torch.no_grad():
        module.norm.weight.uniform_(0.5, 1.5)
        module.norm.bias.uniform_(-0.5, 0.5)
    y = torch.randn(1, 2, 6, 20) * 3
    program = torch.export.export(module, (y,))
    ops = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert not any("permute" in op or "transpose" in op for op in ops), ops
    torch.testing.assert_close(program.module()(y), module(y), rtol=1e-5, atol=1e-5)
