"""replay: CDR compatibility, timing and /clock on real rclpy, a live sccosf_node round trip."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sccosf_ros.bag.bag_io import IMAGE, BagReader, make_header, stamp_ns
from sccosf_ros.pipeline.image_codec import encode_image
from sccosf_ros.synthetic import write_synthetic_bag

SEC = 1_000_000_000
CONFIG = Path(__file__).resolve().parents[2] / "config" / "sccosf.yaml"


def test_rosbags_cdr_is_rclpy_cdr():
    """The replay publishes bag bytes as they are: rclpy must read rosbags' CDR and v.v."""
    from rclpy.serialization import deserialize_message, serialize_message
    from rosbags.typesys import Stores, get_typestore
    from sensor_msgs.msg import Image

    store = get_typestore(Stores.ROS2_HUMBLE)
    img = np.arange(3 * 5 * 2, dtype=np.uint16).reshape(3, 5, 2)[..., 0]
    msg = encode_image(
        img, "mono16", header=make_header(store, 12 * SEC + 34, "th"), msg_type=store.types[IMAGE]
    )
    raw = bytes(store.serialize_cdr(msg, IMAGE))
    back = deserialize_message(raw, Image)
    assert (back.header.stamp.sec, back.header.stamp.nanosec) == (12, 34)
    assert back.header.frame_id == "th" and back.encoding == "mono16"
    assert (back.height, back.width, back.step) == (3, 5, 10)
    assert bytes(back.data) == img.tobytes()
    # and rosbags reads rclpy's bytes (byte equality is not required: padding may differ)
    again = store.deserialize_cdr(serialize_message(back), IMAGE)
    assert stamp_ns(again) == 12 * SEC + 34 and again.header.frame_id == "th"
    assert bytes(again.data) == img.tobytes() and again.step == 10


def _spin_in_thread(executor):
    t = threading.Thread(target=executor.spin, daemon=True)
    t.start()
    return t


@pytest.mark.ros
def test_replay_publishes_every_message_with_clock(tmp_path, ros_context, monkeypatch):
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import Image

    from sccosf_ros.bag.replay import BagPlayer, ReplayConfig

    bag = write_synthetic_bag(
        tmp_path / "in",
        storage="mcap",
        duration=0.6,
        rgb_rate=10.0,
        thermal_rate=5.0,
        height=16,
        width=24,
        show_progress=False,
    )
    c = bag.config
    got: dict[str, list] = {c.rgb_topic: [], c.thermal_topic: [], c.label_topic: []}
    clocks: list[int] = []
    lock = threading.Lock()
    sub_node = Node("replay_listener", context=ros_context)
    qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    for topic in got:
        sub_node.create_subscription(Image, topic, lambda m, t=topic: got[t].append(m), qos)

    def on_clock(m):
        with lock:
            clocks.append(m.clock.sec * SEC + m.clock.nanosec)

    sub_node.create_subscription(Clock, "/clock", on_clock, qos)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(sub_node)
    spinner = _spin_in_thread(executor)
    # The pacing, read from the schedule the player keeps (not from a wall-clock figure, which
    # a loaded machine stretches): each message's wall target and whether it went out early.
    schedule: list[tuple[float, bool, bool]] = []
    sleep_until = BagPlayer._sleep_until

    def recording_sleep_until(self, wall_target, bag_at):
        ok = sleep_until(self, wall_target, bag_at)
        schedule.append((wall_target, ok, time.perf_counter() < wall_target))
        return ok

    monkeypatch.setattr(BagPlayer, "_sleep_until", recording_sleep_until)
    rate = 2.0
    try:
        with BagPlayer(
            ReplayConfig(bag=bag.path, rate=rate, clock=True, progress=False), context=ros_context
        ) as player:
            assert player.wait_for_subscribers(120.0)
            stats = player.play()
            start, end = player.reader.start_time, player.reader.end_time
        deadline = time.monotonic() + 120  # a hang guard: the messages are on their way
        while time.monotonic() < deadline and sum(map(len, got.values())) < 15:
            time.sleep(0.05)
    finally:
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=5)
        sub_node.destroy_node()

    assert stats.published == {c.rgb_topic: 6, c.thermal_topic: 3, c.label_topic: 6}
    assert [stamp_ns(_Stamped(m)) for m in got[c.rgb_topic]] == bag.rgb_stamps
    assert [stamp_ns(_Stamped(m)) for m in got[c.thermal_topic]] == bag.thermal_stamps
    assert [stamp_ns(_Stamped(m)) for m in got[c.label_topic]] == bag.label_stamps
    assert got[c.thermal_topic][0].encoding == "mono16"
    # Playback follows the recorded spacing divided by the rate, and never runs ahead of it.
    assert len(schedule) == 15 and all(ok for _, ok, _ in schedule)
    targets = [t for t, _, _ in schedule]
    assert targets == sorted(targets)
    assert targets[-1] - targets[0] == pytest.approx((end - start) / SEC / rate, abs=1e-6)
    assert not any(early for _, _, early in schedule)
    # /clock carries the bag's (log) time, never goes back, ticks between messages too
    with lock:
        seen = list(clocks)
    assert seen == sorted(seen)
    assert seen[0] >= start and seen[-1] <= end
    assert stats.clock_messages > 15 and len(seen) > 15


class _Stamped:
    """Adapter so stamp_ns reads an rclpy message like a rosbags one."""

    def __init__(self, msg):
        self.header = msg.header


@pytest.mark.ros
def test_replay_cli_errors(tmp_path, capsys):
    from sccosf_ros.cli import main

    bag = write_synthetic_bag(
        tmp_path / "in", duration=0.2, height=16, width=24, show_progress=False
    )
    assert main(["replay", str(bag.path), "--topics", "/nope", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "/nope" in err and bag.config.rgb_topic in err
    assert main(["replay", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["replay", str(bag.path), "--rate", "0"]) == 2


@pytest.mark.ros
def test_replay_cli_plays_a_bag(tmp_path, capsys):
    from sccosf_ros.cli import main

    bag = write_synthetic_bag(
        tmp_path / "in", storage="sqlite3", duration=0.3, height=16, width=24, show_progress=False
    )
    assert main(["replay", str(bag.path), "--clock", "--rate", "3", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "published 8 messages on 3 topic(s)" in out and bag.config.rgb_topic in out


@pytest.mark.ros
def test_replay_to_live_node_round_trip(tmp_path, ros_context, nano_checkpoint, capsys):
    """sccosf replay → real sccosf_node (subprocess, use_sim_time) → outputs per pair; then
    bag-eval with the node's parameter files gives the same class ids for every pair."""
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    from std_msgs.msg import String

    from sccosf_ros.bag.replay import BagPlayer, ReplayConfig
    from sccosf_ros.pipeline.params import write_params_file
    from sccosf_ros.ros.diagnostics import values_of
    from sccosf_ros.ros.label_info import label_info_type
    from sccosf_ros.ros.node_process import NodeProcess, node_command
    from sccosf_ros.synthetic import THERMAL_COUNTS

    bag = write_synthetic_bag(
        tmp_path / "in",
        storage="mcap",
        duration=1.6,
        rgb_rate=10.0,
        thermal_rate=5.0,
        thermal_offset=0.004,
        height=40,
        width=56,
        label_topic=None,
        show_progress=False,
    )
    c = bag.config
    expected = [min(bag.rgb_stamps, key=lambda s, t=t: abs(s - t)) for t in bag.thermal_stamps]
    assert len(expected) == 8

    outputs: dict[str, list] = {
        n: [] for n in ("fused", "segmentation", "segmentation_color", "overlay")
    }
    diags: list = []
    label_info: list = []
    listener = Node("round_trip_listener", context=ros_context)
    qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    for name in outputs:
        listener.create_subscription(
            Image, f"/sccosf/{name}", lambda m, n=name: outputs[n].append(m), qos
        )
    listener.create_subscription(DiagnosticArray, "/diagnostics", diags.append, qos)
    latched = QoSProfile(
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
    listener.create_subscription(
        label_info_type(), "/sccosf/label_info", label_info.append, latched
    )
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(listener)
    spinner = _spin_in_thread(executor)
    # a rig that needs registration: thermal shifted by 3 px, as calibration would write it
    rig = write_params_file(
        tmp_path / "rig.yaml",
        {
            "checkpoint": str(nano_checkpoint),
            "device": "cpu",
            "num_threads": 1,
            "thermal.normalization": "fixed",
            "thermal.low": float(THERMAL_COUNTS[0]),
            "thermal.high": float(THERMAL_COUNTS[1]),
            "registration.homography": [1.0, 0.0, 3.0, 0.0, 1.0, -2.0, 0.0, 0.0, 1.0],
        },
    )
    params_files = [CONFIG, rig]
    cmd = node_command(
        params_files=params_files,
        params={"use_sim_time": True, "backend": "torch"},  # bag-eval below: the same
        remaps={"rgb/image_raw": c.rgb_topic, "thermal/image_raw": c.thermal_topic},
    )
    node = NodeProcess(cmd, tmp_path / "node.log")
    try:
        with BagPlayer(
            ReplayConfig(
                bag=bag.path,
                rate=0.5,
                clock=True,
                progress=False,
                topics=[c.rgb_topic, c.thermal_topic],
            ),
            context=ros_context,
        ) as player:
            deadline = time.monotonic() + 120
            while not (label_info and player.wait_for_subscribers(0.1)):
                assert node.alive(), f"node exited:\n{node.log_tail()}"
                assert time.monotonic() < deadline, f"node not ready:\n{node.log_tail()}"
                time.sleep(0.1)
            start, end = player.reader.start_time, player.reader.end_time
            stats = player.play()
        assert stats.published == {c.rgb_topic: 16, c.thermal_topic: 8}

        def node_counters():
            if not diags:
                return None, {}
            v = values_of(diags[-1], "inference")
            return diags[-1], {k: int(v[k]) for k in ("synced_pairs", "processed", "dropped_busy")}

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            _, cnt = node_counters()
            done = cnt and cnt["processed"] + cnt["dropped_busy"] >= len(expected)
            if done and all(len(m) >= cnt["processed"] for m in outputs.values()):
                break
            time.sleep(0.1)
        last_diag, cnt = node_counters()
    finally:
        code = node.stop()
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=5)
        listener.destroy_node()

    assert code == 0, node.log_tail()
    assert isinstance(label_info[0], String) or hasattr(label_info[0], "class_map")
    assert cnt["synced_pairs"] == len(expected)  # the node paired exactly the bag's pairs
    assert cnt["processed"] + cnt["dropped_busy"] == cnt["synced_pairs"]
    assert cnt["processed"] >= 1
    for name, msgs in outputs.items():
        stamps = [m.header.stamp.sec * SEC + m.header.stamp.nanosec for m in msgs]
        assert len(stamps) == cnt["processed"], name
        assert set(stamps) <= set(expected), name  # outputs carry the RGB pair stamps
        assert all(m.header.frame_id == c.rgb_frame for m in msgs)
        assert all((m.height, m.width) == (40, 56) for m in msgs)
    # the node ran on the replayed /clock: its diagnostics are stamped in bag time
    d_stamp = last_diag.header.stamp.sec * SEC + last_diag.header.stamp.nanosec
    assert start <= d_stamp <= end
    # every bag message is still in the bag (replay does not consume it)
    with BagReader(bag.path) as r:
        assert r.count([c.rgb_topic, c.thermal_topic]) == 24

    # the same bag offline, with the node's own parameter files: identical class ids per pair
    from sccosf_ros.cli import main as sccosf_main
    from sccosf_ros.pipeline.image_codec import decode_image

    args = [
        "bag-eval",
        str(bag.path),
        "--rgb-topic",
        c.rgb_topic,
        "--thermal-topic",
        c.thermal_topic,
        "--out",
        str(tmp_path / "eval"),
        "--quiet",
        "--backend",
        "torch",
    ]
    for f in params_files:
        args += ["--params-file", str(f)]
    assert sccosf_main(args) == 0, capsys.readouterr().err
    with BagReader(tmp_path / "eval" / "in_sccosf") as r:
        msgs = [r.deserialize(raw, ty) for _, ty, _, raw in r.messages(["/sccosf/segmentation"])]
    offline = {stamp_ns(m): decode_image(m) for m in msgs}
    assert sorted(offline) == expected  # bag-eval processes every pair
    live = {stamp_ns(m): decode_image(m) for m in outputs["segmentation"]}
    assert live and set(live) <= set(offline)
    for stamp, mask in live.items():
        np.testing.assert_array_equal(mask, offline[stamp], err_msg=f"pair at {stamp}")


@pytest.mark.ros
def test_loop_plays_again_until_stopped(tmp_path, ros_context):
    from sccosf_ros.bag.replay import BagPlayer, ReplayConfig

    bag = write_synthetic_bag(
        tmp_path / "in",
        duration=0.2,
        rgb_rate=10.0,
        thermal_rate=10.0,
        height=16,
        width=24,
        label_topic=None,
        show_progress=False,
    )
    with BagPlayer(
        ReplayConfig(bag=bag.path, rate=4.0, loop=True, clock=True, progress=False),
        context=ros_context,
    ) as player:
        stopper = threading.Timer(1.0, player.stop)
        stopper.start()
        stats = player.play()
        stopper.join()
    assert stats.interrupted and stats.loops >= 2
    assert sum(stats.published.values()) >= 4 * stats.loops


@pytest.mark.ros
def test_sigint_stops_replay_cleanly(tmp_path, ros_context):
    import signal
    import subprocess
    import sys

    from rclpy.node import Node
    from rclpy.qos import QoSProfile
    from rosgraph_msgs.msg import Clock

    bag = write_synthetic_bag(
        tmp_path / "in", duration=0.5, height=16, width=24, show_progress=False
    )
    watcher = Node("clock_watcher", context=ros_context)
    ticks: list = []
    watcher.create_subscription(Clock, "/clock", ticks.append, QoSProfile(depth=10))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sccosf_ros.cli",
            "replay",
            str(bag.path),
            "--loop",
            "--clock",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    from rclpy.executors import SingleThreadedExecutor

    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(watcher)
    try:
        deadline = time.monotonic() + 90
        while not ticks:  # SIGINT only once it is really playing
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "replay never published /clock"
            executor.spin_once(timeout_sec=0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        executor.shutdown(timeout_sec=1.0)
        watcher.destroy_node()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in out and "Traceback" not in err


@pytest.mark.ros
def test_replay_publishes_compressed_image_topics(tmp_path, ros_context):
    """A robot's bag of image_transport topics plays as CompressedImage, bytes unchanged."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CompressedImage

    from sccosf_ros.bag.bag_io import BagWriter
    from sccosf_ros.bag.replay import BagPlayer, ReplayConfig
    from sccosf_ros.pipeline.compressed import COMPRESSED_IMAGE, encode_compressed

    topic = "/cam/image_raw/compressed"
    sent = []
    with BagWriter(tmp_path / "jpeg_bag", storage="mcap") as bag:
        for i in range(4):
            rgb = np.full((12, 16, 3), 40 * i, np.uint8)
            msg = encode_compressed(
                rgb,
                header=make_header(bag.typestore, (10 + i) * SEC, "cam"),
                msg_type=bag.types()[COMPRESSED_IMAGE],
            )
            sent.append(bytes(msg.data))
            bag.write(topic, (10 + i) * SEC, msg)
    got: list = []
    sub_node = Node("replay_jpeg_listener", context=ros_context)
    qos = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)
    sub_node.create_subscription(CompressedImage, topic, got.append, qos)
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(sub_node)
    _spin_in_thread(ex)
    try:
        cfg = ReplayConfig(tmp_path / "jpeg_bag", rate=20.0, wait_subscribers=10.0, progress=False)
        with BagPlayer(cfg, context=ros_context) as player:
            stats = player.play()
        assert stats.published == {topic: 4}
        deadline = time.monotonic() + 10
        while len(got) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [bytes(m.data) for m in got] == sent
        assert got[0].format == "rgb8; jpeg compressed bgr8"
    finally:
        ex.shutdown(timeout_sec=1.0)
        sub_node.destroy_node()


@pytest.mark.ros
def test_wait_subscribers_waits_on_image_topics_only(tmp_path, ros_context):
    """Not on the label topic nothing subscribes to; --topics chooses exactly."""
    from rclpy.node import Node
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from sccosf_ros.bag.replay import BagPlayer, ReplayConfig

    bag = write_synthetic_bag(
        tmp_path / "in", duration=0.3, height=16, width=16, show_progress=False
    )
    c = bag.config
    cfg = ReplayConfig(bag=bag.path, progress=False, node_name="wait_test_player")
    with BagPlayer(cfg, context=ros_context) as player:
        assert set(player.pubs) == {c.rgb_topic, c.thermal_topic, c.label_topic}
        assert sorted(player.wait_topics()) == sorted([c.rgb_topic, c.thermal_topic])
        assert not player.wait_for_subscribers(0.2)  # nobody listens yet
        listener = Node("wait_test_listener", context=ros_context)
        try:
            for topic in (c.rgb_topic, c.thermal_topic):
                listener.create_subscription(Image, topic, lambda m: None, qos_profile_sensor_data)
            assert player.wait_for_subscribers(20.0)  # the label topic has none: not needed
        finally:
            listener.destroy_node()
    cfg = ReplayConfig(bag=bag.path, topics=[c.label_topic], progress=False)
    with BagPlayer(cfg, context=ros_context) as player:
        assert player.wait_topics() == [c.label_topic]


@pytest.mark.parametrize(
    "argv", [["--wait-subscribers", "-3"], ["--start-delay", "-0.5"], ["--depth", "0"]]
)
def test_replay_refuses_negative_waits_and_an_empty_history(tmp_path, argv, capsys):
    from sccosf_ros.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["replay", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and f"sccosf replay: error: argument {argv[0]}" in err


def _wait(cond, what: str, node, timeout: float = 180.0):
    """Poll ``cond`` until true (a hang guard, not a timing bound); fail early if the node died."""
    deadline = time.monotonic() + timeout
    while not (got := cond()):
        assert node.alive(), f"node exited while waiting for {what}:\n{node.log_tail()}"
        assert time.monotonic() < deadline, f"no {what} in {timeout} s:\n{node.log_tail()}"
        time.sleep(0.05)
    return got


# camera preset → its thermal image's size after the preset's crop (None: registered to RGB)
PRESET_THERMAL_HW = {
    "lepton35_radiometric": (120, 160),
    "boson640_raw": (512, 640),
    "boson640_agc": (512, 640),
    "generic_celsius_32fc1": None,
}


@pytest.mark.ros
@pytest.mark.parametrize("camera", list(PRESET_THERMAL_HW))
def test_camera_preset_bag_to_live_node(tmp_path, ros_context, nano_checkpoint, camera):
    """A recording in each preset camera's format (e.g. a Lepton 3.5's 160x120 16UC1
    centikelvin at 8.7 Hz; a Boson's 640x514 raw counts with telemetry rows), with FFC bursts,
    replayed to a real sccosf_node that loads config/cameras/<camera>.yaml and a rig file:
    every good pair processed, every FFC frame skipped, nothing malformed, outputs at the RGB
    size."""
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from sccosf_ros.bag.replay import BagPlayer, ReplayConfig
    from sccosf_ros.pipeline.params import write_params_file
    from sccosf_ros.ros.diagnostics import values_of
    from sccosf_ros.ros.node_process import NodeProcess, node_command

    h, w = 96, 128  # RGB
    bag = write_synthetic_bag(
        tmp_path / "in",
        duration=2.5,
        height=h,
        width=w,
        camera=camera,
        ffc_period=1.0,
        label_topic=None,
        show_progress=False,
    )
    c = bag.config
    assert len(bag.ffc_stamps) == 7  # two bursts: at 1 s and 2 s
    pairs = len(bag.thermal_stamps) - len(bag.ffc_stamps)
    thermal_hw = PRESET_THERMAL_HW[camera]
    sy, sx = (1.0, 1.0) if thermal_hw is None else (h / thermal_hw[0], w / thermal_hw[1])
    rig = write_params_file(
        tmp_path / "rig.yaml",
        {
            "checkpoint": str(nano_checkpoint),
            "device": "cpu",
            "num_threads": 1,
            "inference.height": 32,
            "inference.width": 32,
            "diagnostics.period": 0.25,
            "registration.homography": [sx, 0.0, 0.0, 0.0, sy, 0.0, 0.0, 0.0, 1.0],
            # a Boson's 640x514 frames are larger than best effort delivers whole to a busy
            # host: every frame must arrive for the counts below
            "input_qos.reliability": "reliable",
        },
    )
    preset = CONFIG.parent / "cameras" / f"{camera}.yaml"  # turns frozen-frame detection on
    outputs: dict[str, list] = {n: [] for n in ("fused", "segmentation", "overlay")}
    diags: list = []
    listener = Node("preset_listener", context=ros_context)
    qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    for name in outputs:
        listener.create_subscription(
            Image, f"/sccosf/{name}", lambda m, n=name: outputs[n].append(m), qos
        )
    listener.create_subscription(DiagnosticArray, "/diagnostics", diags.append, qos)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(listener)
    spinner = _spin_in_thread(executor)
    cmd = node_command(
        params_files=[CONFIG, preset, rig],
        params={"use_sim_time": True, "backend": "torch"},  # replay, not the runtime
        remaps={"rgb/image_raw": c.rgb_topic, "thermal/image_raw": c.thermal_topic},
    )
    node = NodeProcess(cmd, tmp_path / "node.log", cwd=CONFIG.parents[1])

    def counters() -> dict[str, int]:
        if not diags:
            return {}
        inf, quality = values_of(diags[-1], "inference"), values_of(diags[-1], "input quality")
        keys = ("synced_pairs", "processed", "dropped_busy")
        return {
            **{k: int(inf[k]) for k in keys},
            "malformed": int(quality["malformed"]),
            "ffc": int(quality.get("thermal_ffc_frames", 0)),
        }

    try:
        node.wait_ready(180.0)
        with BagPlayer(
            ReplayConfig(
                bag=bag.path,
                rate=0.5,
                clock=True,
                qos="reliable",
                progress=False,
                topics=[c.rgb_topic, c.thermal_topic],
            ),
            context=ros_context,
        ) as player:
            _wait(lambda: player.wait_for_subscribers(0.1), "subscription to the bag", node)
            stats = player.play()
        assert stats.published == {c.rgb_topic: 25, c.thermal_topic: len(bag.thermal_stamps)}
        done = _wait(
            lambda: (
                (cnt := counters())
                and cnt["processed"] + cnt["dropped_busy"] >= pairs
                and all(len(m) >= cnt["processed"] for m in outputs.values())
                and cnt
            ),
            "every pair processed",
            node,
        )
    finally:
        code = node.stop()
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=5)
        listener.destroy_node()
    assert code == 0, node.log_tail()
    assert done["synced_pairs"] == pairs and done["malformed"] == 0
    assert done["ffc"] == len(bag.ffc_stamps)  # every FFC frame skipped (and none paired)
    assert done["processed"] >= 1
    for name, msgs in outputs.items():
        assert len(msgs) == done["processed"], name
        assert all((m.height, m.width) == (h, w) for m in msgs), name
