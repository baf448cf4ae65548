"""ConfusionMatrix and SegmentationEvaluator against hand-computed and set-counted values."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from sccosf_ros.day_night import DAY, NIGHT, day_night, mfnet_day_night
from sccosf_ros.metrics import ConfusionMatrix, SegmentationEvaluator


# --------------------------------------------------------------------------- ConfusionMatrix
def _iou_by_sets(pred: np.ndarray, target: np.ndarray, k: int, ignore: int = 255) -> list:
    """Per-class IoU by counting pixel index sets (independent of the confusion matrix)."""
    idx = [i for i in range(target.size) if target.flat[i] != ignore]
    out = []
    for c in range(k):
        p = {i for i in idx if pred.flat[i] == c}
        t = {i for i in idx if target.flat[i] == c}
        union = p | t
        out.append(len(p & t) / len(union) if union else float("nan"))
    return out


def test_iou_and_miou_match_set_counting():
    rng = np.random.default_rng(0)
    k = 5
    cm = ConfusionMatrix(k)
    preds, targets = [], []
    for _ in range(3):
        pred = rng.integers(0, k - 1, (7, 9))  # class 4 never predicted
        target = rng.integers(0, k - 1, (7, 9))  # ... nor labelled: IoU NaN
        target[rng.random((7, 9)) < 0.2] = 255
        cm.update(pred, target)
        preds.append(pred)
        targets.append(target)
    expected = _iou_by_sets(np.stack(preds), np.stack(targets), k)
    np.testing.assert_allclose(cm.iou(), expected, equal_nan=True)
    assert math.isnan(cm.iou()[4])
    assert cm.miou() == pytest.approx(np.mean(expected[:4]))
    valid = np.stack(targets) != 255
    assert cm.total == valid.sum()
    acc = (np.stack(preds) == np.stack(targets))[valid].mean()
    assert cm.pixel_accuracy() == pytest.approx(acc)


def test_confusion_layout_and_torch_input():
    cm = ConfusionMatrix(3)
    cm.update(torch.tensor([[0, 1], [2, 2]]), torch.tensor([[0, 2], [2, 255]]))
    # rows = ground truth, columns = prediction
    assert cm.matrix.tolist() == [[1, 0, 0], [0, 0, 0], [0, 1, 1]]
    np.testing.assert_allclose(cm.iou(), [1.0, 0.0, 0.5])
    assert cm.miou() == pytest.approx(0.5)  # mean over all three present classes


def test_a_class_present_only_in_predictions_counts_with_iou_zero():
    cm = ConfusionMatrix(3)
    cm.update(np.array([0, 1, 1]), np.array([0, 0, 0]))
    np.testing.assert_allclose(cm.iou(), [1 / 3, 0.0, np.nan])
    assert cm.miou() == pytest.approx((1 / 3 + 0) / 2)


def test_confusion_errors_sums_and_empty():
    cm = ConfusionMatrix(3)
    assert math.isnan(cm.miou()) and math.isnan(cm.pixel_accuracy())
    with pytest.raises(ValueError, match="differ in shape"):
        cm.update(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"outside 0\.\.2"):
        cm.update(np.zeros(3), np.array([0, 1, 7]))
    with pytest.raises(ValueError, match="prediction"):
        cm.update(np.array([0, 5, 1]), np.array([0, 1, 1]))
    a, b = ConfusionMatrix(3), ConfusionMatrix(3)
    a.update(np.array([0, 1]), np.array([0, 1]))
    b.update(np.array([2, 2]), np.array([2, 1]))
    both = ConfusionMatrix(3)
    both.update(np.array([0, 1, 2, 2]), np.array([0, 1, 2, 1]))
    a.update_from_matrix(b.matrix)
    assert np.array_equal(a.matrix, both.matrix)
    c = ConfusionMatrix(3)
    c.update_from_matrix(torch.as_tensor(both.matrix, dtype=torch.float64))
    assert np.array_equal(c.matrix, both.matrix)


# --------------------------------------------------------------------------- evaluator
CLASSES = ("road", "car", "person")
# image 1 (day): confusion [[1,0,0],[0,0,0],[0,1,1]] (one pixel ignored)
DAY_PRED, DAY_GT = np.array([[0, 1], [2, 2]]), np.array([[0, 2], [2, 255]])
# image 2 (night): confusion [[0,1,0],[0,1,0],[0,0,0]]
NIGHT_PRED, NIGHT_GT = np.array([[1, 1]]), np.array([[1, 0]])


def _day_night_evaluator(**kwargs) -> SegmentationEvaluator:
    ev = SegmentationEvaluator(CLASSES, split_of=mfnet_day_night, **kwargs)
    ev.update(DAY_PRED, DAY_GT, name="00001D")
    ev.update(torch.from_numpy(NIGHT_PRED), torch.from_numpy(NIGHT_GT), name="00002N")
    return ev


def test_evaluator_hand_computed_overall_and_splits():
    r = _day_night_evaluator().result()
    # overall confusion [[1,1,0],[0,1,0],[0,1,1]]: IoU road 1/2, car 1/3, person 1/2
    assert r["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 1, 1]]
    assert r["iou"] == pytest.approx({"road": 0.5, "car": 1 / 3, "person": 0.5})
    assert r["miou"] == pytest.approx(4 / 9)
    assert r["pixel_acc"] == pytest.approx(3 / 5)
    assert r["n_images"] == 2
    assert list(r["splits"]) == [DAY, NIGHT]
    day, night = r["splits"][DAY], r["splits"][NIGHT]
    assert day["iou"] == pytest.approx({"road": 1.0, "car": 0.0, "person": 0.5})
    assert day["miou"] == pytest.approx(0.5) and day["pixel_acc"] == pytest.approx(2 / 3)
    assert day["n_images"] == 1 and "confusion" not in day
    assert night["iou"]["road"] == 0.0 and night["iou"]["car"] == pytest.approx(0.5)
    assert math.isnan(night["iou"]["person"])  # absent from both: skipped by the mean
    assert night["miou"] == pytest.approx(0.25) and night["pixel_acc"] == pytest.approx(0.5)


def test_evaluator_batches_names_and_no_splits():
    ev = SegmentationEvaluator(CLASSES)
    ev.update(np.stack([DAY_PRED, DAY_PRED]), np.stack([DAY_GT, DAY_GT]), name="00001D")
    assert ev.n_images == 2
    assert ev.confusion.matrix.tolist() == [[2, 0, 0], [0, 0, 0], [0, 2, 2]]
    assert ev.result()["splits"] == {}  # no split_of: names do not matter
    empty = SegmentationEvaluator(CLASSES).result()
    assert empty["n_images"] == 0 and math.isnan(empty["miou"]) and empty["splits"] == {}
    assert empty["confusion"] == [[0] * 3] * 3


def test_mfnet_day_night_by_suffix():
    assert mfnet_day_night("00001D") == DAY and mfnet_day_night("01234n") == NIGHT
    assert mfnet_day_night("frame_17") is None and mfnet_day_night("") is None
    ev = SegmentationEvaluator(CLASSES, split_of=mfnet_day_night)
    ev.update(DAY_PRED, DAY_GT, name="frame_17")  # no split: counted overall only
    ev.update(DAY_PRED, DAY_GT)
    assert ev.n_images == 2 and ev.result()["splits"] == {}


def test_evaluator_errors_count_nothing():
    ev = SegmentationEvaluator(CLASSES, split_of=mfnet_day_night, splits=(DAY, NIGHT))
    with pytest.raises(ValueError, match="differ in shape"):
        ev.update(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"target holds class ids outside 0\.\.2"):
        ev.update(np.zeros((1, 3)), np.array([[0, 1, 7]]), name="00001D")
    with pytest.raises(ValueError, match="prediction holds class ids"):
        ev.update(np.array([[0, 5]]), np.array([[0, 1]]), name="00001D")
    with pytest.raises(ValueError, match=r"\(H, W\) or \(B, H, W\)"):
        ev.update(np.zeros(4), np.zeros(4))
    declared = SegmentationEvaluator(CLASSES, split_of=lambda n: "dusk", splits=(DAY, NIGHT))
    with pytest.raises(ValueError, match="not one of the declared splits"):
        declared.update(DAY_PRED, DAY_GT, name="x")
    assert ev.n_images == 0 and ev.confusion.total == 0 and declared.confusion.total == 0
    with pytest.raises(ValueError, match="at least one class"):
        SegmentationEvaluator([])


def test_evaluator_ignore_index_and_declared_empty_split():
    ev = SegmentationEvaluator(
        CLASSES, ignore_index=0, split_of=mfnet_day_night, splits=(DAY, NIGHT)
    )
    ev.update(np.array([[1, 2]]), np.array([[0, 2]]), name="a_D")
    assert ev.confusion.matrix.tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 1]]
    assert list(ev.result()["splits"]) == [DAY]  # night declared but empty: left out


def test_evaluator_reduce_sums_every_count():
    one = _day_night_evaluator(splits=(DAY, NIGHT))
    two = _day_night_evaluator(splits=(DAY, NIGHT))
    two.reduce(lambda flat: torch.from_numpy(flat) * 2)  # two processes with the same images
    a, b = one.result(), two.result()
    assert b["n_images"] == 4 and np.array_equal(
        np.array(b["confusion"]), 2 * np.array(a["confusion"])
    )
    assert b["miou"] == pytest.approx(a["miou"])
    assert {s: d["n_images"] for s, d in b["splits"].items()} == {DAY: 2, NIGHT: 2}
    assert b["splits"][NIGHT]["miou"] == pytest.approx(a["splits"][NIGHT]["miou"])
    with pytest.raises(ValueError, match="sum_fn returned shape"):
        two.reduce(lambda flat: flat[:3])


def test_metrics_need_neither_torch_nor_ros():
    code = (
        "import sys, sccosf_ros.metrics; "
        "bad = [m for m in ('torch', 'rclpy') if m in sys.modules]; "
        "assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_day_night_of_a_night_flag():
    assert (day_night(True), day_night(False), day_night(None)) == (NIGHT, DAY, None)
