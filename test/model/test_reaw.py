"""ReAW's output forms: the paper's reconstructed image and the luminance-weights head."""

from __future__ import annotations

import pytest
import torch

from sccosf_ros.model.network import build_model
from sccosf_ros.model.reaw import ReAW, luma_weighted, one_channel_conv_graph
from sccosf_ros.training.losses import rgb_to_ycbcr


def test_luma_weighted_keeps_chroma_and_mixes_luminance():
    torch.manual_seed(0)
    rgb = torch.rand(2, 3, 8, 8) * 0.5 + 0.25  # mid-tones: the clamp never acts
    thermal = torch.rand(2, 1, 8, 8) * 0.4 + 0.3
    w = torch.rand(2, 1, 8, 8)
    fused = luma_weighted(rgb, thermal, w)
    y_f, cb_f, cr_f = rgb_to_ycbcr(fused)
    y, cb, cr = rgb_to_ycbcr(rgb)
    torch.testing.assert_close(y_f, w * y + (1 - w) * thermal)
    torch.testing.assert_close(cb_f, cb)
    torch.testing.assert_close(cr_f, cr)
    torch.testing.assert_close(luma_weighted(rgb, thermal, torch.ones_like(w)), rgb)
    grey = luma_weighted(torch.full_like(rgb, 0.4), thermal, torch.zeros_like(w))
    torch.testing.assert_close(grey, thermal.expand(-1, 3, -1, -1))


def test_heads_have_their_output_channels_and_range():
    feats = [torch.randn(1, c, 16 // 2**i, 16 // 2**i) for i, c in enumerate((8, 16, 32, 64))]
    rgb, thermal = torch.rand(1, 3, 64, 64), torch.rand(1, 1, 64, 64)
    for output, out_ch in (("image", 3), ("luma_weights", 1)):
        head = ReAW((8, 16, 32, 64), 8, (1, 3), 8, output=output).eval()
        assert head.recon[-1].out_channels == out_ch
        fused = head(feats, rgb, thermal)
        assert fused.shape == (1, 3, 64, 64)
        assert fused.min() >= 0.0 and fused.max() <= 1.0
    with pytest.raises(ValueError, match="output"):
        ReAW((8,), output="residual")


def test_network_with_the_luma_weights_head_stays_between_its_sources():
    torch.manual_seed(1)
    model = build_model("nano", reaw_output="luma_weights").eval()
    rgb = torch.full((1, 3, 40, 56), 0.5)  # grey: the luminance is 0.5 everywhere
    thermal = torch.rand(1, 1, 40, 56) * 0.5
    with torch.no_grad():
        fused = model(rgb, thermal).fused
    assert fused.shape == (1, 3, 40, 56)
    assert (fused <= 0.5 + 1e-6).all() and (fused >= thermal - 1e-6).all()
    with pytest.raises(ValueError, match="reaw_output"):
        build_model("nano", reaw_output="rgb")


@pytest.mark.parametrize("k", [1, 3, 5])
def test_one_channel_conv_graph_is_the_same_conv(k):
    """The graph form of a one-output-channel conv (taps by a 1x1 conv, moved by one-hot
    depthwise kernels, summed) equals the conv, borders included."""
    torch.manual_seed(k)
    conv = torch.nn.Conv2d(8, 1, k, padding=k // 2).double()
    x = torch.randn(2, 8, 13, 17, dtype=torch.float64)
    torch.testing.assert_close(one_channel_conv_graph(conv, x), conv(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("output", ["image", "luma_weights"])
def test_exported_reaw_equals_eager(output):
    """ReAW's capture form (plain channel cat, the one-channel conv as taps) in an exported
    program against eager on another input."""
    torch.manual_seed(2)
    m = ReAW([8, 16], width=4, kernel_sizes=(1, 3), recon_width=4, output=output).eval()

    def inputs(seed: int) -> tuple:
        g = torch.Generator().manual_seed(seed)
        feats = [torch.randn(1, 8, 8, 12, generator=g), torch.randn(1, 16, 4, 6, generator=g)]
        return feats, torch.rand(1, 3, 32, 48, generator=g), torch.rand(1, 1, 32, 48, generator=g)

    with torch.no_grad():
        program = torch.export.export(m, inputs(0), strict=False)
        x = inputs(1)
        torch.testing.assert_close(program.module()(*x), m(*x), atol=1e-5, rtol=1e-5)
