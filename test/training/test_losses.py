"""Joint loss (paper §3.3): each term against hand-computed values on tiny tensors."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF

from sccosf_ros.training.losses import (
    FUSION_CONSTANTS,
    TERMS,
    FusionLoss,
    FusionLossConfig,
    JointLoss,
    LossCounts,
    Sobel,
    adjust_contrast,
    adjust_gamma,
    exposure_gamma,
    fusion_constants,
    rgb_to_ycbcr,
)


def _out(fused=None, logits=None):
    # the loss only reads .fused and .logits (the SCCoSFOutput fields)
    return SimpleNamespace(fused=fused, logits=logits)


def test_constants_per_dataset():
    m, f = FUSION_CONSTANTS["mfnet"], FUSION_CONSTANTS["fmb"]
    assert (m.gamma, m.contrast, m.w_content, m.w_gradient, m.w_color) == (0.5, 1.7, 0.5, 0.2, 1)
    assert (f.gamma, f.contrast, f.w_content, f.w_gradient, f.w_color) == (0.8, 1.0, 0.5, 1, 1)
    assert fusion_constants("synthetic") == m
    assert fusion_constants("synthetic", layout="fmb") == f
    assert fusion_constants("MFNet") == m
    with pytest.raises(ValueError, match="no fusion-loss constants"):
        fusion_constants("cityscapes")


def test_ycbcr_formula_on_pure_colours():
    img = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.5]]).T.reshape(1, 3, 1, 3)
    y, cb, cr = rgb_to_ycbcr(img)
    # red: Y = .299, Cb = (0 - .299)·.564 + .5, Cr = (1 - .299)·.713 + .5
    assert y[0, 0, 0, 0].item() == pytest.approx(0.299)
    assert cb[0, 0, 0, 0].item() == pytest.approx(0.5 - 0.299 * 0.564)
    assert cr[0, 0, 0, 0].item() == pytest.approx(0.5 + 0.701 * 0.713)
    # blue: Cb = (1 - .114)·.564 + .5
    assert cb[0, 0, 0, 1].item() == pytest.approx(0.5 + 0.886 * 0.564)
    # grey: no chroma
    assert cb[0, 0, 0, 2].item() == pytest.approx(0.5)
    assert cr[0, 0, 0, 2].item() == pytest.approx(0.5)


def test_positive_sample_operators_match_torchvision():
    g = torch.Generator().manual_seed(0)
    x3 = torch.rand(2, 3, 5, 7, generator=g)
    x1 = torch.rand(2, 1, 5, 7, generator=g)
    assert adjust_gamma(torch.tensor([0.25, 1.0, 0.0]), 0.5).tolist() == [0.5, 1.0, 0.0]
    for c in (0.5, 1.0, 1.7):
        torch.testing.assert_close(adjust_contrast(x3, c), TF.adjust_contrast(x3, c))
        torch.testing.assert_close(adjust_contrast(x1, c), TF.adjust_contrast(x1, c))
    torch.testing.assert_close(adjust_gamma(x3, 0.8), TF.adjust_gamma(x3, 0.8))


def test_sobel_on_a_ramp():
    ramp = torch.arange(6.0).repeat(5, 1)[None, None]  # value = column index
    gx, gy = Sobel()(ramp)
    assert torch.all(gx[..., 1:-1, 1:-1] == 8.0)  # 2·(1 + 2 + 1) per unit step
    assert torch.all(gy[..., 1:-1, 1:-1] == 0.0)
    gx3, _ = Sobel()(ramp.repeat(1, 3, 1, 1))  # per channel
    assert gx3.shape == (1, 3, 5, 6) and torch.equal(gx3[:, 2], gx[:, 0])


def _sobel_const_mean_abs(c: float, h: int, w: int) -> tuple[float, float]:
    """Mean |Sobel| of a constant image with zero padding: only the border responds."""
    x = 2 * ((h - 2) * 4 * c + 2 * 3 * c) / (h * w)  # left/right columns
    y = 2 * ((w - 2) * 4 * c + 2 * 3 * c) / (h * w)  # top/bottom rows
    return x, y


def test_fusion_terms_zero_at_the_positive_sample_and_known_otherwise():
    torch.manual_seed(0)
    h, w = 6, 8
    rgb = torch.rand(2, 3, h, w) * 0.8
    cfg = FUSION_CONSTANTS["fmb"]  # contrast 1.0: R_ir = ir
    r_vis = rgb**cfg.gamma
    thermal = r_vis.clone()  # R_ir == R_vis: every target is R_vis and its gradients
    loss = FusionLoss(cfg)
    t = loss(r_vis, rgb, thermal)
    for k in ("content", "gradient", "color", "fusion"):
        assert t[k].item() == pytest.approx(0.0, abs=1e-6), k

    # a uniform +0.1 shift: content 0.1, colour 0 (Cb/Cr ignore a grey shift), gradient only
    # at the zero-padded border
    t = loss(r_vis + 0.1, rgb, thermal)
    gx, gy = _sobel_const_mean_abs(0.1, h, w)
    assert t["content"].item() == pytest.approx(0.1, rel=1e-5)
    assert t["color"].item() == pytest.approx(0.0, abs=1e-6)
    assert t["gradient"].item() == pytest.approx(0.5 * gx + 0.5 * gy, rel=1e-5)
    expected = 0.5 * 0.1 + 1.0 * (0.5 * gx + 0.5 * gy)
    assert t["fusion"].item() == pytest.approx(expected, rel=1e-5)

    # +0.1 on red only: ΔY = .0299, ΔCr = (.1 - .0299)·.713, ΔCb = .0299·.564
    shifted = r_vis.clone()
    shifted[:, 0] += 0.1
    t = loss(shifted, rgb, thermal)
    assert t["color"].item() == pytest.approx(0.0701 * 0.713 + 0.0299 * 0.564, rel=1e-4)
    assert t["content"].item() == pytest.approx(0.1 / 3, rel=1e-5)


def test_mfnet_content_target_is_the_max_of_both_positive_samples():
    torch.manual_seed(1)
    rgb = torch.rand(1, 3, 5, 5)
    thermal = torch.full((1, 1, 5, 5), 0.6)  # a constant image keeps its value under contrast
    loss = FusionLoss(FUSION_CONSTANTS["mfnet"])
    _, r_ir = loss.positive_samples(rgb, thermal)
    torch.testing.assert_close(r_ir, torch.full((1, 3, 5, 5), 0.6))
    target = torch.maximum(rgb.sqrt(), torch.tensor(0.6))
    assert loss(target, rgb, thermal)["content"].item() == pytest.approx(0.0, abs=1e-7)
    assert loss(target + 0.05, rgb, thermal)["content"].item() == pytest.approx(0.05, rel=1e-5)


def test_signed_versus_absolute_gradient_target():
    # a bright square on black: signed max keeps only rising edges, |.| keeps both
    rgb = torch.zeros(1, 3, 8, 8)
    rgb[..., 2:6, 2:6] = 1.0
    thermal = torch.zeros(1, 1, 8, 8)
    fused = torch.zeros(1, 3, 8, 8)
    base = FUSION_CONSTANTS["fmb"]
    signed = FusionLoss(base)(fused, rgb, thermal)["gradient"].item()
    absolute = FusionLoss(FusionLossConfig(**{**base.__dict__, "abs_gradient": True}))(
        fused, rgb, thermal
    )["gradient"].item()
    assert absolute == pytest.approx(2 * signed, rel=1e-6)
    assert signed > 0


def test_cross_entropy_ignores_255():
    torch.manual_seed(2)
    logits = torch.randn(2, 4, 3, 5)
    label = torch.randint(0, 4, (2, 3, 5))
    label[0, 0] = 255
    label[1, :, 0] = 255
    loss = JointLoss("mfnet")
    ce = loss.segmentation_loss(logits, label)
    logp = F.log_softmax(logits, 1)
    vals = [
        -logp[b, label[b, i, j], i, j]
        for b in range(2)
        for i in range(3)
        for j in range(5)
        if label[b, i, j] != 255
    ]
    assert ce.item() == pytest.approx(torch.stack(vals).mean().item(), rel=1e-6)
    # nothing labelled: zero, not NaN, and still differentiable
    logits.requires_grad_(True)
    empty = loss.segmentation_loss(logits, torch.full((2, 3, 5), 255))
    empty.backward()
    assert empty.item() == 0.0 and logits.grad is not None


def test_joint_loss_total_terms_and_ablations():
    torch.manual_seed(3)
    rgb, thermal = torch.rand(2, 3, 8, 8), torch.rand(2, 1, 8, 8)
    label = torch.randint(0, 9, (2, 8, 8))
    logits = torch.randn(2, 9, 8, 8, requires_grad=True)
    fused = torch.rand(2, 3, 8, 8, requires_grad=True)
    loss = JointLoss("mfnet")
    total, terms = loss(_out(fused, logits), rgb, thermal, label)
    assert set(terms) == set(TERMS) and all(isinstance(v, float) for v in terms.values())
    assert terms["total"] == pytest.approx(terms["ce"] + 0.1 * terms["fusion"], rel=1e-6)
    c = FUSION_CONSTANTS["mfnet"]
    assert terms["fusion"] == pytest.approx(
        c.w_content * terms["content"]
        + c.w_gradient * terms["gradient"]
        + c.w_color * terms["color"],
        rel=1e-6,
    )
    total.backward()
    assert logits.grad.abs().sum() > 0 and fused.grad.abs().sum() > 0

    total_e, terms_e = loss(_out(fused=fused), rgb, thermal, label)  # ablation E: no seg head
    assert terms_e["ce"] == 0.0
    assert total_e.item() == pytest.approx(0.1 * terms["fusion"], rel=1e-6)
    total_f, terms_f = loss(_out(logits=logits), rgb, thermal, label)  # F: no fusion head
    assert terms_f["fusion"] == 0.0 and terms_f["content"] == 0.0
    assert total_f.item() == pytest.approx(terms["ce"], rel=1e-6)
    with pytest.raises(ValueError, match="neither logits nor a fused image"):
        loss(_out(), rgb, thermal, label)

    weighted = JointLoss("fmb", seg_weight=2.0, fusion_weight=0.5)
    _, tw = weighted(_out(fused, logits), rgb, thermal, label)
    assert tw["total"] == pytest.approx(2 * tw["ce"] + 0.5 * tw["fusion"], rel=1e-6)


def test_logits_at_another_resolution_are_upsampled():
    logits = torch.zeros(1, 3, 4, 4)
    logits[:, 1] = 5.0
    label = torch.ones(1, 8, 8, dtype=torch.long)
    ce = JointLoss("mfnet").segmentation_loss(logits, label)
    expected = -math.log(math.exp(5) / (math.exp(5) + 2))
    assert ce.item() == pytest.approx(expected, rel=1e-5)


def test_with_the_real_network_output():
    from sccosf_ros.model import build_model

    torch.manual_seed(0)
    model = build_model("nano", num_classes=9)
    rgb, thermal = torch.rand(2, 3, 32, 32), torch.rand(2, 1, 32, 32)
    label = torch.randint(0, 9, (2, 32, 32))
    total, terms = JointLoss("synthetic")(model(rgb, thermal), rgb, thermal, label)
    total.backward()
    assert math.isfinite(terms["total"]) and terms["ce"] > 0 and terms["fusion"] > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def _padded_batch(seed: int = 4):
    """A 10x12 image padded to 16x16 (as the random crop pads: bottom/right), and its mask."""
    torch.manual_seed(seed)
    rgb, thermal = torch.zeros(1, 3, 16, 16), torch.zeros(1, 1, 16, 16)
    rgb[..., :10, :12] = torch.rand(1, 3, 10, 12) * 0.6 + 0.2
    thermal[..., :10, :12] = torch.rand(1, 1, 10, 12) * 0.6 + 0.2
    valid = torch.zeros(1, 16, 16, dtype=torch.bool)
    valid[:, :10, :12] = True
    return rgb, thermal, valid


def test_fusion_loss_ignores_the_crop_padding():
    rgb, thermal, valid = _padded_batch()
    loss = FusionLoss(FUSION_CONSTANTS["mfnet"])
    fused = torch.rand(1, 3, 16, 16)
    ref = loss(fused, rgb, thermal, valid)
    # anything in the padding (and the padding of the sources) leaves every term unchanged
    fused2 = fused.clone()
    fused2[..., 10:, :] = torch.rand(1, 3, 6, 16)
    fused2[..., :, 12:] = 1.0
    rgb2, th2 = rgb.clone(), thermal.clone()
    rgb2[..., 12:, :] = 0.9
    th2[..., :, 13:] = 0.7
    moved = loss(fused2, rgb2, th2, valid)
    for k in ("content", "gradient", "color", "fusion"):
        assert moved[k].item() == pytest.approx(ref[k].item(), rel=1e-6), k
    # the content/colour terms are the means over the valid crop of the plain loss on it
    crop = loss(fused[..., :10, :12], rgb[..., :10, :12], thermal[..., :10, :12])
    assert ref["content"].item() == pytest.approx(crop["content"].item(), rel=1e-6)
    assert ref["color"].item() == pytest.approx(crop["color"].item(), rel=1e-6)


def test_gradient_term_does_not_see_the_padding_border():
    _, _, valid = _padded_batch()
    cfg = FUSION_CONSTANTS["fmb"]  # contrast 1.0: R_ir = ir
    torch.manual_seed(6)
    gray = torch.zeros(1, 1, 16, 16)
    gray[..., :10, :12] = torch.rand(1, 1, 10, 12) * 0.6 + 0.2
    rgb = gray.expand(-1, 3, -1, -1).clone()
    thermal = gray**cfg.gamma  # R_ir == R_vis: every target is R_vis's Sobel response
    loss = FusionLoss(cfg)
    fused = thermal.expand(-1, 3, -1, -1).clone()
    fused[..., 10:, :] = 0.5  # the padding differs: an edge along the image/padding border
    fused[..., :, 12:] = 0.5
    assert loss(fused, rgb, thermal)["gradient"].item() > 0.01  # unmasked: the border counts
    masked = loss(fused, rgb, thermal, valid)
    assert masked["gradient"].item() == pytest.approx(0.0, abs=1e-7)
    assert masked["content"].item() == pytest.approx(0.0, abs=1e-7)
    edge = -torch.nn.functional.max_pool2d(-valid[:, None].float(), 3, 1, 1)
    assert edge[0, 0, :9, :11].all() and not edge[0, 0, 9:, :].any()
    assert not edge[0, 0, :, 11:].any() and edge[0, 0, 0, 0] == 1  # the frame border stays


def test_global_counts_make_split_batches_equal_one_batch():
    """Two halves of a batch, each divided by the whole batch's counts, sum to the whole
    batch's loss (what DDP's gradient averaging needs); their own means would not."""
    torch.manual_seed(5)
    rgb, thermal = torch.rand(4, 3, 12, 12), torch.rand(4, 1, 12, 12)
    label = torch.randint(0, 9, (4, 12, 12))
    label[0, :6] = 255  # the halves hold different numbers of labelled pixels
    valid = torch.ones(4, 12, 12, dtype=torch.bool)
    valid[1, 8:] = False  # and of valid pixels
    logits = torch.randn(4, 9, 12, 12)
    fused = torch.rand(4, 3, 12, 12)
    loss = JointLoss("mfnet")
    whole, _ = loss(_out(fused, logits), rgb, thermal, label, valid)
    counts = loss.counts(label, valid)
    world = 2
    per_rank = LossCounts.from_tensor(counts.as_tensor() / world)
    halves = [
        loss(_out(fused[s], logits[s]), rgb[s], thermal[s], label[s], valid[s], per_rank)[0]
        for s in (slice(0, 2), slice(2, 4))
    ]
    assert (halves[0] + halves[1]).item() / world == pytest.approx(whole.item(), rel=1e-6)
    own = [
        loss(_out(fused[s], logits[s]), rgb[s], thermal[s], label[s], valid[s])[0]
        for s in (slice(0, 2), slice(2, 4))
    ]
    assert abs((own[0] + own[1]).item() / 2 - whole.item()) > 1e-4


def test_crop_denominator_divides_by_the_whole_crop_as_mrfs():
    rgb, thermal, valid = _padded_batch()
    torch.manual_seed(7)
    fused = torch.rand(1, 3, 16, 16)
    mean = FusionLoss(FUSION_CONSTANTS["mfnet"])(fused, rgb, thermal, valid)
    crop_cfg = dataclasses.replace(FUSION_CONSTANTS["mfnet"], denominator="crop")
    crop = FusionLoss(crop_cfg)(fused, rgb, thermal, valid)
    # content/colour: the same masked sums over 16·16 instead of the 10·12 valid pixels
    assert crop["content"].item() == pytest.approx(mean["content"].item() * 120 / 256, rel=1e-5)
    assert crop["color"].item() == pytest.approx(mean["color"].item() * 120 / 256, rel=1e-5)
    # gradient: over 16·16 instead of the 9·11 pixels whose Sobel window is all valid
    assert crop["gradient"].item() == pytest.approx(mean["gradient"].item() * 99 / 256, rel=1e-5)
    # the joint loss's (DDP) counts follow the same denominator; CE keeps its labelled count
    label = torch.zeros(1, 16, 16, dtype=torch.long)
    counts = JointLoss("mfnet", fusion_config=crop_cfg).counts(label, valid)
    assert counts.as_tensor().tolist() == [256.0, 256.0, 256.0]
    with pytest.raises(ValueError, match="denominator"):
        dataclasses.replace(crop_cfg, denominator="batch")


def test_exposure_gamma_brightens_dark_frames_only():
    dark = torch.full((1, 3, 4, 4), 0.25)
    bright = torch.full((1, 3, 4, 4), 0.6)
    gammas = exposure_gamma(torch.cat([dark, bright]), 0.5)
    assert gammas.flatten().tolist() == pytest.approx([0.5, 1.0])  # 0.25 ** 0.5 = mid-grey
    mid = exposure_gamma(torch.full((1, 3, 2, 2), 0.4), 0.5).item()
    assert mid == pytest.approx(math.log(0.5) / math.log(0.4), rel=1e-5)
    cfg = dataclasses.replace(FUSION_CONSTANTS["mfnet"], gamma_mode="exposure")
    r_vis, _ = FusionLoss(cfg).positive_samples(bright, torch.zeros(1, 1, 4, 4))
    torch.testing.assert_close(r_vis, bright)  # a well-exposed frame is its own sample
    r_vis, _ = FusionLoss(cfg).positive_samples(dark, torch.zeros(1, 1, 4, 4))
    torch.testing.assert_close(r_vis, torch.full_like(dark, 0.5))
    with pytest.raises(ValueError, match="gamma_mode"):
        dataclasses.replace(cfg, gamma_mode="auto")


def test_structural_term_against_a_direct_ssim_and_off_by_default():
    """structural_loss is 1 − the mean of two SSIM maps (7×7 uniform windows, population
    statistics): checked against a direct numpy SSIM; w_ssim = 0 leaves the MRFS total."""
    import numpy as np

    from sccosf_ros.training.losses import structural_loss

    g = torch.Generator().manual_seed(3)
    rgb = torch.rand(1, 3, 24, 32, generator=g)
    th = torch.rand(1, 1, 24, 32, generator=g)
    valid = torch.ones(1, 1, 24, 32)
    y = 0.299 * rgb[:, 0:1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:3]
    # the fused image equal to the RGB: SSIM(Y_F, Y_vis) = 1 everywhere
    loss = structural_loss(rgb, rgb, th, valid)

    def ssim_np(a: np.ndarray, b: np.ndarray) -> float:  # interior pixels, 7x7 windows
        vals = []
        for i in range(3, a.shape[0] - 3):
            for j in range(3, a.shape[1] - 3):
                wa, wb = a[i - 3 : i + 4, j - 3 : j + 4], b[i - 3 : i + 4, j - 3 : j + 4]
                ma, mb = wa.mean(), wb.mean()
                va, vb = wa.var(), wb.var()
                cov = ((wa - ma) * (wb - mb)).mean()
                vals.append(
                    ((2 * ma * mb + 1e-4) * (2 * cov + 9e-4))
                    / ((ma**2 + mb**2 + 1e-4) * (va + vb + 9e-4))
                )
        return float(np.mean(vals))

    interior = torch.zeros_like(valid)
    interior[..., 3:-3, 3:-3] = 1
    inner = structural_loss(rgb, rgb, th, interior).item()
    expected = 1 - 0.5 * (1 + ssim_np(y[0, 0].double().numpy(), th[0, 0].double().numpy()))
    assert inner == pytest.approx(expected, abs=1e-5)
    assert 0 < loss.item() < 1
    base = FusionLoss(fusion_constants("mfnet"))
    with_ssim = FusionLoss(dataclasses.replace(fusion_constants("mfnet"), w_ssim=0.5))
    fused = torch.rand(1, 3, 24, 32, generator=g)
    a = base(fused, rgb, th)["fusion"]
    b = with_ssim(fused, rgb, th)["fusion"]
    assert b.item() == pytest.approx(
        a.item() + 0.5 * structural_loss(fused, rgb, th, valid).item(), rel=1e-6
    )
