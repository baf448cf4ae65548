"""Encoder ImageNet weights from a local file (timm and Facebook formats, safely loaded; a file of
another ConvNeXt is one line), and stochastic depth reaching timm."""

from __future__ import annotations

import pickle

import pytest
import timm
import torch
from safetensors.torch import save_file

from sccosf_ros.model import build_model
from sccosf_ros.model.encoder import PretrainedWeightsError
from sccosf_ros.model.encoder_weights import is_weights_file


@pytest.fixture(scope="module")
def atto():
    """A ConvNeXt-atto classifier with non-default weights (as ImageNet training leaves them)."""
    torch.manual_seed(1)
    model = timm.create_model("convnext_atto")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    return model


def _backbone_matches(model, atto) -> bool:
    bb = model.encoder.backbone
    return torch.equal(bb.stem_0.weight, atto.stem[0].weight) and torch.equal(
        bb.stages_3.blocks[1].mlp.fc2.weight, atto.stages[3].blocks[1].mlp.fc2.weight
    )


def _facebook_names(state: dict) -> dict:
    """timm's names → the original ConvNeXt release's (``downsample_layers``, ``dwconv``...)."""
    out = {}
    for k, v in state.items():
        k = k.replace("stem.", "downsample_layers.0.").replace("conv_dw", "dwconv")
        k = k.replace("mlp.fc", "pwconv").replace("head.fc.", "head.").replace("head.norm", "norm")
        for i in range(4):
            k = k.replace(f"stages.{i}.downsample.", f"downsample_layers.{i}.")
            k = k.replace(f"stages.{i}.blocks.", f"stages.{i}.")
        out[k] = v
    return out


def test_timm_safetensors_and_facebook_pth_files_load_into_the_encoder(atto, tmp_path):
    st = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in atto.state_dict().items()}, str(st))
    fb = tmp_path / "convnext_atto_1k_224.pth"
    torch.save({"model": _facebook_names(atto.state_dict())}, fb)
    for path in (st, fb):
        model = build_model("nano", num_classes=3, pretrained_encoder=str(path))
        assert _backbone_matches(model, atto), path
        assert model.config.pretrained_encoder == str(path)
    assert not _backbone_matches(build_model("nano", num_classes=3), atto)


def test_a_file_for_another_network_is_one_line(tmp_path):
    femto = tmp_path / "femto.pth"
    torch.save(timm.create_model("convnext_femto").state_dict(), femto)
    with pytest.raises(PretrainedWeightsError) as info:
        build_model("nano", pretrained_encoder=str(femto))
    msg = str(info.value)
    assert "not a convnext_atto checkpoint" in msg and "\n" not in msg
    assert "'stem.0.weight' is 48x3x4x4 in the file, 40x3x4x4 in the encoder" in msg
    resnet = tmp_path / "resnet.safetensors"
    save_file(timm.create_model("resnet10t").state_dict(), str(resnet))
    with pytest.raises(
        PretrainedWeightsError, match=r"124 of 124 encoder weights missing.*'stem.0"
    ):
        build_model("nano", pretrained_encoder=str(resnet))


class _Payload:
    def __reduce__(self):
        return (print, ("code ran",))


def test_unsafe_missing_or_empty_files_are_refused(tmp_path, capsys):
    evil = tmp_path / "evil.pth"
    with evil.open("wb") as f:
        pickle.dump({"stem.0.weight": _Payload()}, f)
    with pytest.raises(PretrainedWeightsError, match="could not be read safely"):
        build_model("nano", pretrained_encoder=str(evil))
    assert "code ran" not in capsys.readouterr().out
    with pytest.raises(PretrainedWeightsError, match="does not exist"):
        build_model("nano", pretrained_encoder=str(tmp_path / "nope.safetensors"))
    empty = tmp_path / "empty.pt"
    torch.save({"epoch": 3}, empty)
    with pytest.raises(PretrainedWeightsError, match="holds no named tensors"):
        build_model("nano", pretrained_encoder=str(empty))
    assert is_weights_file("w.safetensors") and not is_weights_file("in1k")


def test_drop_path_reaches_timm():
    rates = [
        m.drop_prob
        for m in build_model("nano", drop_path_rate=0.2).encoder.backbone.modules()
        if type(m).__name__ == "DropPath"
    ]
    assert rates and max(rates) == pytest.approx(0.2) and min(rates) > 0
    plain = build_model("nano").encoder.backbone.modules()
    assert not any(type(m).__name__ == "DropPath" for m in plain)  # the presets: 0
    with pytest.raises(ValueError, match="drop_path_rate"):
        build_model("nano", drop_path_rate=1.5)
