"""A custom 4-class set (classes.yaml of a hand-made folder dataset) end to end through
``sccosf train --init-from`` and ``sccosf eval``: the checkpoint carries the names and colours."""

from __future__ import annotations

import json

from sccosf_ros.cli import main
from sccosf_ros.inference import load_checkpoint

CLASSES = ["background", "pallet", "person", "forklift"]  # test/conftest.py CUSTOM_CLASSES
PALETTE = [[0, 0, 0], [230, 160, 40], [220, 20, 60], [250, 220, 0]]


def test_the_checkpoint_carries_the_datasets_class_set(custom_class_checkpoint):
    best, err = custom_class_checkpoint
    line = next(x for x in err.splitlines() if x.startswith("init-from"))
    assert "4 classes (background, pallet, person, forklift)" in line
    assert "seg_head.classifier.2.weight, seg_head.classifier.2.bias start fresh" in line
    ckpt = load_checkpoint(best)
    assert ckpt["class_names"] == CLASSES and ckpt["palette"] == PALETTE
    assert ckpt["model"]["num_classes"] == 4 and ckpt["dataset"] == "folder"
    assert ckpt["state_dict"]["seg_head.classifier.2.weight"].shape[0] == 4


def test_sccosf_eval_scores_the_custom_classes(
    custom_class_checkpoint, custom_folder_dataset, tmp_path
):
    best, _ = custom_class_checkpoint
    out = tmp_path / "eval"
    args = ["eval", "--checkpoint", str(best), "--dataset", "folder"]
    args += ["--root", str(custom_folder_dataset), "--split", "test", "--out", str(out)]
    assert main([*args, "--no-progress", "--no-fusion-metrics"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["class_names"] == CLASSES and list(metrics["iou"]) == CLASSES
    assert 0.0 <= metrics["miou"] <= 1.0 and metrics["background_class"] == "background"
