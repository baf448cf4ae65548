"""Camera-sized images over real DDS with nothing exported by the user: ``sccosf replay`` of a
640x480 bag reaches the node with >= 90 % of its frames, and a best-effort subscriber with
default settings in another process gets >= 90 % of the node's 640x480 outputs; a 1920x1080
replay reaches such a subscriber too. (Without the profile, 0 of 50 640x480 frames arrived.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from node_harness import NodeProcess, RosIO, node_command

from sccosf_ros.ros.dds import (
    USER_DDS_ENVS,
    apply_large_image_profile,
    isolate_ros_domain,
    package_profile,
)
from sccosf_ros.synthetic import THERMAL_COUNTS, write_synthetic_bag

SCCOSF = str(Path(sys.executable).with_name("sccosf"))
# A subscriber as `ros2 topic hz` or RViz makes it: default DDS settings, best effort.
SUBSCRIBER = r"""
import json, sys, time
from pathlib import Path
import rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
topics, stop = sys.argv[1].split(","), Path(sys.argv[2])
rclpy.init()
node = rclpy.create_node("default_settings_subscriber")
counts = dict.fromkeys(topics, 0)
sizes = {}
def on(msg, t):
    counts[t] += 1
    sizes[t] = [msg.height, msg.width]
for t in topics:
    node.create_subscription(Image, t, lambda m, t=t: on(m, t), qos_profile_sensor_data)
print("subscribed", flush=True)
while not stop.exists():
    rclpy.spin_once(node, timeout_sec=0.05)
for _ in range(20):
    rclpy.spin_once(node, timeout_sec=0.05)
print(json.dumps({"counts": counts, "sizes": sizes}), flush=True)
"""


def _default_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in USER_DDS_ENVS}
    env.pop("SCCOSF_DDS_PROFILE", None)
    return env


class _Subscriber:
    def __init__(self, topics: list[str], tmp: Path) -> None:
        self.stop_file = tmp / "stop"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SUBSCRIBER, ",".join(topics), str(self.stop_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_default_env(),
        )
        assert self.proc.stdout.readline().strip() == "subscribed"

    def result(self) -> dict:
        self.stop_file.touch()
        out, _ = self.proc.communicate(timeout=30)
        return json.loads(out.strip().splitlines()[-1])


def _replay(bag: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SCCOSF, "replay", str(bag), "--wait-subscribers", "60", "--start-delay", "1", *extra],
        capture_output=True,
        text=True,
        timeout=180,
        env=_default_env(),  # nothing exported: the player applies the profile itself
    )


def test_profile_is_applied_unless_the_user_has_dds_settings(tmp_path, monkeypatch):
    env: dict[str, str] = {}
    note = apply_large_image_profile(env)
    assert env["FASTDDS_DEFAULT_PROFILES_FILE"] == str(package_profile()) and "applied" in note
    assert "FASTRTPS_DEFAULT_PROFILES_FILE" not in env  # Fast DDS 3 warns about it
    env = {"ROS_DISTRO": "humble"}
    apply_large_image_profile(env)
    assert env["FASTRTPS_DEFAULT_PROFILES_FILE"] == str(package_profile())  # Fast DDS 2
    for theirs in (
        {"FASTDDS_DEFAULT_PROFILES_FILE": "/mine.xml"},
        {"FASTDDS_BUILTIN_TRANSPORTS": "LARGE_DATA"},
        {"SCCOSF_DDS_PROFILE": "none"},
        {"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"},
    ):
        env = dict(theirs)
        apply_large_image_profile(env)
        assert env == theirs  # left alone
    mine = tmp_path / "mine.xml"
    mine.write_text("<profiles/>")
    env = {"SCCOSF_DDS_PROFILE": str(mine)}
    apply_large_image_profile(env)
    assert env["FASTDDS_DEFAULT_PROFILES_FILE"] == str(mine)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "DEFAULT_FASTDDS_PROFILES.xml").write_text("<profiles/>")
    env = {}
    assert "DEFAULT_FASTDDS_PROFILES.xml" in apply_large_image_profile(env) and env == {}


@pytest.mark.ros
@pytest.mark.slow
def test_640x480_replay_to_node_to_a_default_subscriber(nano_checkpoint, tmp_path):
    ns = "/t_dds"
    fqn = f"{ns}/sccosf"
    bag = write_synthetic_bag(
        tmp_path / "bag",
        storage="mcap",
        duration=3.0,
        rgb_rate=10.0,
        thermal_rate=10.0,
        height=480,
        width=640,
        label_topic=None,
        rgb_topic=f"{ns}/rgb/image_raw",
        thermal_topic=f"{ns}/thermal/image_raw",
        show_progress=False,
    )
    n_rgb, n_thermal = len(bag.rgb_stamps), len(bag.thermal_stamps)
    params = {
        "checkpoint": nano_checkpoint,
        "backend": "torch",  # DDS transport, not the runtime
        "inference.height": 32,
        "inference.width": 32,
        "num_threads": 1,
        "diagnostics.period": 0.25,
        "thermal.normalization": "fixed",
        "thermal.low": float(THERMAL_COUNTS[0]),
        "thermal.high": float(THERMAL_COUNTS[1]),
        "output_qos.reliability": "best_effort",
    }
    node = NodeProcess(node_command(params=params, remaps={"__ns": ns}), tmp_path / "node.log")
    io = sub = None
    outputs = [f"{fqn}/{n}" for n in ("fused", "segmentation", "segmentation_color", "overlay")]
    try:
        node.wait_ready()
        io = RosIO(ns, fqn)  # reads /diagnostics (small messages)
        sub = _Subscriber(outputs, tmp_path)
        io.wait_for(  # the subscriber is on the graph (and io's own recorders)
            lambda: all(io.node.count_subscribers(t) >= 2 for t in outputs),
            what="the default-settings subscriber on the graph",
        )
        played = _replay(bag.path, "--qos", "best_effort", "--quiet")
        assert played.returncode == 0, played.stdout + played.stderr
        io.wait_settled()  # the last pairs are processed and reported
        inputs = io.status_values("inputs")
        processed = io.counter("inference", "processed")
        got = sub.result()
    finally:
        if io is not None:
            io.close()
        node.stop()
    assert int(inputs["rgb_received"]) >= 0.9 * n_rgb, (inputs, n_rgb, node.log())
    assert int(inputs["thermal_received"]) >= 0.9 * n_thermal, (inputs, n_thermal)
    assert processed >= 5, node.log()
    for topic in outputs:
        assert got["counts"][topic] >= 0.9 * processed, (topic, got, processed)
        assert got["sizes"][topic] == [480, 640]
    assert "fastdds_large_images.xml" in node.log()  # in effect (applied, or inherited)


@pytest.mark.ros
@pytest.mark.slow
def test_1920x1080_replay_to_a_default_subscriber(tmp_path):
    from sccosf_ros.bag.bag_io import BagWriter, make_header
    from sccosf_ros.pipeline.image_codec import encode_image

    topic, n = "/t_dds_1080/rgb/image_raw", 10
    frame = np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    with BagWriter(tmp_path / "bag", storage="mcap") as writer:
        writer.add_topic(topic)
        cls = writer.typestore.types["sensor_msgs/msg/Image"]
        for i in range(n):
            t = 1_700_000_000 * 10**9 + i * 200_000_000  # 5 Hz
            header = make_header(writer.typestore, t, "cam")
            writer.write(topic, t, encode_image(frame, "rgb8", header=header, msg_type=cls))
    sub = _Subscriber([topic], tmp_path)
    try:
        played = _replay(tmp_path / "bag", "--qos", "best_effort", "--quiet")
    finally:
        got = sub.result()
    assert played.returncode == 0, played.stdout + played.stderr
    assert got["counts"][topic] >= 0.9 * n, got
    assert got["sizes"][topic] == [1080, 1920]


def test_isolate_ros_domain_picks_a_private_one_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("ROS_DOMAIN_ID")
    monkeypatch.delenv("ROS_AUTOMATIC_DISCOVERY_RANGE", raising=False)
    assert "private" in isolate_ros_domain()
    assert 101 <= int(os.environ["ROS_DOMAIN_ID"]) <= 200
    assert os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    monkeypatch.setenv("ROS_DOMAIN_ID", "7")
    assert isolate_ros_domain() == "ROS_DOMAIN_ID=7 (from the environment)"
    assert os.environ["ROS_DOMAIN_ID"] == "7"
