"""Node options that change how a pair is read: homography registration, NaN policy, outputs
switched off (in-process node, real DDS, the bench's TrivialModel through the real Predictor)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from node_harness import HANG_GUARD_S, RosIO, image_msg, ns_of, scene

pytestmark = pytest.mark.ros


def _send_until(io: RosIO, make_pair, cond, timeout: float = HANG_GUARD_S):
    """Publish pairs from make_pair(stamp) until cond() holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = time.time_ns()
        io.publish_pair(*make_pair(t))
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            with io.lock:
                if cond():
                    return t
            time.sleep(0.02)
    raise AssertionError("condition never held")


def test_homography_registers_a_smaller_thermal_image(start_node, ros_io_factory):
    from sccosf_ros.bench.node import trivial_predictor

    ns = "/t_reg"
    # Thermal 24x32 → RGB 48x64: thermal pixel (u, v) lands on RGB (2u, 2v).
    node = start_node(
        ns,
        trivial_predictor(),
        **{"registration.homography": [2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0]},
    )
    io = ros_io_factory(ns)
    io.wait_subscribed()
    # A black RGB and a textured thermal: TrivialModel's fused image is (RGB + thermal) / 2,
    # thermal normalised over 7000-9000 counts, so fused shows where each thermal pixel landed.
    rgb = np.zeros((48, 64, 3), np.uint8)
    v, u = np.mgrid[0:24, 0:32]
    thermal = (7000 + 40 * u + 25 * v + (u * v % 7) * 20).astype(np.uint16)

    def pair(t):
        return (image_msg(rgb, "rgb8", t, "rgb"), image_msg(thermal, "mono16", t, "thermal"))

    _send_until(io, pair, lambda: io.outputs["fused"])
    msg = io.outputs["fused"][-1]
    assert (msg.height, msg.width) == (48, 64) and msg.encoding == "rgb8"
    assert node.stats.snapshot().counters["size_mismatch"] == 0
    fused = np.frombuffer(bytes(msg.data), np.uint8).reshape(48, msg.step)[:, : 64 * 3]
    fused = fused.reshape(48, 64, 3).astype(float)
    # thermal (u, v) → RGB (2u, 2v), pixel by pixel (±1 grey level of rounding)
    expected = (thermal.astype(float) - 7000) / 2000 * 255 / 2
    for c in range(3):
        np.testing.assert_allclose(fused[0::2, 0::2, c], expected, atol=1.01)


def test_nan_policy_reject_counts_the_pair_as_malformed(start_node, ros_io_factory):
    from sccosf_ros.bench.node import trivial_predictor

    ns = "/t_nan"
    node = start_node(ns, trivial_predictor(), **{"thermal.nan_policy": "reject"})
    io = ros_io_factory(ns)
    io.wait_subscribed()
    rgb, thermal16 = scene(2)
    bad = thermal16.astype(np.float32)
    bad[5, 5] = np.nan

    def nan_pair(t):
        return (image_msg(rgb, "rgb8", t, "rgb"), image_msg(bad, "32FC1", t, "thermal"))

    def good_pair(t):
        return (
            image_msg(rgb, "rgb8", t, "rgb"),
            image_msg(thermal16.astype(np.float32), "32FC1", t, "thermal"),
        )

    _send_until(io, nan_pair, lambda: node.stats.snapshot().counters["thermal_nan_rejected"] > 0)
    c = node.stats.snapshot().counters
    assert c["malformed"] >= 1 and c["thermal_nan_frames"] == 0
    with io.lock:
        assert not io.outputs["fused"]  # rejected pairs produce nothing
    t = _send_until(io, good_pair, lambda: io.outputs["fused"])
    with io.lock:
        assert ns_of(io.outputs["fused"][-1].header.stamp) <= t


def test_disabled_outputs_are_not_advertised(start_node, ros_io_factory):
    from sccosf_ros.bench.node import trivial_predictor

    ns = "/t_pub"
    node = start_node(
        ns, trivial_predictor(), **{"publish.overlay": False, "publish.fused": False}
    )
    assert set(node.pubs) == {"segmentation", "segmentation_color"}
    io = ros_io_factory(ns)
    io.wait_subscribed()
    rgb, thermal = scene(3)

    def pair(t):
        return (image_msg(rgb, "bgr8", t, "rgb"), image_msg(thermal, "mono16", t, "thermal"))

    both = {"segmentation", "segmentation_color"}
    _send_until(  # until a pair came out with both enabled outputs
        io,
        pair,
        lambda: any(
            both <= set(io.outputs_for(ns_of(m.header.stamp))) for m in io.outputs["segmentation"]
        ),
    )
    # The disabled ones have no publisher at all (what "not advertised" means on the graph),
    # so no message can come for them, whenever one looks.
    for name in ("overlay", "fused"):
        assert io.node.count_publishers(f"{ns}/sccosf/{name}") == 0, name
    with io.lock:
        assert not io.outputs["overlay"] and not io.outputs["fused"]
