"""sccosf_node as a real process, over real DDS on loopback, with best-effort camera publishers.

One node (nano checkpoint, 32×32 inference, config/sccosf.yaml + overrides) serves the pipeline,
label-info, bad-input and diagnostics tests; start-up errors and SIGINT use their own processes.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from node_harness import (
    HANG_GUARD_S,
    OUTPUTS,
    SMALL_NODE_PARAMS,
    NodeProcess,
    RosIO,
    connected_io,
    image_msg,
    node_command,
    ns_of,
    run_node_to_exit,
    running_node,
    scene,
)

from sccosf_ros.classes import MFNET_CLASSES, MFNET_PALETTE, colorize, overlay

pytestmark = pytest.mark.ros

NS = "/t_node"
FQN = f"{NS}/sccosf"
PARAMS = {**SMALL_NODE_PARAMS, "diagnostics.stall_timeout": 1.0}


@pytest.fixture(scope="module")
def node(nano_checkpoint, tmp_path_factory):
    cmd = node_command(params={"checkpoint": nano_checkpoint, **PARAMS}, remaps={"__ns": NS})
    yield from running_node(cmd, tmp_path_factory.mktemp("node") / "node.log")


@pytest.fixture(scope="module")
def io(node):
    yield from connected_io(NS, FQN)


class Stamps:
    """Strictly increasing stamps, 100 ms apart, so pairs never collide across tests."""

    ns = time.time_ns()

    @classmethod
    def next(cls) -> int:
        cls.ns += 100_000_000
        return cls.ns


def good_pair(seed: int):
    rgb, thermal = scene(seed)
    t = Stamps.next()
    return (
        t,
        rgb,
        image_msg(rgb, "bgr8", t, "rgb_optical"),
        image_msg(thermal, "mono16", t + 2_000_000, "thermal_optical"),
    )


def send_until_output(io: RosIO, seed: int, timeout: float = HANG_GUARD_S):
    """Publish good pairs (new stamps) until one comes out; (stamp, rgb, outputs)."""
    deadline = time.monotonic() + timeout
    sent: dict[int, np.ndarray] = {}
    while time.monotonic() < deadline:
        t, rgb, rgb_msg, th_msg = good_pair(seed)
        sent[t] = rgb
        io.publish_pair(rgb_msg, th_msg)
        until = time.monotonic() + 1.5
        while time.monotonic() < until:
            for ts, img in sent.items():
                outs = io.outputs_for(ts)
                if len(outs) == len(OUTPUTS):
                    return ts, img, outs
            time.sleep(0.02)
    raise AssertionError(f"no complete output set within {timeout} s")


def test_synced_pair_gives_all_outputs_with_rgb_header(io):
    stamp, rgb, outs = send_until_output(io, seed=1)
    h, w = rgb.shape[:2]
    expected_enc = {
        "fused": "rgb8",
        "segmentation": "mono8",
        "segmentation_color": "rgb8",
        "overlay": "rgb8",
    }
    for name, msg in outs.items():
        assert ns_of(msg.header.stamp) == stamp, name  # the RGB stamp, not thermal's (+2 ms)
        assert msg.header.frame_id == "rgb_optical", name
        assert (msg.height, msg.width) == (h, w), name
        assert msg.encoding == expected_enc[name], name
    from sccosf_ros.pipeline.image_codec import decode_image

    labels = decode_image(outs["segmentation"])
    assert labels.dtype == np.uint8 and labels.max() < len(MFNET_CLASSES)
    np.testing.assert_array_equal(
        decode_image(outs["segmentation_color"]), colorize(labels, MFNET_PALETTE)
    )
    over = decode_image(outs["overlay"]).astype(int)  # OpenCV blend: within ±1 of classes'
    assert np.abs(over - overlay(rgb, labels, MFNET_PALETTE, 0.5).astype(int)).max() <= 1
    fused = decode_image(outs["fused"])
    assert fused.shape == (h, w, 3) and fused.dtype == np.uint8


def test_label_info_reaches_a_late_subscriber(io):
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

    from sccosf_ros.ros.label_info import label_info_type

    msg_type = label_info_type()
    assert msg_type.__name__ == "String"  # one type in every environment
    got = []
    qos = QoSProfile(
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
    sub = io.node.create_subscription(msg_type, f"{FQN}/label_info", got.append, qos)
    try:
        io.wait_for(lambda: got, HANG_GUARD_S, "label_info from a subscriber that joined late")
    finally:
        io.node.destroy_subscription(sub)
    info = json.loads(got[0].data)
    assert info["format"] == "sccosf_ros.label_info" and info["ignore_index"] == 255
    assert [c["name"] for c in info["classes"]] == list(MFNET_CLASSES)
    assert [tuple(c["color"]) for c in info["classes"]] == list(MFNET_PALETTE)
    assert [c["id"] for c in info["classes"]] == list(range(len(MFNET_CLASSES)))


def _corrupt(kind: str, rgb_msg, th_msg):
    """Mangle one field the way broken drivers do; returns (rgb, thermal, counter key)."""
    if kind == "truncated":
        rgb_msg.data = bytes(rgb_msg.data)[: len(rgb_msg.data) // 2]
        return rgb_msg, th_msg, "malformed_rgb"
    if kind == "unknown_encoding":
        rgb_msg.encoding = "fancy42"
        return rgb_msg, th_msg, "malformed_rgb"
    if kind == "zero_size":
        th_msg.height, th_msg.width, th_msg.step, th_msg.data = 0, 0, 0, b""
        return rgb_msg, th_msg, "malformed_thermal"
    if kind == "step_smaller_than_row":
        th_msg.step = th_msg.width * 2 - 1
        return rgb_msg, th_msg, "malformed_thermal"
    if kind == "size_vs_data":
        rgb_msg.height = rgb_msg.height - 4  # data now longer than height × step
        return rgb_msg, th_msg, "malformed_rgb"
    if kind == "rgb_thermal_size_differ":
        _, thermal = scene(9, 40, 50)
        small = image_msg(thermal, "mono16", ns_of(th_msg.header.stamp), "thermal_optical")
        return rgb_msg, small, "size_mismatch"
    raise ValueError(kind)


BAD = [
    "truncated",
    "unknown_encoding",
    "zero_size",
    "step_smaller_than_row",
    "size_vs_data",
    "rgb_thermal_size_differ",
]


@pytest.mark.parametrize("kind", BAD)
def test_bad_input_is_counted_and_next_pair_processed(io, node, kind):
    send_until_output(io, seed=2)  # the worker is idle and diagnostics flow
    _, _, rgb_msg, th_msg = good_pair(3)
    rgb_msg, th_msg, key = _corrupt(kind, rgb_msg, th_msg)
    io.wait_for(lambda: io._status_values("input quality"), HANG_GUARD_S, "diagnostics")
    before = io.counter("input quality", "malformed")
    before_kind = io.counter("input quality", key)
    io.publish_pair(rgb_msg, th_msg)
    io.wait_counter_above("input quality", "malformed", before, HANG_GUARD_S)
    assert io.counter("input quality", key) == before_kind + 1
    assert node.proc.poll() is None, node.log()
    send_until_output(io, seed=4)  # alive and still producing
    assert node.proc.poll() is None


def test_nan_thermal_is_zeroed_counted_and_processed(io):
    rgb, _ = scene(5)
    thermal = np.linspace(20.0, 40.0, 48 * 64, dtype=np.float32).reshape(48, 64)
    thermal[10:20, 10:20] = np.nan
    thermal[0, 0] = np.inf
    io.wait_for(lambda: io._status_values("input quality"), HANG_GUARD_S, "diagnostics")
    before = io.counter("input quality", "thermal_nan_frames")
    malformed = io.counter("input quality", "malformed")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        t = Stamps.next()
        io.publish_pair(
            image_msg(rgb, "rgb8", t, "rgb_optical"),
            image_msg(thermal, "32FC1", t, "thermal_optical"),
        )
        try:
            io.wait_for(
                lambda t=t: len(io.outputs_for(t)) == len(OUTPUTS), 2.0, "outputs of the NaN pair"
            )
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("a pair with NaN thermal pixels was never processed")
    io.wait_counter_above("input quality", "thermal_nan_frames", before, HANG_GUARD_S)
    assert io.counter("input quality", "malformed") == malformed  # processed, not rejected


def test_diagnostics_report_latency_counts_and_stalls(io):
    send_until_output(io, seed=6)

    def report_with_the_output():  # the first report after it (latencies are NaN before)
        vals = io._status_values("inference")
        ok = vals and int(vals["processed"]) >= 1 and math.isfinite(float(vals["e2e_age_p95_ms"]))
        return vals if ok else None

    inf = io.wait_for(report_with_the_output, HANG_GUARD_S, "a report after the output")
    assert int(inf["processed"]) >= 1
    assert int(inf["synced_pairs"]) >= int(inf["processed"])
    for key in (
        "inference_p50_ms",
        "inference_p95_ms",
        "e2e_age_p50_ms",
        "e2e_age_p95_ms",
        "overhead_p50_ms",
    ):
        assert math.isfinite(float(inf[key])) and float(inf[key]) > 0, key
    # timing-invariant: every pair's age includes its own inference time
    assert float(inf["e2e_age_p95_ms"]) >= float(inf["inference_p50_ms"]) * 0.5
    inputs = io.status_values("inputs")
    assert float(inputs["since_last_thermal_s"]) >= 0
    # Nothing published for > stall_timeout (1 s): both streams are reported stalled (WARN).
    from diagnostic_msgs.msg import DiagnosticStatus

    def stalled():
        st = io.latest_status("inputs")
        return st is not None and st.level == DiagnosticStatus.WARN and "stalled" in st.message

    io.wait_for(stalled, HANG_GUARD_S, "a stall WARN")
    st = io.latest_status("inputs")
    assert "thermal stream stalled" in st.message and "rgb stream stalled" in st.message


# --------------------------------------------------------------------------- own processes
def test_sigint_exits_cleanly(nano_checkpoint, tmp_path):
    cmd = node_command(
        params={"checkpoint": nano_checkpoint, **PARAMS}, remaps={"__ns": "/t_sigint"}
    )
    proc = NodeProcess(cmd, tmp_path / "node.log")
    try:
        proc.wait_ready()
        rc, _ = proc.interrupt(timeout=HANG_GUARD_S)  # how fast: sccosf bench node
    finally:
        proc.kill()
    log = proc.log()
    assert rc == 0, log
    assert "Traceback" not in log, log


@pytest.fixture(scope="module")
def startup_failures(nano_checkpoint, tmp_path_factory):
    """Every start-up error case, run in parallel: name → (exit code, output)."""
    import subprocess

    tmp = tmp_path_factory.mktemp("bad")
    corrupt = tmp / "corrupt.pt"
    corrupt.write_bytes(b"\x80\x02 this is not a torch file" * 10)
    cases = {
        "missing_checkpoint": {"checkpoint": tmp / "nope.pt"},
        "corrupt_checkpoint": {"checkpoint": corrupt},
        "unknown_device": {"checkpoint": nano_checkpoint, "device": "tpu"},
        "homography_wrong_count": {
            "checkpoint": nano_checkpoint,
            "registration.homography": "[1.0,0.0,0.0,1.0]",
        },
        "homography_singular": {
            "checkpoint": nano_checkpoint,
            "registration.homography": "[1.0,2.0,3.0,2.0,4.0,6.0,0.0,0.0,1.0]",
        },
        "invalid_slop": {"checkpoint": nano_checkpoint, "sync.slop": -1.0},
        "invalid_choice": {"checkpoint": nano_checkpoint, "input_qos.reliability": "sometimes"},
        "wrong_type": {"checkpoint": nano_checkpoint, "num_threads": "abc"},
    }
    procs = {
        name: subprocess.Popen(
            node_command(params=p, remaps={"__ns": f"/t_bad_{name}"}),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, p in cases.items()
    }
    results = {}
    for name, p in procs.items():
        try:
            out, _ = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        results[name] = (p.returncode, out)
    return results


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing_checkpoint", "does not exist"),
        ("corrupt_checkpoint", "could not be read"),
        ("unknown_device", "unknown device 'tpu'"),
        ("homography_wrong_count", "got 4 values"),
        ("homography_singular", "singular"),
        ("invalid_slop", "sync.slop"),
        ("invalid_choice", "input_qos.reliability"),
        ("wrong_type", "num_threads must be an integer"),
    ],
)
def test_startup_error_is_clear_and_nonzero(startup_failures, case, needle):
    rc, out = startup_failures[case]
    assert rc not in (0, None), out
    assert "sccosf_node: error:" in out and needle in out, out
    assert "Traceback" not in out, out


def test_invalid_parameter_fails_before_loading_a_checkpoint():
    rc, out = run_node_to_exit(node_command(params={"overlay_alpha": 2.0}))
    assert rc == 2 and "overlay_alpha" in out and "Traceback" not in out, out


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"thermal.window_c": [40.0, -10.0]}, "thermal.window_c = [40.0, -10.0] is invalid"),
        ({"thermal.units": "fahrenheit"}, "thermal.units = 'fahrenheit' is not one of"),
        ({"thermal.crop": [0, -2, 0, 0]}, "thermal.crop = [0.0, -2.0, 0.0, 0.0] is invalid"),
    ],
)
def test_bad_thermal_settings_are_one_line_at_start(params, needle):
    rc, out = run_node_to_exit(node_command(params=params))
    errors = [line for line in out.splitlines() if "error" in line.lower()]
    assert rc == 2 and len(errors) == 1 and needle in errors[0], out
    assert "Traceback" not in out, out
