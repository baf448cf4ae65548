"""Predictor and the checkpoint format (DESIGN.md ★ interfaces)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from sccosf_ros.classes import MFNET_CLASSES, MFNET_PALETTE
from sccosf_ros.inference import (
    CheckpointError,
    Predictor,
    load_checkpoint,
    save_checkpoint,
)
from sccosf_ros.model import build_model
from sccosf_ros.thermal import ThermalNorm


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model("nano", num_classes=9).eval()


def _frames(h=61, w=83, seed=0):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    thermal = (7000 + rng.integers(0, 2000, (h, w))).astype(np.uint16)
    return rgb, thermal


def test_predict_returns_input_resolution(model):
    pred = Predictor(model, "cpu", class_names=MFNET_CLASSES, palette=MFNET_PALETTE)
    rgb, thermal = _frames()
    out = pred.predict(rgb, thermal)
    assert out.fused.shape == (61, 83, 3) and out.fused.dtype == np.uint8
    assert out.labels.shape == (61, 83) and out.labels.dtype == np.uint8
    assert out.labels.max() < 9
    assert {"preprocess", "model", "postprocess", "total"} <= set(out.timings_ms)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_thermal_dtypes(model, dtype):
    rgb, thermal = _frames(40, 48)
    t = thermal.astype(dtype) if dtype != np.uint8 else (thermal // 40).astype(np.uint8)
    out = Predictor(model, "cpu").predict(rgb, t)
    assert out.labels.shape == (40, 48)


def test_input_size_resizes_and_restores(model):
    pred = Predictor(model, "cpu", input_size=(64, 96))
    rgb, thermal = _frames(120, 150)
    out = pred.predict(rgb, thermal)
    assert out.fused.shape == (120, 150, 3) and out.labels.shape == (120, 150)


def test_mismatched_or_bad_inputs_raise(model):
    pred = Predictor(model, "cpu")
    rgb, thermal = _frames(40, 48)
    with pytest.raises(ValueError, match="differ in size"):
        pred.predict(rgb, thermal[:20])
    with pytest.raises(ValueError, match="uint8"):
        pred.predict(rgb.astype(np.float32), thermal)
    with pytest.raises(ValueError):
        pred.predict(rgb[..., 0], thermal)
    with pytest.raises(ValueError):
        Predictor(model, "cpu", input_size=(0, 10))


def test_checkpoint_round_trip_gives_identical_predictions(model, tmp_path):
    norm = ThermalNorm(mode="fixed", low=7000, high=9000)
    path = save_checkpoint(
        tmp_path / "m.pt",
        model,
        class_names=MFNET_CLASSES,
        palette=MFNET_PALETTE,
        thermal_norm=norm,
        dataset="synthetic",
        meta={"step": 3},
    )
    ckpt = torch.load(path, weights_only=True)  # the DESIGN.md promise
    assert ckpt["model"] == {"config": model.config.to_dict(), "num_classes": 9, "preset": "nano"}
    loaded = Predictor.from_checkpoint(path, device="cpu")
    assert loaded.class_names == list(MFNET_CLASSES)
    assert loaded.thermal_norm == norm and loaded.meta["step"] == 3
    direct = Predictor(model, "cpu", thermal_norm=norm)
    rgb, thermal = _frames()
    a, b = direct.predict(rgb, thermal), loaded.predict(rgb, thermal)
    np.testing.assert_array_equal(a.fused, b.fused)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_half_checkpoint_is_smaller_and_close(model, tmp_path):
    full = save_checkpoint(tmp_path / "f.pt", model)
    half = save_checkpoint(tmp_path / "h.pt", model, half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    rgb, thermal = _frames()
    a = Predictor.from_checkpoint(full, "cpu").predict(rgb, thermal)
    b = Predictor.from_checkpoint(half, "cpu").predict(rgb, thermal)
    assert np.abs(a.fused.astype(int) - b.fused.astype(int)).mean() < 2.0


def test_bad_checkpoints_fail_with_a_message(model, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="neither a zip nor a pickle file") as e:
        load_checkpoint(junk)
    assert "weights_only" not in str(e.value)  # never advice to load code
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"garbage garbage garbage")
    with pytest.raises(CheckpointError, match="is not a PyTorch checkpoint") as e:
        load_checkpoint(garbage)
    assert "weights_only" not in str(e.value)
    good = save_checkpoint(tmp_path / "good.pt", model)
    truncated = tmp_path / "trunc.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        Predictor.from_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": model.state_dict()}, foreign)
    with pytest.raises(CheckpointError, match="not an sccosf_ros checkpoint"):
        load_checkpoint(foreign)
    # Weights of another head size: a clear mismatch error, not a traceback from load_state_dict.
    ckpt = torch.load(good, weights_only=True)
    ckpt["model"]["num_classes"] = 15
    mismatched = tmp_path / "mismatch.pt"
    torch.save(ckpt, mismatched)
    with pytest.raises(CheckpointError, match="different network") as e:
        Predictor.from_checkpoint(mismatched)
    assert "0 missing / 0 unexpected keys, 2 of another shape" in str(e.value)
    assert "Missing key(s)" not in str(e.value)


def test_unsafe_pickles_are_refused(tmp_path):
    evil = tmp_path / "evil.pt"
    # A pickle that would construct an arbitrary class: weights_only refuses to unpickle it.
    torch.save({"format": "sccosf_ros.checkpoint", "x": argparse.Namespace(a=1)}, evil)
    with pytest.raises(CheckpointError, match="was refused: it contains code") as info:
        load_checkpoint(evil)
    assert "the pickled global argparse.Namespace)" in str(info.value)


def test_predict_cli_writes_pngs(nano_checkpoint, tmp_path):
    rgb, thermal = _frames(48, 64)
    cv2.imwrite(str(tmp_path / "a_rgb.png"), rgb[..., ::-1])
    cv2.imwrite(str(tmp_path / "a_th.png"), thermal)  # 16-bit PNG
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sccosf_ros.cli",
            "predict",
            "--checkpoint",
            str(nano_checkpoint),
            "--rgb",
            str(tmp_path / "a_rgb.png"),
            "--thermal",
            str(tmp_path / "a_th.png"),
            "--out",
            str(out),
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    labels = cv2.imread(str(out / "a_rgb_labels.png"), cv2.IMREAD_UNCHANGED)
    assert labels.shape == (48, 64) and labels.dtype == np.uint8
    for kind in ("fused", "color", "overlay"):
        assert cv2.imread(str(out / f"a_rgb_{kind}.png")).shape == (48, 64, 3)
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "sccosf_ros.cli",
            "predict",
            "--checkpoint",
            str(tmp_path / "nope.pt"),
            "--rgb",
            str(tmp_path / "a_rgb.png"),
            "--thermal",
            str(tmp_path / "a_th.png"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "does not exist" in bad.stderr


@pytest.mark.parametrize("ablation, missing", [("E", "labels"), ("F", "fused")])
def test_ablation_without_a_head_predicts_the_other(ablation, missing, tmp_path):
    m = build_model("nano", num_classes=9, ablation=ablation)
    path = save_checkpoint(tmp_path / f"{ablation}.pt", m)
    out = Predictor.from_checkpoint(path, "cpu").predict(*_frames(40, 56))
    assert getattr(out, missing) is None
    present = out.fused if missing == "labels" else out.labels
    assert present is not None and present.shape[:2] == (40, 56)


def test_checkpoint_is_readable_by_others(model, tmp_path):
    path = save_checkpoint(tmp_path / "shared.pt", model)
    assert path.stat().st_mode & 0o044 == 0o044  # group/other may read (umask 022)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_matches_fp32(precision):
    """precision= runs the network under autocast; with the trained demo checkpoint on a
    synthetic scene the labels and the fused image stay those of fp32 (the scan runs in
    float32 under autocast: its output passes fp16's range before the LayerNorm after it)."""
    from sccosf_ros.paths import default_checkpoint
    from sccosf_ros.synthetic import render_scene

    scene = render_scene(3, height=120, width=160)
    preds = {
        p: Predictor.from_checkpoint(default_checkpoint(), "cpu", precision=p).predict(
            scene.rgb, scene.thermal8
        )
        for p in ("fp32", precision)
    }
    ref, half = preds["fp32"], preds[precision]
    assert (half.labels == ref.labels).mean() >= 0.995
    diff = np.abs(half.fused.astype(int) - ref.fused.astype(int))
    assert diff.max() <= 3 and diff.mean() <= 0.5


def test_precision_is_checked_and_reaches_the_predictor(nano_checkpoint):
    from sccosf_ros.pipeline.params import NodeParams
    from sccosf_ros.pipeline.processor import load_predictor

    with pytest.raises(ValueError, match="precision must be one of fp32, fp16, bf16"):
        Predictor(build_model("nano"), "cpu", precision="half")
    params = NodeParams.from_dict(
        {
            "checkpoint": str(nano_checkpoint),
            "device": "cpu",
            "precision": "bf16",
            "backend": "torch",
        }
    )
    assert load_predictor(params).precision == "bf16"


def test_numpy_post_processing_gives_torch_s_bytes():
    """fused_uint8 and class_ids (numpy on the CPU) equal the torch chains they replace,
    ties (first class wins) and out-of-range fused values included."""
    import torch

    from sccosf_ros.inference.predictor import class_ids, fused_uint8

    g = torch.Generator().manual_seed(0)
    fused = torch.rand(3, 17, 23, generator=g) * 1.4 - 0.2
    fused[0, 0, :4] = torch.tensor([0.5 / 255, 1.5 / 255, 2.5 / 255, 1.0])  # halves round even
    want = fused.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.array_equal(fused_uint8(fused), want) and fused_uint8(fused).flags.c_contiguous
    logits = torch.randint(0, 4, (9, 17, 23), generator=g).float()  # many ties
    assert np.array_equal(class_ids(logits), logits.max(0).indices.to(torch.uint8).numpy())
