"""Stamps that jump backwards (bag loop, driver restart, clock reset) through the real
commands and the real node: the pairing resets once per jump and resumes with the next pair.

* bag-eval over a bag whose stamps loop three times pairs the same in every loop (with
  ``sync.jump_reset 0``, message_filters' behaviour, the later loops starve);
* ``sccosf replay --loop --clock`` into a live node with ``use_sim_time``: the same pair count
  in each of three loops (the node logs each reset with the pairs since the previous one);
* a driver restart (both cameras' stamps jump back 3 s) loses at most one pair, live.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ros"))  # node_harness
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipeline"))  # reference

from approx_time_reference import reference_count
from node_harness import NodeProcess, RosIO, image_msg, scene

from sccosf_ros.bag.bag_io import BagReader, BagWriter
from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.pipeline.params import write_params_file
from sccosf_ros.ros.node_process import node_command
from sccosf_ros.synthetic import THERMAL_COUNTS, write_synthetic_bag

SEC = 1_000_000_000
NODE_PARAMS = {
    "backend": "torch",  # about time jumps, not the runtime (backend auto compiles per size)
    "inference.height": 32,
    "inference.width": 32,
    "num_threads": 1,
    "diagnostics.period": 0.25,
    "thermal.normalization": "fixed",
    "thermal.low": float(THERMAL_COUNTS[0]),
    "thermal.high": float(THERMAL_COUNTS[1]),
}
RESET_LINE = re.compile(r"pairing state reset \(reset (\d+)\).*; (\d+) pair\(s\) since")


@pytest.fixture(scope="module")
def one_loop(tmp_path_factory):
    """2 s of a 30 Hz RGB + 9 Hz thermal pair (the rates of the report), tiny frames."""
    return write_synthetic_bag(
        tmp_path_factory.mktemp("loop") / "one",
        storage="mcap",
        duration=2.0,
        rgb_rate=30.0,
        thermal_rate=9.0,
        height=24,
        width=32,
        label_topic=None,
        show_progress=False,
    )


def _looped(bag, out: Path, loops: int = 3, gap_s: float = 0.1) -> Path:
    """The bag's messages ``loops`` times: log times go on, header stamps repeat."""
    with BagReader(bag.path) as reader:
        msgs = list(reader.messages(list(reader.topics())))
        span = reader.end_time - reader.start_time
    with BagWriter(out, storage="mcap") as writer:
        for topic in {m[0] for m in msgs}:
            writer.add_topic(topic)
        for k in range(loops):
            shift = k * (span + int(gap_s * SEC))
            for topic, msgtype, log_ns, raw in msgs:
                writer.write_raw(topic, log_ns + shift, raw, msgtype)
    return out


def _bag_eval(bag_path: Path, out: Path, ckpt: Path, **params) -> dict:
    c = "/camera"
    pfile = write_params_file(
        out.parent / f"{out.name}.yaml", {"checkpoint": str(ckpt), "device": "cpu", **params}
    )
    code = sccosf_main(
        [
            "bag-eval",
            str(bag_path),
            "--rgb-topic",
            f"{c}/rgb/image_raw",
            "--thermal-topic",
            f"{c}/thermal/image_raw",
            "--out",
            str(out),
            "--params-file",
            str(pfile),
            "--input-size",
            "16",
            "16",
            "--quiet",
        ]
    )
    assert code == 0
    return json.loads((out / "metrics.json").read_text())


def test_bag_eval_pairs_a_looped_bag_the_same_in_every_loop(one_loop, nano_checkpoint, tmp_path):
    single = _bag_eval(one_loop.path, tmp_path / "single", nano_checkpoint)["pairs"]
    assert single >= 16  # ~9 Hz thermal over 2 s
    looped = _looped(one_loop, tmp_path / "looped")
    m = _bag_eval(looped, tmp_path / "three", nano_checkpoint)
    assert m["pairs"] == 3 * single
    resets = m["sync"]["resets"]
    assert [r["pairs_before"] for r in resets] == [single, single]  # loops 1 and 2
    assert all(r["back_s"] > 1.9 for r in resets)
    # message_filters' behaviour: nothing pairs until the stamps pass the stale ones.
    off = _bag_eval(looped, tmp_path / "off", nano_checkpoint, **{"sync.jump_reset": 0.0})
    assert off["pairs"] < 2 * single and off["sync"]["resets"] == []


def _node(tmp_path: Path, ns: str, ckpt: Path, **params) -> NodeProcess:
    cmd = node_command(
        params={**NODE_PARAMS, "checkpoint": ckpt, **params},
        remaps={
            "__ns": ns,
            "rgb/image_raw": f"{ns}/camera/rgb/image_raw",
            "thermal/image_raw": f"{ns}/camera/thermal/image_raw",
        },
    )
    return NodeProcess(cmd, tmp_path / f"{ns.strip('/')}.log")


@pytest.mark.ros
@pytest.mark.slow
def test_replay_loop_into_the_node_pairs_the_same_in_every_loop(
    one_loop, nano_checkpoint, tmp_path
):
    # Expected pairs per loop: message_filters' rule (queue 10, slop 0.05) over the bag's
    # stamps in bag order, from the test's own brute-force reference.
    with BagReader(one_loop.path) as reader:
        arrivals = []
        for topic, msgtype, _, raw in reader.messages(list(reader.topics())):
            msg = reader.deserialize(raw, msgtype)
            stamp = msg.header.stamp.sec * SEC + msg.header.stamp.nanosec
            arrivals.append((0 if "rgb" in topic else 1, stamp))
    expected = reference_count(arrivals, 2, 10, 0.05)
    ns = "/t_jump_loop"
    node = _node(tmp_path, ns, nano_checkpoint, use_sim_time=True)
    # The bag's topics are /camera/...: replay them under the node's namespace.
    bag = tmp_path / "bag"
    with BagReader(one_loop.path) as reader, BagWriter(bag, storage="mcap") as writer:
        for topic in reader.topics():
            writer.add_topic(f"{ns}{topic}")
        for topic, msgtype, log_ns, raw in reader.messages(list(reader.topics())):
            writer.write_raw(f"{ns}{topic}", log_ns, raw, msgtype)
    replay = None
    try:
        node.wait_ready()
        replay = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("sccosf")),
                "replay",
                str(bag),
                "--loop",
                "--clock",
                "--wait-subscribers",
                "60",
                "--start-delay",
                "1.0",
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(RESET_LINE.findall(node.log())) < 3:
            assert replay.poll() is None, replay.communicate()[0]
            time.sleep(0.2)
    finally:
        if replay is not None:
            replay.send_signal(2)
            replay.wait(20)
        node.stop()
    resets = RESET_LINE.findall(node.log())
    assert len(resets) >= 3, node.log()
    per_loop = [int(n) for _, n in resets[:3]]
    assert [int(k) for k, _ in resets[:3]] == [1, 2, 3]  # one reset per loop
    assert per_loop == [per_loop[0]] * 3, node.log()
    assert abs(per_loop[0] - expected) <= 1, (per_loop, expected)
    assert "Traceback" not in node.log()


@pytest.mark.ros
def test_driver_restart_loses_at_most_one_pair(nano_checkpoint, tmp_path):
    """Both cameras restart: their stamps go on 3 s in the past of where they were."""
    ns = "/t_jump_restart"
    node = _node(tmp_path, ns, nano_checkpoint)
    io = None
    try:
        node.wait_ready()
        io = RosIO(
            ns,
            f"{ns}/sccosf",
            rgb_topic=f"{ns}/camera/rgb/image_raw",
            thermal_topic=f"{ns}/camera/thermal/image_raw",
        )
        io.wait_subscribed()
        time.sleep(0.5)
        rgb, thermal = scene(2, 24, 32)
        t0 = time.time_ns()
        events = []  # (send time s, input, stamp) at 30 Hz RGB / 9 Hz thermal, 2 s each side
        for base, shift in ((0.0, 0), (2.0, -3 * SEC)):
            for i in range(60):
                events.append((base + i / 30, 0, t0 + round((base + i / 30) * SEC) + shift))
            for i in range(18):
                at = base + 0.004 + i / 9
                events.append((at + 0.01, 1, t0 + round(at * SEC) + shift))
        events.sort()
        start = time.monotonic()
        for at, idx, stamp in events:
            time.sleep(max(0.0, start + at - time.monotonic()))
            if idx == 0:
                io.rgb_pub.publish(image_msg(rgb, "rgb8", stamp, "rgb"))
            else:
                io.thermal_pub.publish(image_msg(thermal, "mono16", stamp, "thermal"))
        io.wait_settled()  # the last pairs counted
        got = io.counter("sync", "synced_pairs")
        resets = io.counter("sync", "sync_resets")
    finally:
        if io is not None:
            io.close()
        node.stop()
    # the same cameras without the restart, paired by the test's reference
    whole = reference_count([(idx, t0 + round(at * SEC)) for at, idx, _ in events], 2, 10, 0.05)
    assert resets == 1, node.log()
    assert whole - got <= 1, (whole, got, node.log())
    # ~3 s back from the newest stamp before the restart (one frame period less).
    assert re.search(r"(rgb|thermal) stamp jumped back 2\.[89]\d+ s", node.log()), node.log()
