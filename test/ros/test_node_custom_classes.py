"""The real node (its own process, real DDS) with a checkpoint fine-tuned on a custom 4-class
set: ``~/label_info`` names and colours and ``~/segmentation_color`` follow the checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
from node_harness import (
    HANG_GUARD_S,
    OUTPUTS,
    SMALL_NODE_PARAMS,
    connected_io,
    image_msg,
    node_command,
    running_node,
    scene,
)

from sccosf_ros.classes import colorize
from sccosf_ros.pipeline.image_codec import decode_image

pytestmark = pytest.mark.ros

NS = "/t_custom"
FQN = f"{NS}/sccosf"
CLASSES = ["background", "pallet", "person", "forklift"]
PALETTE = [(0, 0, 0), (230, 160, 40), (220, 20, 60), (250, 220, 0)]


@pytest.fixture(scope="module")
def io(custom_class_checkpoint, tmp_path_factory):
    best, _ = custom_class_checkpoint
    cmd = node_command(params={"checkpoint": best, **SMALL_NODE_PARAMS}, remaps={"__ns": NS})
    for _node in running_node(cmd, tmp_path_factory.mktemp("node") / "node.log"):
        yield from connected_io(NS, FQN)


def test_label_info_and_colours_are_the_checkpoints(io):
    import time

    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

    from sccosf_ros.ros.label_info import label_info_type

    got = []
    qos = QoSProfile(
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
    sub = io.node.create_subscription(label_info_type(), f"{FQN}/label_info", got.append, qos)
    try:
        io.wait_for(lambda: got, HANG_GUARD_S, "label_info")
    finally:
        io.node.destroy_subscription(sub)
    info = json.loads(got[0].data)
    assert [c["name"] for c in info["classes"]] == CLASSES
    assert [tuple(c["color"]) for c in info["classes"]] == PALETTE

    outs: dict = {}
    deadline = time.monotonic() + HANG_GUARD_S
    while len(outs) < len(OUTPUTS) and time.monotonic() < deadline:
        rgb, thermal = scene(3)
        t = time.time_ns()
        rgb_msg = image_msg(rgb, "bgr8", t, "rgb_optical")
        io.publish_pair(rgb_msg, image_msg(thermal, "mono16", t, "thermal_optical"))
        until = time.monotonic() + 1.5
        while len(outs) < len(OUTPUTS) and time.monotonic() < until:
            outs = io.outputs_for(t)
            time.sleep(0.02)
    assert len(outs) == len(OUTPUTS), "no complete output set from the node"
    labels = decode_image(outs["segmentation"])
    assert labels.max() < len(CLASSES)
    np.testing.assert_array_equal(
        decode_image(outs["segmentation_color"]), colorize(labels, PALETTE)
    )
