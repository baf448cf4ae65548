"""bag-eval with a checkpoint fine-tuned on a custom 4-class set: its IoU table and the
published colours are the checkpoint's classes (test/conftest.py ``custom_class_checkpoint``)."""

from __future__ import annotations

import numpy as np

from sccosf_ros.bag.bag_eval import BagEvalConfig, evaluate_bag
from sccosf_ros.bag.bag_io import BagReader
from sccosf_ros.classes import colorize
from sccosf_ros.pipeline.image_codec import decode_image
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.synthetic import write_synthetic_bag

CLASSES = ["background", "pallet", "person", "forklift"]
PALETTE = [(0, 0, 0), (230, 160, 40), (220, 20, 60), (250, 220, 0)]


def _frames(reader: BagReader, topic: str) -> list[np.ndarray]:
    return [
        decode_image(reader.deserialize(raw, ty)) for _, ty, _, raw in reader.messages([topic])
    ]


def test_bag_eval_scores_and_colours_the_checkpoints_classes(
    custom_class_checkpoint, tmp_path, one_thread
):
    best, _ = custom_class_checkpoint
    bag = write_synthetic_bag(
        tmp_path / "in", duration=0.5, rgb_rate=10.0, thermal_rate=10.0, height=40, width=56,
        show_progress=False,
    )  # fmt: skip
    c = bag.config
    params = NodeParams.from_dict({"checkpoint": str(best), "device": "cpu"})
    cfg = BagEvalConfig(
        bag=bag.path,
        rgb_topic=c.rgb_topic,
        thermal_topic=c.thermal_topic,
        label_topic=c.label_topic,
        out=tmp_path / "eval",
        params=params,
        progress=False,
    )
    m = evaluate_bag(cfg)
    assert m["pairs"] == 5 and list(m["iou"]) == CLASSES
    with BagReader(m["output_bag"]) as r:
        labels = _frames(r, "/sccosf/segmentation")
        colours = _frames(r, "/sccosf/segmentation_color")
    assert len(labels) == 5 and max(int(x.max()) for x in labels) < len(CLASSES)
    for lab, col in zip(labels, colours, strict=True):
        np.testing.assert_array_equal(col, colorize(lab, PALETTE))
