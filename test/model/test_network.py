"""SCCoSF end to end: presets, ablations A–F, any input size, both heads train the encoder."""

from __future__ import annotations

import hashlib

import pytest
import torch

from sccosf_ros.errors import SccosfError
from sccosf_ros.model import PRESETS, SCCoSF, SCCoSFConfig, SCCoSFOutput, build_model
from sccosf_ros.model.encoder import PretrainedWeightsError

# The shipped checkpoint is trained with this architecture: parameter/buffer names and shapes.
# If this fails, nano's structure changed and models/sccosf_nano_synthetic.pt no longer loads.
NANO_STATE_ENTRIES = 489
NANO_PARAMS = 6_362_533
NANO_SIGNATURE = "ec132b521c443ed077cace4a6b8ed64c991a48d5f009668fa27000b3700289d5"

PAPER_PARAMS_M = 139.62  # paper Table 3


def _pair(h: int, w: int, b: int = 1, thermal_channels: int = 1):
    g = torch.Generator().manual_seed(h * 1000 + w)
    return torch.rand(b, 3, h, w, generator=g), torch.rand(b, thermal_channels, h, w, generator=g)


def test_nano_architecture_is_frozen():
    with torch.device("meta"):  # shapes only: no weight initialisation
        m = build_model("nano", num_classes=9)
    sd = m.state_dict()
    sig = "\n".join(f"{k}:{tuple(v.shape)}" for k, v in sd.items())
    assert len(sd) == NANO_STATE_ENTRIES
    assert hashlib.sha256(sig.encode()).hexdigest() == NANO_SIGNATURE
    assert sum(p.numel() for p in m.parameters()) == NANO_PARAMS


def test_every_preset_builds_and_paper_matches_table3():
    assert set(PRESETS) >= {"nano", "tiny", "paper"}
    with torch.device("meta"):  # parameter shapes only, no weight initialisation
        for name in ("nano", "tiny"):
            m = build_model(name, num_classes=9)
            assert isinstance(m, SCCoSF) and isinstance(m.config, SCCoSFConfig)
        paper = build_model("paper", num_classes=9)
    n = sum(p.numel() for p in paper.parameters()) / 1e6
    assert abs(n - PAPER_PARAMS_M) / PAPER_PARAMS_M < 0.10, f"paper preset has {n:.2f} M params"
    assert paper.config.encoder == "convnext_base"


def test_build_args_and_config():
    m = build_model("nano", num_classes=5, ablation="b", d_state=2)
    assert m.num_classes == 5
    assert m.build_args == {
        "preset": "nano",
        "num_classes": 5,
        "overrides": {"ablation": "b", "d_state": 2},
    }
    assert m.config.ablation == "B" and m.config.use_sc_fgb is False
    assert PRESETS["nano"].use_sc_fgb is True  # presets are not mutated


def test_unknown_preset_override_or_ablation_is_a_clear_error():
    with pytest.raises(ValueError, match="valid presets: nano, tiny, paper"):
        build_model("huge")
    with pytest.raises(ValueError, match=r"unknown override.*valid:.*d_state"):
        build_model("nano", dstate=3)
    with pytest.raises(ValueError, match="unknown ablation 'G'"):
        build_model("nano", ablation="G")


def test_nano_forward_backward_at_odd_size():
    torch.manual_seed(0)
    m = build_model("nano", num_classes=9)
    rgb, th = _pair(125, 165)
    out = m(rgb, th)
    assert isinstance(out, SCCoSFOutput)
    assert out.fused.shape == (1, 3, 125, 165)
    assert out.logits.shape == (1, 9, 125, 165)
    assert out.fused.min() >= 0 and out.fused.max() <= 1
    (out.fused.mean() + out.logits.logsumexp(1).mean()).backward()
    missing = [n for n, p in m.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters without gradient: {missing[:5]}"


@pytest.mark.parametrize("ablation", ["A", "B", "C", "D", "E", "F"])
def test_ablation_variants_forward_backward(ablation):
    torch.manual_seed(0)
    m = build_model("nano", num_classes=4, ablation=ablation)
    rgb, th = _pair(45, 67)
    out = m(rgb, th)
    if ablation == "E":
        assert out.logits is None
    else:
        assert out.logits.shape == (1, 4, 45, 67)
    if ablation == "F":
        assert out.fused is None
    else:
        assert out.fused.shape == (1, 3, 45, 67)
        assert out.fused.min() >= 0 and out.fused.max() <= 1
    loss = sum(t.float().mean() for t in (out.fused, out.logits) if t is not None)
    loss.backward()
    enc_grad = sum(p.grad.abs().sum() for p in m.encoder.parameters() if p.grad is not None)
    assert enc_grad > 0


def test_ablation_switches_change_the_modules():
    with torch.device("meta"):
        _check_ablation_modules()


def _check_ablation_modules():
    base = build_model("nano")
    n_base = sum(p.numel() for p in base.parameters())
    for ab in "ABCDEF":
        n = sum(p.numel() for p in build_model("nano", ablation=ab).parameters())
        assert n < n_base, ab
    a = build_model("nano", ablation="A")
    assert all(type(f).__name__ == "AdditionFusion" for f in a.fusion)
    assert build_model("nano", ablation="B").fusion[0].fgb is None
    assert build_model("nano", ablation="C").fusion[0].lrb is None
    assert build_model("nano", ablation="D").fusion[0].dcr is None
    assert build_model("nano", ablation="E").seg_head is None
    assert build_model("nano", ablation="F").fusion_head is None


@pytest.mark.parametrize("head", ["logits", "fused"])
def test_each_head_alone_trains_the_shared_encoder(head):
    torch.manual_seed(0)
    m = build_model("nano", num_classes=3)
    out = m(*_pair(33, 47))
    getattr(out, head).square().mean().backward()
    stem = m.encoder.backbone.stem_0.weight.grad
    assert stem is not None and stem.abs().sum() > 0
    other = m.fusion_head if head == "logits" else m.seg_head
    assert all(p.grad is None for p in other.parameters())


def test_shared_encoder_weights_and_thermal_channels():
    torch.manual_seed(0)
    m = build_model("nano", num_classes=3).eval()
    rgb, th = _pair(40, 52)
    with torch.no_grad():
        out1 = m(rgb, th)
        out3 = m(rgb, th.expand(-1, 3, -1, -1))
        fr, ft = m.encoder(rgb, rgb)  # same image, same weights → same features
    torch.testing.assert_close(out1.logits, out3.logits)
    torch.testing.assert_close(out1.fused, out3.fused)
    for a, b in zip(fr, ft, strict=True):
        torch.testing.assert_close(a, b)


def test_bad_inputs_are_clear_errors():
    m = build_model("nano")
    with pytest.raises(ValueError, match="rgb must be"):
        m(torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="thermal must be"):
        m(torch.rand(1, 3, 32, 32), torch.rand(1, 2, 32, 32))
    with pytest.raises(ValueError, match="differ"):
        m(torch.rand(1, 3, 32, 32), torch.rand(1, 1, 32, 40))


def test_tiny_inputs_are_padded_and_cropped():
    m = build_model("nano", num_classes=2).eval()
    with torch.no_grad():
        out = m(*_pair(5, 3))
    assert out.fused.shape == (1, 3, 5, 3) and out.logits.shape == (1, 2, 5, 3)


def test_pretrained_encoder_offline_gives_clear_error(monkeypatch, tmp_path):
    import huggingface_hub.constants as hf_constants

    # no network and an empty cache: what a machine without internet sees, without retries
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(PretrainedWeightsError, match="pretrained_encoder=False") as info:
        build_model("nano", pretrained_encoder=True)
    assert "download" in str(info.value) and "HF_HOME" in str(info.value)
    assert isinstance(info.value, SccosfError) and info.value.exit_code == 2  # one CLI line
