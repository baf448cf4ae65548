"""``evaluate`` and ``sccosf eval`` end to end on a tiny synthetic dataset (real PNG layouts)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter

import cv2
import numpy as np
import pytest

from sccosf_ros.evaluation.report import GRID_COLUMNS, GRID_GAP, GRID_HEADER, grid_panel_size
from sccosf_ros.metrics import FUSION_METRICS, fusion_metrics

H, W = 48, 64


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    from sccosf_ros.synthetic import write_dataset

    root = tmp_path_factory.mktemp("synth") / "mfnet"
    write_dataset(
        root, layout="mfnet", n=12, seed=3, height=H, width=W, night_fraction=0.5, progress=False
    )
    return root


@pytest.fixture(scope="module")
def test_split(synth_root):
    from sccosf_ros.data.datasets import build_dataset

    return build_dataset("synthetic", synth_root, "test")


@pytest.fixture(scope="module")
def predictor(nano_checkpoint):
    from sccosf_ros.inference import Predictor

    return Predictor.from_checkpoint(nano_checkpoint, device="cpu")


@pytest.fixture(scope="module")
def evaluated(predictor, test_split, tmp_path_factory):
    from sccosf_ros.evaluation.evaluate import evaluate

    out = tmp_path_factory.mktemp("eval")
    results = evaluate(
        predictor,
        test_split,
        out,
        grid_samples=3,
        progress=False,
        split="test",
        checkpoint="nano.pt",
    )
    return out, results


def test_metrics_json_is_consistent(evaluated, test_split, predictor):
    out, results = evaluated
    data = json.loads((out / "metrics.json").read_text())
    assert data == json.loads(json.dumps(results))  # what was returned is what was written
    n = len(test_split)
    assert data["n_images"] == n and len(data["images"]) == n
    names = list(test_split.class_names)
    assert list(data["iou"]) == names and data["class_names"] == names
    # the confusion matrix counts exactly the labelled pixels of the split
    labelled = sum(int((test_split.load_raw(i).label != 255).sum()) for i in range(n))
    conf = np.asarray(data["confusion"])
    assert conf.shape == (len(names), len(names)) and conf.sum() == labelled
    # IoU and mIoU recounted here from the masks themselves (no ConfusionMatrix): per class,
    # labelled pixels in both / in either; classes in neither count as absent (None).
    inter, union, pairs = np.zeros(len(names)), np.zeros(len(names)), Counter()
    for i in range(n):
        raw = test_split.load_raw(i)
        pred, label = predictor.predict(raw.rgb, raw.thermal).labels, raw.label
        keep = label != 255
        p, t = pred[keep].tolist(), label[keep].tolist()
        pairs.update(zip(t, p))
        for c in range(len(names)):
            inter[c] += sum(1 for a, b in zip(t, p) if a == c and b == c)
            union[c] += sum(1 for a, b in zip(t, p) if a == c or b == c)
    assert {(int(r), int(c)): int(v) for (r, c), v in np.ndenumerate(conf) if v} == pairs
    iou = [inter[c] / union[c] if union[c] else None for c in range(len(names))]
    assert [data["iou"][name] for name in names] == pytest.approx(iou)
    assert data["miou"] == pytest.approx(np.mean([v for v in iou if v is not None]))
    correct = sum(v for (a, b), v in pairs.items() if a == b)
    assert data["pixel_acc"] == pytest.approx(correct / labelled)
    # fusion: every metric, one value per image, mean of the per-image values; image 0 again
    assert set(data["fusion"]) == set(FUSION_METRICS)
    raw = test_split.load_raw(0)
    again = fusion_metrics(predictor.predict(raw.rgb, raw.thermal).fused, raw.rgb, raw.thermal)
    for m, d in data["fusion"].items():
        assert len(d["per_image"]) == n
        finite = [v for v in d["per_image"] if v is not None]
        assert d["mean"] == pytest.approx(np.mean(finite))
        assert d["per_image"][0] == pytest.approx(again[m], rel=1e-6, abs=1e-9)
    # day / night partition the split
    nights = [test_split.load_raw(i).night for i in range(n)]
    if any(v is not None for v in nights):
        parts = [p for p in ("day", "night") if p in data]
        assert sum(data[p]["n_images"] for p in parts) == sum(v is not None for v in nights)
        for p in parts:
            assert set(data[p]) >= {"miou", "iou", "n_images"}
    assert data["checkpoint"]["path"] == "nano.pt"
    assert data["synthetic"] is True and data["split"] == "test"
    assert data["dataset"] == "mfnet"


def test_report_has_the_paper_tables(evaluated):
    out, results = evaluated
    text = (out / "report.md").read_text()
    assert "Table 1" in text
    header = "| Method | Car | Person | Bike | Curve | Car Stop | Guar. | Cone | Bump | mIoU |"
    assert header in text
    assert "| SC-CoSF (real dataset, paper) | 90.7 | 74.1 |" in text  # the paper's row
    assert f"{100 * results['miou']:.1f} |" in text  # ours beside it
    assert "Synthetic data" in text and "not comparable" in text
    assert "| EN |" in text and "| Qabf |" in text and "Figure 9" in text
    assert "](examples.png)" in text and "](fusion_violin.png)" in text
    # both mIoU conventions beside the paper's number, and the fusion convention stated
    assert f"| with unlabeled | 9 classes | {100 * results['miou']:.1f} | 59.8 |" in text
    wo = results["miou_without_background"]
    assert f"| without unlabeled | 8 classes | {100 * wo:.1f} | 59.8 |" in text
    assert "cddfuse: grayscale 0-255" in text and "data range 2" in text


def test_fused_image_beside_the_baselines(evaluated, test_split):
    """The labelled mode shows the rows of ``sccosf eval --rgb/--thermal`` too, same code."""
    from sccosf_ros.metrics.colour_fidelity import colour_fidelity
    from sccosf_ros.metrics.fusion_baselines import max_luminance

    out, results = evaluated
    comparison = results["fusion_comparison"]
    assert list(comparison) == ["model", "rgb", "average", "max"]
    # the model row is the mean of the per-image fusion metrics above it
    for m in FUSION_METRICS:
        assert comparison["model"][m] == pytest.approx(results["fusion"][m]["mean"])
    # a baseline row recomputed here from the samples themselves
    raws = [test_split.load_raw(i) for i in range(len(test_split))]
    imgs = [max_luminance(r.rgb, r.thermal) for r in raws]
    sd = np.mean([fusion_metrics(f, r.rgb, r.thermal)["SD"] for f, r in zip(imgs, raws)])
    dcr = np.mean([colour_fidelity(f, r.rgb)["dCr"] for f, r in zip(imgs, raws)])
    assert comparison["max"]["SD"] == pytest.approx(sd)
    assert comparison["max"]["dCr"] == pytest.approx(dcr)
    assert comparison["rgb"]["dCb"] == 0.0
    text = (out / "report.md").read_text()
    assert "### Against baselines" in text and "| this checkpoint |" in text
    assert "| per-pixel max of RGB luminance and IR (RGB chroma kept) |" in text


def test_metrics_json_states_the_conventions(evaluated):
    _, results = evaluated
    conv = results["conventions"]["fusion_convention"]
    assert conv["name"] == "cddfuse" and conv["ssim_data_range"] == 2.0
    assert conv["mi_units"] == "nats"
    iou = [v for v in list(results["iou"].values())[1:] if v is not None]
    assert results["background_class"] == "unlabeled"
    assert math.isclose(results["miou_without_background"], sum(iou) / len(iou))


def test_pictures_are_readable_with_the_expected_size(evaluated):
    out, results = evaluated
    rows = min(3, results["n_images"])
    grid = cv2.imread(str(out / "examples.png"))
    assert grid is not None
    ph, pw = grid_panel_size(H, W)
    ncol = len(GRID_COLUMNS)
    height = GRID_HEADER + rows * ph + (rows - 1) * GRID_GAP
    assert grid.shape == (height, ncol * pw + (ncol - 1) * GRID_GAP, 3)
    violin = cv2.imread(str(out / "fusion_violin.png"))
    assert violin is not None and violin.shape[0] > 100 and violin.shape[1] > 200


def test_max_images_and_no_fusion(predictor, test_split, tmp_path):
    from sccosf_ros.evaluation.evaluate import evaluate

    res = evaluate(
        predictor, test_split, tmp_path, max_images=2, grid_samples=0, progress=False, fusion=False
    )
    assert res["n_images"] == 2 and "fusion" not in res
    assert not (tmp_path / "examples.png").exists()
    assert (tmp_path / "report.md").is_file()


class _OneHeadPredictor:
    """A real Predictor whose model lacks one head, as the paper's ablations E and F."""

    def __init__(self, base, drop: str) -> None:
        self.base, self.drop = base, drop
        self.class_names, self.palette = base.class_names, base.palette

    def predict(self, rgb, thermal):
        pred = self.base.predict(rgb, thermal)
        setattr(pred, self.drop, None)
        return pred


@pytest.mark.parametrize("drop", ["labels", "fused"])
def test_models_without_one_head(predictor, test_split, tmp_path, drop):
    from sccosf_ros.evaluation.evaluate import evaluate

    res = evaluate(
        _OneHeadPredictor(predictor, drop),
        test_split,
        tmp_path,
        max_images=1,
        grid_samples=1,
        progress=False,
    )
    text = (tmp_path / "report.md").read_text()
    assert cv2.imread(str(tmp_path / "examples.png")) is not None
    if drop == "labels":  # ablation E: fusion only
        assert res["miou"] is None and res["confusion"] is None and "fusion" in res
        assert "no segmentation head" in text
    else:  # ablation F: segmentation only
        assert res["miou"] is not None and "fusion" not in res
        assert not (tmp_path / "fusion_violin.png").exists()
        assert "Fusion metrics not computed" in text


def test_class_count_mismatch_is_a_clear_error(predictor, tmp_path):
    from sccosf_ros.data.datasets import build_dataset
    from sccosf_ros.evaluation.evaluate import evaluate
    from sccosf_ros.synthetic import write_dataset

    root = write_dataset(
        tmp_path / "fmb", layout="fmb", n=4, seed=0, height=H, width=W, progress=False
    )
    ds = build_dataset("synthetic", root, "test")
    with pytest.raises(ValueError, match="classes"):
        evaluate(predictor, ds, tmp_path / "out", progress=False)


def test_cli_eval_end_to_end(nano_checkpoint, synth_root, tmp_path, capsys):
    from sccosf_ros.cli import main

    out = tmp_path / "cli"
    rc = main(
        [
            "eval",
            "--backend",
            "torch",
            "--checkpoint",
            str(nano_checkpoint),
            "--dataset",
            "synthetic",
            "--root",
            str(synth_root),
            "--split",
            "test",
            "--out",
            str(out),
            "--device",
            "cpu",
            "--max-images",
            "2",
            "--input-size",
            "32",
            "48",
            "--grid-samples",
            "2",
            "--no-progress",
        ]
    )
    printed = capsys.readouterr().out
    assert rc == 0
    assert "mIoU" in printed and "report.md" in printed and "fusion (mean)" in printed
    data = json.loads((out / "metrics.json").read_text())
    assert data["n_images"] == 2 and data["checkpoint"]["input_size"] == [32, 48]
    assert cv2.imread(str(out / "examples.png")) is not None


def test_cli_bad_checkpoint_and_missing_dataset(synth_root, tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"this is not a checkpoint")
    cmd = [
        sys.executable,
        "-m",
        "sccosf_ros.cli",
        "eval",
        "--backend",
        "torch",
        "--checkpoint",
        str(bad),
        "--dataset",
        "synthetic",
        "--root",
        str(synth_root),
        "--out",
        str(tmp_path / "o"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "not a PyTorch checkpoint" in proc.stderr and "Traceback" not in proc.stderr

    from sccosf_ros.cli import main

    missing = tmp_path / "nowhere"
    rc = main(
        [
            "eval",
            "--backend",
            "torch",
            "--checkpoint",
            str(bad),
            "--dataset",
            "mfnet",
            "--root",
            str(missing),
            "--out",
            str(tmp_path / "o2"),
        ]
    )
    assert rc == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and not (tmp_path / "o2").exists()


def test_cli_unknown_split_is_a_clear_error(nano_checkpoint, synth_root, tmp_path, capsys):
    from sccosf_ros.cli import main

    rc = main(
        [
            "eval",
            "--backend",
            "torch",
            "--checkpoint",
            str(nano_checkpoint),
            "--dataset",
            "synthetic",
            "--root",
            str(synth_root),
            "--split",
            "nosuch",
            "--out",
            str(tmp_path / "o"),
            "--device",
            "cpu",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "nosuch" in err and "Traceback" not in err


def test_fmb_reports_15_and_14_class_miou(tmp_path):
    import torch

    from sccosf_ros.classes import FMB_CLASSES
    from sccosf_ros.data.datasets import build_dataset
    from sccosf_ros.evaluation.evaluate import evaluate
    from sccosf_ros.inference import Predictor
    from sccosf_ros.model import build_model
    from sccosf_ros.synthetic import write_dataset

    root = write_dataset(tmp_path / "fmb", layout="fmb", n=6, seed=1, height=H, width=W,
                         progress=False)  # fmt: skip
    torch.manual_seed(0)
    pred = Predictor(build_model("nano", num_classes=len(FMB_CLASSES)), "cpu",
                     class_names=FMB_CLASSES)  # fmt: skip
    results = evaluate(pred, build_dataset("fmb", root, "test"), tmp_path / "out",
                       grid_samples=0, progress=False, fusion=False)  # fmt: skip
    assert len(results["iou"]) == 15 and results["background_class"] == "background"
    assert results["miou_without_background"] is not None
    text = (tmp_path / "out" / "report.md").read_text()
    assert "| with background | 15 classes |" in text and "| 61.8 |" in text
    assert "| without background | 14 classes |" in text and "counts 14 FMB classes" in text
