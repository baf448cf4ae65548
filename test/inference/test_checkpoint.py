"""Checkpoint format v2 (full model config, training size), v1 compatibility, the shipped model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from sccosf_ros.classes import MFNET_CLASSES
from sccosf_ros.inference import (
    VERSION,
    CheckpointError,
    Predictor,
    load_checkpoint,
    model_from_checkpoint,
    save_checkpoint,
)
from sccosf_ros.model import PRESETS, SCCoSF, SCCoSFConfig, build_model
from sccosf_ros.paths import SHIPPED_CHECKPOINT

SHIPPED = Path(__file__).resolve().parents[2] / "models" / SHIPPED_CHECKPOINT

# What the shipped demo model gives for DIGEST_INPUT (recorded once, on CPU): the label
# histogram over the 9 MFNet classes and the fused image's per-channel mean and std (0-255).
SHIPPED_LABEL_COUNTS = [57496, 844, 17770, 9, 0, 0, 647, 34, 0]
SHIPPED_FUSED_MEAN = [146.8921, 152.2036, 146.1054]
SHIPPED_FUSED_STD = [71.1931, 71.4553, 75.5725]
# ... and the network's logits per class, mean and std over the image (before the arg-max and
# the uint8 rounding, so they see changes too small to move a label or a grey level).
SHIPPED_LOGIT_MEAN = [
    7.782051,
    -2.422862,
    2.308540,
    -2.476796,
    -6.381738,
    -3.750462,
    -2.007859,
    -6.369485,
    -8.058887,
]
SHIPPED_LOGIT_STD = [
    2.417040,
    2.853432,
    5.014667,
    1.578724,
    2.488856,
    1.992656,
    2.578379,
    2.479832,
    2.219408,
]
# Thread counts and CPUs change float sums by ~1e-7 here, which could flip the arg-max of a
# boundary pixel or a rounded grey level; adding 0.05 to one class's bias changes that logit's
# mean by 0.05 and moves a handful of labels, far outside these bounds.
LABEL_TOLERANCE = 3  # pixels per class, of 76800
FUSED_TOLERANCE = 0.01  # grey levels
LOGIT_TOLERANCE = 1e-4


def digest_input() -> tuple[np.ndarray, np.ndarray]:
    """A fixed 240×320 pair: seeded 20-pixel blocks of colour/temperature plus pixel noise."""
    rng = np.random.default_rng(2024)
    rgb = np.repeat(np.repeat(rng.integers(0, 256, (12, 16, 3)), 20, 0), 20, 1)
    th = np.repeat(np.repeat(rng.integers(0, 256, (12, 16)), 20, 0), 20, 1)
    rgb = np.clip(rgb + rng.integers(-20, 21, rgb.shape), 0, 255).astype(np.uint8)
    th = np.clip(th + rng.integers(-20, 21, th.shape), 0, 255).astype(np.uint8)
    return rgb, th


def _frames(h: int = 40, w: int = 56) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8), rng.integers(
        0, 256, (h, w), dtype=np.uint8
    )


def _same_predictions(a: Predictor, b: Predictor) -> None:
    x = _frames()
    pa, pb = a.predict(*x), b.predict(*x)
    for name in ("fused", "labels"):
        va, vb = getattr(pa, name), getattr(pb, name)
        assert (va is None) == (vb is None)
        if va is not None:
            np.testing.assert_array_equal(va, vb)


# --------------------------------------------------------------------------- version 2
CUSTOM = dataclasses.replace(
    PRESETS["nano"],
    d_state=2,
    ssm_ratio=0.5,
    decoder_dims=(16, 16, 32, 32),
    decoder_depths=(0, 0, 1, 1),
    reaw_kernels=(1,),
    ablation="D",
)


@pytest.mark.parametrize(("config", "preset"), [(PRESETS["nano"], "nano"), (CUSTOM, None)])
def test_any_sccosf_saves_loads_and_predicts(config, preset, tmp_path):
    torch.manual_seed(0)
    model = SCCoSF(config, num_classes=5).eval()  # not build_model: no build_args preset
    path = save_checkpoint(tmp_path / "m.pt", model, train_size=(128, 192))
    raw = torch.load(path, weights_only=True)  # the DESIGN.md promise
    assert raw["version"] == VERSION == 2
    assert raw["model"] == {"config": config.to_dict(), "num_classes": 5, "preset": preset}
    assert raw["train_size"] == [128, 192]
    assert SCCoSFConfig(**raw["model"]["config"]) == config  # every field, lists → tuples
    loaded = Predictor.from_checkpoint(path, "cpu")
    assert loaded.model.config == config and loaded.num_classes == 5
    assert loaded.train_size == (128, 192) and loaded.input_size is None
    _same_predictions(Predictor(model, "cpu"), loaded)


def test_build_model_checkpoint_keeps_the_preset_and_its_overrides(tmp_path):
    model = build_model("nano", num_classes=3, ablation="B", d_state=2)
    path = save_checkpoint(tmp_path / "b.pt", model)
    ckpt = load_checkpoint(path)
    assert ckpt["model"]["preset"] == "nano" and ckpt["train_size"] is None
    again = model_from_checkpoint(ckpt)
    assert again.config == model.config
    assert again.build_args["preset"] == "nano"
    assert build_model("nano", 3, **again.build_args["overrides"]).config == model.config
    assert Predictor.from_checkpoint(path, "cpu").train_size is None


def test_train_size_does_not_change_inference(tmp_path):
    torch.manual_seed(0)
    model = build_model("nano", num_classes=9).eval()
    with_size = Predictor(model, "cpu", train_size=(64, 96))
    assert with_size.train_size == (64, 96) and with_size.input_size is None
    _same_predictions(with_size, Predictor(model, "cpu"))
    with pytest.raises(ValueError, match="train_size"):
        save_checkpoint(tmp_path / "x.pt", model, train_size=(0, 10))
    with pytest.raises(ValueError, match="train_size"):
        Predictor(model, "cpu", train_size=(64,))


def test_saving_a_module_without_config_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="only SCCoSF networks"):
        save_checkpoint(tmp_path / "x.pt", torch.nn.Conv2d(1, 1, 1))


def test_unbuildable_or_newer_checkpoints_fail_with_a_message(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", build_model("nano", num_classes=2))
    ckpt = torch.load(path, weights_only=True)
    ckpt["model"]["config"]["no_such_field"] = 1
    torch.save(ckpt, tmp_path / "future_field.pt")
    with pytest.raises(CheckpointError, match="cannot build"):
        Predictor.from_checkpoint(tmp_path / "future_field.pt")
    ckpt["version"] = VERSION + 1
    torch.save(ckpt, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match="newer than this"):
        load_checkpoint(tmp_path / "newer.pt")
    del ckpt["model"]["config"]
    ckpt["version"] = VERSION
    torch.save(ckpt, tmp_path / "no_config.pt")
    with pytest.raises(CheckpointError, match="lacks 'config'"):
        load_checkpoint(tmp_path / "no_config.pt")


# --------------------------------------------------------------------------- version 1
def _write_v1(path: Path, model: SCCoSF, overrides: dict, crop: list | None) -> Path:
    """A checkpoint exactly as version 1 of save_checkpoint wrote it."""
    meta = {"step": 7} if crop is None else {"step": 7, "train_config": {"crop": crop}}
    torch.save(
        {
            "format": "sccosf_ros.checkpoint",
            "version": 1,
            "model": {"preset": "nano", "num_classes": model.num_classes, "overrides": overrides},
            "state_dict": model.state_dict(),
            "class_names": list(MFNET_CLASSES),
            "palette": [[i, i, i] for i in range(9)],
            "thermal_norm": {"mode": "auto"},
            "dataset": "synthetic",
            "meta": meta,
        },
        path,
    )
    return path


def test_version_1_files_load_with_their_overrides(tmp_path):
    torch.manual_seed(0)
    model = build_model("nano", num_classes=9, ablation="E").eval()
    path = _write_v1(tmp_path / "v1.pt", model, {"ablation": "E"}, crop=[96, 128])
    ckpt = load_checkpoint(path)
    assert ckpt["version"] == 2 and ckpt["upgraded_from"] == 1
    assert ckpt["model"]["preset"] == "nano"
    assert SCCoSFConfig(**ckpt["model"]["config"]) == model.config
    loaded = Predictor.from_checkpoint(path, "cpu")
    assert loaded.train_size == (96, 128) and loaded.meta["step"] == 7
    assert loaded.predict(*_frames()).labels is None  # ablation E survived the upgrade
    _same_predictions(Predictor(model, "cpu"), loaded)
    no_crop = Predictor.from_checkpoint(
        _write_v1(tmp_path / "v1b.pt", model, {"ablation": "E"}, crop=None), "cpu"
    )
    assert no_crop.train_size is None


def test_version_1_with_an_unknown_preset_is_a_clear_error(tmp_path):
    path = _write_v1(tmp_path / "v1.pt", build_model("nano", num_classes=9), {}, None)
    ckpt = torch.load(path, weights_only=True)
    ckpt["model"]["preset"] = "huge"
    torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match=r"version 1.*cannot build"):
        load_checkpoint(path)


# --------------------------------------------------------------------------- shipped model
@pytest.fixture(scope="module")
def shipped() -> Predictor:
    return Predictor.from_checkpoint(SHIPPED, "cpu")


def test_shipped_checkpoint_loads_strictly(shipped):
    ckpt = load_checkpoint(SHIPPED)
    assert "upgraded_from" not in ckpt and ckpt["model"]["preset"] == "nano"
    # nano with the issue-27 fusion head (models/README.md: stage 2 trained only ReAW)
    assert shipped.model.config == dataclasses.replace(PRESETS["nano"], reaw_output="luma_weights")
    assert shipped.train_size == (192, 256)  # the crop its last training run used
    assert shipped.class_names == list(MFNET_CLASSES)


def test_shipped_checkpoint_reproduces_its_recorded_outputs(shipped):
    out = shipped.predict(*digest_input())
    counts = np.bincount(out.labels.ravel(), minlength=len(MFNET_CLASSES))
    assert out.labels.shape == (240, 320) and counts.sum() == 240 * 320
    assert np.abs(counts - SHIPPED_LABEL_COUNTS).max() <= LABEL_TOLERANCE, counts.tolist()
    fused = out.fused.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(fused.mean(0), SHIPPED_FUSED_MEAN, atol=FUSED_TOLERANCE)
    np.testing.assert_allclose(fused.std(0), SHIPPED_FUSED_STD, atol=FUSED_TOLERANCE)
    with torch.inference_mode():
        logits = shipped.model(*shipped.preprocess(*digest_input())).logits[0].double()
    np.testing.assert_allclose(logits.mean((1, 2)), SHIPPED_LOGIT_MEAN, atol=LOGIT_TOLERANCE)
    np.testing.assert_allclose(logits.std((1, 2)), SHIPPED_LOGIT_STD, atol=LOGIT_TOLERANCE)


def test_shipped_checkpoint_survives_a_version_2_round_trip(shipped, tmp_path):
    path = save_checkpoint(
        tmp_path / "v2.pt",
        shipped.model,
        class_names=shipped.class_names,
        palette=shipped.palette,
        thermal_norm=shipped.thermal_norm,
        train_size=shipped.train_size,
        half=True,
    )
    again = Predictor.from_checkpoint(path, "cpu")
    assert again.train_size == shipped.train_size
    assert load_checkpoint(path)["model"]["preset"] == "nano"
    _same_predictions(shipped, again)  # the shipped weights are fp16 already: nothing lost


def test_a_temperature_trained_checkpoint_records_its_units_and_window(tmp_path):
    from sccosf_ros.thermal import ThermalNorm

    trained = ThermalNorm(mode="temperature", units="centikelvin", window_low=-5, window_high=35)
    path = save_checkpoint(
        tmp_path / "t.pt", build_model("nano", num_classes=2), thermal_norm=trained
    )
    record = load_checkpoint(path)["thermal_norm"]
    assert (record["mode"], record["units"], record["window_low"], record["window_high"]) == (
        "temperature",
        "centikelvin",
        -5.0,
        35.0,
    )
    loaded = Predictor.from_checkpoint(path, "cpu")
    assert loaded.thermal_norm == trained == loaded.checkpoint_thermal_norm
