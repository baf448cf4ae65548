"""Trainer: learning on synthetic scenes, ablations, clear errors, the `sccosf train` CLI."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch

from sccosf_ros.training.errors import TrainError
from sccosf_ros.training.trainer import Trainer

CROP = (64, 96)  # conftest's train_cfg crop
MAJORITY_ITERS = 200


# --------------------------------------------------------------------------- learning
def _label_counts(dataset) -> np.ndarray:
    counts = np.zeros(256, np.int64)
    for i in range(len(dataset)):
        counts += np.bincount(dataset.load_raw(i).label.ravel(), minlength=256)
    counts[255] = 0
    return counts


def test_short_training_lowers_loss_and_beats_class_prior(synth_root, tmp_path, train_cfg):
    """Loss falls, and on held-out images the trained net's cross-entropy beats the best
    image-independent predictor (the training class frequencies at every pixel)."""
    import torch.nn.functional as F

    from sccosf_ros.data.datasets import build_dataset
    from sccosf_ros.inference import load_checkpoint, model_from_checkpoint

    cfg = train_cfg(
        synth_root,
        tmp_path / "run",
        max_iters=30,
        batch_size=4,
        lr=2e-3,
        warmup_iters=3,
        eval_interval=15,
        max_eval_images=4,
        log_interval=5,
    )
    trainer = Trainer(cfg)
    summary = trainer.fit()
    losses = [h["total"] for h in trainer.history]
    assert len(losses) == 30
    assert np.mean(losses[-6:]) < 0.5 * np.mean(losses[:3]), losses
    assert summary["best_miou"] is not None and summary["step"] == 30

    train = build_dataset("synthetic", str(synth_root), "train")
    k = len(train.class_names)
    prior = _label_counts(train)[:k].astype(np.float64) + 1.0
    log_prior = torch.tensor(np.log(prior / prior.sum()), dtype=torch.float32)
    test = build_dataset("synthetic", str(synth_root), "test")
    model = model_from_checkpoint(load_checkpoint(tmp_path / "run" / "latest.pt")).eval()
    ce_model, ce_prior = [], []
    with torch.no_grad():
        for i in range(len(test)):
            s = test[i]
            logits = model(s["rgb"][None], s["thermal"][None]).logits
            label = s["label"][None]
            ce_model.append(float(F.cross_entropy(logits, label, ignore_index=255)))
            flat = log_prior[None, :, None, None].expand_as(logits)
            ce_prior.append(float(F.cross_entropy(flat, label, ignore_index=255)))
    assert np.mean(ce_model) < np.mean(ce_prior), (np.mean(ce_model), np.mean(ce_prior))


@pytest.mark.slow
def test_longer_training_beats_majority_class_miou(synth_root, tmp_path, train_cfg):
    """A few hundred steps: held-out mIoU beats always predicting the most frequent class."""
    from sccosf_ros.data.datasets import build_dataset
    from sccosf_ros.inference import Predictor
    from sccosf_ros.metrics import ConfusionMatrix

    cfg = train_cfg(
        synth_root,
        tmp_path / "run",
        max_iters=MAJORITY_ITERS,
        batch_size=4,
        lr=3e-3,
        warmup_iters=10,
        eval_interval=MAJORITY_ITERS // 3,
        max_eval_images=8,
        log_interval=20,
    )
    Trainer(cfg).fit()
    majority = int(_label_counts(build_dataset("synthetic", str(synth_root), "train")).argmax())
    test = build_dataset("synthetic", str(synth_root), "test")
    pred = Predictor.from_checkpoint(tmp_path / "run" / "best.pt", device="cpu")
    k = pred.num_classes
    cm_model, cm_major = ConfusionMatrix(k), ConfusionMatrix(k)
    for i in range(len(test)):
        raw = test.load_raw(i)
        cm_model.update(pred.predict(raw.rgb, raw.thermal).labels, raw.label)
        cm_major.update(np.full_like(raw.label, majority), raw.label)
    assert cm_model.miou() > cm_major.miou() + 0.05, (cm_model.iou(), cm_major.iou())


def test_ablation_without_segmentation_head_trains(synth_root, tmp_path, train_cfg):
    t = Trainer(train_cfg(synth_root, tmp_path / "run", max_iters=2, ablation="E"))
    summary = t.fit()
    assert summary["best_miou"] is None and t.history[-1]["ce"] == 0.0
    assert (tmp_path / "run" / "best.pt").is_file()


def test_demo_model_options_train_and_reach_the_loss(synth_root, tmp_path, train_cfg):
    """The shipped model's departures (recipe nano-synthetic-demo) run end to end."""
    cfg = train_cfg(
        synth_root,
        tmp_path / "run",
        max_iters=2,
        model_overrides={"reaw_output": "luma_weights"},
        fusion_loss={"gamma_mode": "exposure", "denominator": "crop"},
        fusion_weight=0.5,
        camera_augment=True,
    )
    t = Trainer(cfg)
    assert t.model.fusion_head.output == "luma_weights"
    assert t.loss_fn.fusion_weight == 0.5
    assert t.loss_fn.fusion.config.gamma_mode == "exposure"
    assert t.loss_fn.fusion.config.denominator == "crop"
    assert t.loss_fn.fusion.config.gamma == 0.5  # the rest stays MRFS's MFNet constants
    t.fit()
    assert math.isfinite(t.history[-1]["fusion"]) and t.history[-1]["fusion"] > 0


# --------------------------------------------------------------------------- errors
def test_clear_errors(synth_root, tmp_path, train_cfg):
    with pytest.raises(TrainError, match="larger than the training images"):
        Trainer(train_cfg(synth_root, tmp_path / "a", crop=(480, 640)))
    with pytest.raises(TrainError, match="cannot fill one global batch"):
        Trainer(train_cfg(synth_root, tmp_path / "b", batch_size=1000))
    with pytest.raises(TrainError, match="does not exist"):
        Trainer(train_cfg(synth_root, tmp_path / "c", resume=True))
    with pytest.raises(TrainError, match="exactly one of"):
        Trainer(train_cfg(synth_root, tmp_path / "d", epochs=1))
    with pytest.raises(TrainError, match=r"fusion_loss .*denominator"):
        Trainer(train_cfg(synth_root, tmp_path / "f", fusion_loss={"denominator": "batch"}))
    with pytest.raises(TrainError, match=r"fusion_loss .*gama"):
        Trainer(train_cfg(synth_root, tmp_path / "g", fusion_loss={"gama": 1.0}))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TrainError):
        Trainer(train_cfg(empty, tmp_path / "e"))


# --------------------------------------------------------------------------- CLI
def test_cli_train_end_to_end_and_resume(synth_root, tmp_path, capsys):
    from sccosf_ros.cli import main

    out = tmp_path / "cli"
    args = [
        "train",
        "--dataset",
        "synthetic",
        "--root",
        str(synth_root),
        "--preset",
        "nano",
        "--batch-size",
        "2",
        "--crop",
        *map(str, CROP),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--workers",
        "0",
        "--eval-interval",
        "2",
        "--max-eval-images",
        "2",
        "--log-interval",
        "1",
        "--no-progress",
    ]
    ship = tmp_path / "ship.pt"
    assert main([*args, "--max-iters", "2", "--export", str(ship)]) == 0
    text = capsys.readouterr().out
    assert "best val mIoU" in text and str(out / "best.pt") in text and str(ship) in text
    shipped = torch.load(ship, weights_only=True)
    assert "train_state" not in shipped
    assert all(
        v.dtype == torch.float16 for v in shipped["state_dict"].values() if v.is_floating_point()
    )
    from sccosf_ros.inference import Predictor

    Predictor.from_checkpoint(ship, device="cpu")
    for f in ("latest.pt", "best.pt", "log.csv", "train_config.json"):
        assert (out / f).is_file(), f
    assert any((out / "tensorboard").iterdir())
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert {"lr", "ce", "fusion", "total", "val_miou"} <= set(rows[0])
    assert any(r["kind"] == "val" and r["val_miou"] for r in rows)

    # continue the same run to 4 steps
    assert main([*args, "--max-iters", "4", "--resume", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["step"] == 4
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert [int(r["step"]) for r in rows if r["kind"] == "train"] == [1, 2, 3, 4]


def test_cli_reports_bad_input(synth_root, tmp_path, capsys):
    from sccosf_ros.cli import main

    rc = main(
        [
            "train",
            "--dataset",
            "synthetic",
            "--root",
            str(synth_root),
            "--out",
            str(tmp_path / "x"),
            "--max-iters",
            "1",
            "--crop",
            "2000",
            "2000",
            "--device",
            "cpu",
            "--workers",
            "0",
        ]
    )
    assert rc == 2
    assert "larger than the training images" in capsys.readouterr().err


# --------------------------------------------------------------------------- bench
def test_bench_train_reports_throughput(capsys):
    import argparse

    from sccosf_ros.bench import train as bench

    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(
        ["--crop", "32", "64", "--batch-size", "1", "--iters", "2", "--warmup", "1", "--json"]
    )
    assert bench.run(args) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["preset"] == "nano" and result["crop"] == [32, 64]
    assert result["train_images_per_s"] == pytest.approx(1e3 / result["train_ms_median"])
    # The ratio as defined (whether training costs more than inference is the bench's figure).
    ratio = result["train_ms_median"] / result["forward_ms_median"]
    assert result["train_over_forward"] == pytest.approx(ratio)
