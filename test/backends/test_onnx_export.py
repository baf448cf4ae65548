"""``sccosf export`` and ``Predictor.from_onnx`` on the shipped and a freshly trained checkpoint:
metadata, parity against torch in ONNX Runtime and OpenVINO, and its clear failures."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("openvino")
pytest.importorskip("onnxscript")

from sccosf_ros.backends.onnx_export import read_metadata
from sccosf_ros.backends.parity import compare
from sccosf_ros.classes import MFNET_CLASSES, MFNET_PALETTE
from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.inference import Predictor
from sccosf_ros.paths import default_checkpoint
from sccosf_ros.synthetic.pairs import frame_pairs


@pytest.mark.slow
def test_export_shipped_checkpoint_at_its_training_size(tmp_path, capsys):
    out = tmp_path / "nano.onnx"
    report = tmp_path / "parity.json"
    code = sccosf_main(["export", "--out", str(out), "--check-pairs", "2", "--json", str(report)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    meta = read_metadata(out)
    ship = Predictor.from_checkpoint(default_checkpoint(), device="cpu")
    assert meta["input_size"] == list(ship.train_size) == [192, 256]  # the recorded crop
    assert meta["class_names"] == list(MFNET_CLASSES)
    assert meta["palette"] == [list(c) for c in MFNET_PALETTE]
    assert meta["thermal_norm"] == ship.thermal_norm.to_dict()
    # nano with the issue-27 fusion head: no preset is exactly that config (preset None)
    assert meta["outputs"] == ["fused", "logits"] and meta["preset"] is None
    assert meta["config"]["reaw_output"] == "luma_weights" and meta["config"]["encoder"] == (
        ship.model.config.encoder
    )
    reports = {r["backend"]: r for r in json.loads(report.read_text())["reports"]}
    assert set(reports) == {"onnxruntime", "openvino"}
    for r in reports.values():
        assert r["passed"] and r["label_agreement"] >= 0.999 and r["fused_max_diff"] <= 2
    assert "label agreement" in printed and "openvino" in printed


def test_from_onnx_needs_no_checkpoint_and_matches_torch(tmp_path, capsys):
    out = tmp_path / "nano_64x96.onnx"
    args = ["export", "--out", str(out), "--height", "64", "--width", "96", "--check-pairs", "0"]
    assert sccosf_main(args) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # a file to share, not mkstemp's 0600
    ship = Predictor.from_checkpoint(default_checkpoint(), device="cpu")
    pairs = frame_pairs(3, (64, 96), thermal_raw=False, seed=5)
    for backend in ("onnxruntime", "openvino"):
        pred = Predictor.from_onnx(out, backend=backend)
        assert pred.model is None and pred.input_size == (64, 96)
        assert pred.class_names == list(MFNET_CLASSES) and pred.backend == backend
        r = compare(ship, pred, pairs)
        assert r.passed, r.line()
        # frames of another size are resized to the graph's size and the results back
        rgb, thermal = pairs[0]
        big = pred.predict(
            np.repeat(np.repeat(rgb, 2, 0), 2, 1), np.kron(thermal, np.ones((2, 2), np.uint8))
        )
        assert big.labels.shape == (128, 192) and big.fused.shape == (128, 192, 3)
        assert set(big.timings_ms) == {"preprocess", "model", "postprocess", "total"}


@pytest.mark.slow
def test_export_a_freshly_trained_tiny_checkpoint(tmp_path, capsys):
    from sccosf_ros.synthetic import write_dataset
    from sccosf_ros.training.config import TrainConfig
    from sccosf_ros.training.trainer import Trainer

    root = tmp_path / "synth"
    write_dataset(root, layout="mfnet", n=6, seed=1, height=64, width=64)
    cfg = TrainConfig(
        dataset="synthetic",
        root=str(root),
        out=str(tmp_path / "run"),
        preset="tiny",
        max_iters=2,
        batch_size=1,
        crop=(32, 64),
        num_workers=0,
        eval_interval=0,
        progress=False,
        tensorboard=False,
        log_interval=1,
        device="cpu",
        max_eval_images=1,
    )
    Trainer(replace(cfg)).fit()
    ckpt = tmp_path / "run" / "latest.pt"
    out = tmp_path / "tiny.onnx"
    code = sccosf_main(
        ["export", "--checkpoint", str(ckpt), "--out", str(out), "--check-pairs", "2"]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    meta = read_metadata(out)
    assert meta["input_size"] == [32, 64] and meta["preset"] == "tiny"
    assert printed.count(" ok") == 2  # onnxruntime and openvino both at the bar
