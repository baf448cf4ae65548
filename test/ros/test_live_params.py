"""Live parameters of a real sccosf_node process, through its parameter services (what
``ros2 param set`` calls): accepted ones act on the next pair, bad values and read-only
parameters are refused with the reason."""

from __future__ import annotations

import time

import numpy as np
import pytest
from node_harness import (
    HANG_GUARD_S,
    SMALL_NODE_PARAMS,
    RosIO,
    connected_io,
    image_msg,
    node_command,
    ns_of,
    running_node,
    scene,
)

from sccosf_ros.classes import MFNET_PALETTE, overlay
from sccosf_ros.pipeline.image_codec import decode_image

pytestmark = pytest.mark.ros

NS = "/t_live"
FQN = f"{NS}/sccosf"
PARAMS = SMALL_NODE_PARAMS


@pytest.fixture(scope="module")
def node(nano_checkpoint, tmp_path_factory):
    cmd = node_command(params={"checkpoint": nano_checkpoint, **PARAMS}, remaps={"__ns": NS})
    yield from running_node(cmd, tmp_path_factory.mktemp("live") / "node.log")


@pytest.fixture(scope="module")
def io(node):
    yield from connected_io(NS, FQN)


class _Params:
    """rcl_interfaces SetParameters / GetParameters / DescribeParameters clients."""

    def __init__(self, io: RosIO) -> None:
        from rcl_interfaces.srv import DescribeParameters, GetParameters, SetParameters

        self.io = io
        self.set_cli = io.node.create_client(SetParameters, f"{FQN}/set_parameters")
        self.get_cli = io.node.create_client(GetParameters, f"{FQN}/get_parameters")
        self.desc_cli = io.node.create_client(DescribeParameters, f"{FQN}/describe_parameters")
        for cli in (self.set_cli, self.get_cli, self.desc_cli):
            assert cli.wait_for_service(timeout_sec=30), cli.srv_name

    def _call(self, cli, request):
        future = cli.call_async(request)
        self.io.wait_for(future.done, HANG_GUARD_S, f"{cli.srv_name} reply")
        return future.result()

    def set(self, **values):
        """Set each value (dotted names with __ for .); the SetParametersResult list."""
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter

        req = SetParameters.Request(
            parameters=[
                Parameter(k.replace("__", "."), value=v).to_parameter_msg()
                for k, v in values.items()
            ]
        )
        return self._call(self.set_cli, req).results

    def get(self, name: str):
        from rcl_interfaces.srv import GetParameters
        from rclpy.parameter import parameter_value_to_python

        res = self._call(self.get_cli, GetParameters.Request(names=[name]))
        return parameter_value_to_python(res.values[0])

    def describe(self, name: str):
        from rcl_interfaces.srv import DescribeParameters

        return self._call(self.desc_cli, DescribeParameters.Request(names=[name])).descriptors[0]


@pytest.fixture(scope="module")
def params(io):
    return _Params(io)


_stamp = [time.time_ns()]


def _outputs_of_a_pair(io: RosIO, names: set[str], seed: int = 3, timeout: float = HANG_GUARD_S):
    """Publish one pair (new stamp) until the outputs ``names`` come for it; (rgb, outputs)."""
    rgb, thermal = scene(seed)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _stamp[0] += 100_000_000
        t = _stamp[0]
        io.publish_pair(image_msg(rgb, "rgb8", t, "cam"), image_msg(thermal, "mono16", t, "cam"))
        try:
            io.wait_for(lambda t=t: names <= set(io.outputs_for(t)), 2.0, "outputs")
            return rgb, io.outputs_for(t)
        except AssertionError:
            continue
    raise AssertionError(f"no outputs {names} within {timeout} s")


def test_live_values_take_effect_on_the_next_pair(io, params, node):
    rgb, outs = _outputs_of_a_pair(io, {"overlay", "segmentation"})
    labels = decode_image(outs["segmentation"])
    blended = overlay(rgb, labels, MFNET_PALETTE, 0.5).astype(int)
    assert np.abs(decode_image(outs["overlay"]).astype(int) - blended).max() <= 1

    results = params.set(overlay_alpha=0.0, publish__fused=False)
    assert all(r.successful for r in results), [r.reason for r in results]
    assert params.get("overlay_alpha") == 0.0 and params.get("publish.fused") is False
    rgb, outs = _outputs_of_a_pair(io, {"overlay", "segmentation"}, seed=4)
    assert np.abs(decode_image(outs["overlay"]).astype(int) - rgb.astype(int)).max() <= 1
    # Its publisher is gone (on the graph: no message can come, whenever one looks).
    io.wait_for(lambda: io.node.count_publishers(f"{FQN}/fused") == 0, what="fused unpublished")
    assert "fused" not in io.outputs_for(ns_of(outs["overlay"].header.stamp))

    assert all(r.successful for r in params.set(publish__fused=True))
    _, outs = _outputs_of_a_pair(io, {"fused"}, seed=5)
    assert "parameters set: overlay_alpha=0.0" in node.log()


def test_sync_and_inference_size_change_live(io, params, node):
    assert all(r.successful for r in params.set(sync__slop=0.2, sync__queue_size=3))
    # A pair 120 ms apart pairs with slop 0.2 (it would not with the start's 0.05).
    rgb, thermal = scene(6)
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        _stamp[0] += 1_000_000_000
        t = _stamp[0]
        io.publish_pair(
            image_msg(rgb, "rgb8", t, "cam"), image_msg(thermal, "mono16", t + 120_000_000, "c")
        )
        try:
            io.wait_for(lambda t=t: "fused" in io.outputs_for(t), 2.0, "a 120 ms pair")
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("slop 0.2 did not pair stamps 120 ms apart")
    both = params.set(inference__height=16, inference__width=24)
    assert all(r.successful for r in both), [r.reason for r in both]
    _outputs_of_a_pair(io, {"fused"}, seed=7)
    assert params.get("inference.width") == 24
    assert all(r.successful for r in params.set(sync__slop=0.05))


def test_diagnostics_hold_changes_live(io, params):
    assert all(r.successful for r in params.set(diagnostics__hold=2.5))
    io.wait_for(
        lambda: (v := io._status_values("input quality")) and v["hold_s"] == "2.5",
        HANG_GUARD_S,
        "a report with the new hold",
    )
    assert all(r.successful for r in params.set(diagnostics__hold=5.0))


def test_temperature_units_window_and_crop_change_live(io, params, node):
    before = params.get("thermal.normalization")
    # one parameter after the other (as ros2 param set does): units before the mode needing them
    changes = params.set(
        thermal__units="decikelvin",
        thermal__normalization="temperature",
        thermal__window_c=[0.0, 30.0],
    )
    assert all(r.successful for r in changes), [r.reason for r in changes]
    assert params.get("thermal.window_c") == [0.0, 30.0]
    _outputs_of_a_pair(io, {"fused"}, seed=8)
    assert all(r.successful for r in params.set(thermal__crop=[0, 2, 0, 0]))
    assert params.get("thermal.crop") == [0, 2, 0, 0]
    back = params.set(
        thermal__normalization=before, thermal__units="counts", thermal__crop=[0, 0, 0, 0]
    )
    assert all(r.successful for r in back), [r.reason for r in back]
    _outputs_of_a_pair(io, {"fused"}, seed=9)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"sync__slop": -1.0}, "sync.slop"),
        ({"overlay_alpha": 1.5}, "overlay_alpha"),
        ({"inference__height": 0}, "both be 0"),
        ({"thermal__high": 10.0}, "thermal"),  # below thermal.low 7000: invalid range
        ({"thermal__min_valid": 2.0}, "thermal.min_valid"),
        ({"registration__homography": [1.0, 2.0]}, "registration.homography"),
        ({"overlay_alpha": "half"}, "must be a number"),
        ({"diagnostics__hold": 0.0}, "diagnostics.hold"),
        ({"thermal__window_c": [40.0, -10.0]}, "thermal.window_c = [40.0, -10.0] is invalid"),
        ({"thermal__units": "fahrenheit"}, "thermal.units = 'fahrenheit' is not one of"),
        ({"thermal__crop": [0.0, 1.5, 0.0, 0.0]}, "thermal.crop = [0.0, 1.5, 0.0, 0.0]"),
        ({"thermal__normalization": "temperature"}, "set the units"),  # counts, no scale
    ],
)
def test_bad_values_are_refused_with_the_reason(params, values, reason):
    name = next(iter(values)).replace("__", ".")
    before = params.get(name)
    (result,) = params.set(**values)
    assert not result.successful and reason in result.reason, result.reason
    assert params.get(name) == before  # nothing changed


@pytest.mark.parametrize("name", ["checkpoint", "device", "input_qos.reliability"])
def test_read_only_parameters_say_restart_to_change(params, name):
    desc = params.describe(name)
    assert desc.read_only and "restart to change" in desc.description
    (result,) = params.set(**{name.replace(".", "__"): "cpu" if name == "device" else "x"})
    assert not result.successful and "read-only" in result.reason, result.reason


def test_live_parameters_are_described_as_live(params):
    desc = params.describe("sync.slop")
    assert not desc.read_only and "from the next pair" in desc.additional_constraints
