"""bag-eval's mIoU on bags whose labels are known exactly.

The labels are the model's own predictions (taken from a first bag-eval run's output bag,
stamped like the RGB frames), so the mIoU must be exactly 1; then the same labels with the
left half of every mask moved to another class, whose IoU per class is counted here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sccosf_ros.bag.bag_eval import BagEvalConfig, evaluate_bag
from sccosf_ros.bag.bag_io import BagReader, BagWriter, stamp_ns
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.synthetic import THERMAL_COUNTS, write_synthetic_bag

H, W = 40, 56
K = 9  # MFNet classes of the nano checkpoint


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, nano_checkpoint):
    """A synthetic bag, bag-eval over it, and the predicted masks by RGB stamp."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("exact")
    bag = write_synthetic_bag(
        tmp / "in",
        storage="mcap",
        duration=1.0,
        rgb_rate=10.0,
        thermal_rate=5.0,
        thermal_offset=0.004,
        height=H,
        width=W,
        show_progress=False,
    )
    try:
        m = evaluate_bag(_config(bag.path, bag.config, nano_checkpoint, tmp / "first"))
    finally:
        torch.set_num_threads(threads)
    preds = {}
    with BagReader(m["output_bag"]) as r:
        for _, msgtype, _, raw in r.messages(["/sccosf/segmentation"]):
            msg = r.deserialize(raw, msgtype)
            assert msg.encoding == "mono8" and (msg.height, msg.width, msg.step) == (H, W, W)
            preds[stamp_ns(msg)] = np.frombuffer(msg.data, np.uint8).reshape(H, W)
    assert len(preds) == m["pairs"] == 5
    return bag, preds


def _config(path, c, ckpt, out) -> BagEvalConfig:
    params = NodeParams.from_dict(
        {
            "checkpoint": str(ckpt),
            "device": "cpu",
            "backend": "torch",  # about the metrics, not the runtime
            "thermal.normalization": "fixed",
            "thermal.low": float(THERMAL_COUNTS[0]),
            "thermal.high": float(THERMAL_COUNTS[1]),
        }
    )
    return BagEvalConfig(
        bag=path,
        rgb_topic=c.rgb_topic,
        thermal_topic=c.thermal_topic,
        label_topic=c.label_topic,
        out=out,
        params=params,
        progress=False,
    )


def _scored(iou: dict) -> dict:
    """The classes with an IoU (absent ones are NaN in memory, null in metrics.json)."""
    return {n: v for n, v in iou.items() if v is not None and not math.isnan(v)}


def _relabelled(bag, preds: dict, out, change) -> dict:
    """The bag with its label messages replaced by ``change(pred)`` (only where a pair was
    predicted; the other labels are left out). Returns the labels written, by stamp."""
    written = {}
    c = bag.config
    with BagReader(bag.path) as r, BagWriter(out, storage="mcap") as w:
        for topic in r.topics():
            w.add_topic(topic)
        for topic, msgtype, log_ns, raw in r.messages(list(r.topics())):
            if topic != c.label_topic:
                w.write_raw(topic, log_ns, raw, msgtype)
                continue
            msg = r.deserialize(raw, msgtype)
            pred = preds.get(stamp_ns(msg))
            if pred is None:
                continue
            label = change(pred.copy())
            assert msg.encoding == "mono8" and (msg.height, msg.width) == (H, W)
            msg.step = W
            msg.data = np.ascontiguousarray(label, np.uint8).reshape(-1)
            w.write(topic, log_ns, msg)
            written[stamp_ns(msg)] = label
    return written


def test_labels_equal_to_the_predictions_give_miou_one(first_run, nano_checkpoint, tmp_path):
    bag, preds = first_run
    labels = _relabelled(bag, preds, tmp_path / "same", lambda p: p)
    assert len(labels) == 5
    m = evaluate_bag(_config(tmp_path / "same", bag.config, nano_checkpoint, tmp_path / "e"))
    assert m["labelled_pairs"] == 5
    assert m["miou"] == 1.0
    present = {int(v) for p in preds.values() for v in np.unique(p)}
    assert len(present) >= 2, present  # not a trivial one-class mask
    names = list(m["iou"])
    assert {names[c] for c in present} == set(_scored(m["iou"]))
    assert all(m["iou"][names[c]] == 1.0 for c in present)


def test_half_the_label_pixels_moved_gives_the_counted_iou(first_run, nano_checkpoint, tmp_path):
    bag, preds = first_run

    def shift_left_half(p):
        p[:, : W // 2] = (p[:, : W // 2] + 1) % K
        return p

    labels = _relabelled(bag, preds, tmp_path / "half", shift_left_half)
    m = evaluate_bag(_config(tmp_path / "half", bag.config, nano_checkpoint, tmp_path / "e"))
    assert m["labelled_pairs"] == 5
    # the expected IoU, counted pixel by pixel over the 5 labelled pairs
    inter, union = [0] * K, [0] * K
    for stamp, label in labels.items():
        for p, t in zip(preds[stamp].ravel().tolist(), label.ravel().tolist()):
            for c in range(K):
                inter[c] += p == c and t == c
                union[c] += p == c or t == c
    names = list(m["iou"])
    expected = {names[c]: inter[c] / union[c] for c in range(K) if union[c]}
    got = _scored(m["iou"])
    assert got == pytest.approx(expected)
    assert m["miou"] == pytest.approx(sum(expected.values()) / len(expected))
    assert m["miou"] < 0.75  # half the pixels disagree
