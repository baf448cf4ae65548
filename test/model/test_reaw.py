"""ReAW's output forms: the paper's reconstructed image and the luminance-weights head."""

from __future__ import annotations

import pytest
import torch

from sccosf_ros.model.network import build_model
from sccosf_ros.model.reaw import ReAW, luma_weighted
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
