"""The node on a real rig's topics over DDS: CompressedImage inputs (JPEG RGB 1280×720, 16-bit PNG
thermal 640×512), the parameter file ``sccosf calibrate`` wrote layered over config/sccosf.yaml
(as the launch file does), JPEG outputs; and malformed compressed input counted and skipped."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from node_harness import CONFIG, HANG_GUARD_S, NodeProcess, RosIO, stamp_of

from sccosf_ros.calibration.homography import frame_agreement
from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.pipeline.compressed import decode_compressed, encode_compressed
from sccosf_ros.pipeline.params import read_params_files
from sccosf_ros.ros.node_process import node_command
from sccosf_ros.synthetic.rig import RigSettings, render_rig_frames, write_rig_bag

pytestmark = pytest.mark.ros


class CompressedIO:
    """RosIO plus CompressedImage camera publishers and ``~/<output>/compressed`` recorders."""

    def __init__(self, ns: str, reliable: bool = True) -> None:
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import CompressedImage

        self.io = RosIO(ns)
        node = self.io.node
        cam_qos = (
            QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
            if reliable
            else qos_profile_sensor_data
        )
        self.rgb_pub = node.create_publisher(
            CompressedImage, f"{ns}/rgb/image_raw/compressed", cam_qos
        )
        self.th_pub = node.create_publisher(
            CompressedImage, f"{ns}/thermal/image_raw/compressed", cam_qos
        )
        self.jpeg: dict[str, list] = {"overlay": [], "fused": []}
        self.lock = threading.Lock()
        for name in self.jpeg:
            node.create_subscription(
                CompressedImage,
                f"{ns}/sccosf/{name}/compressed",
                lambda m, n=name: self._record(n, m),
                QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE),
            )

    def _record(self, name: str, msg) -> None:
        with self.lock:
            self.jpeg[name].append(msg)

    def wait_subscribed(self, timeout: float = 60.0) -> None:
        self.io.wait_for(
            lambda: (
                self.rgb_pub.get_subscription_count() > 0
                and self.th_pub.get_subscription_count() > 0
            ),
            timeout,
            "the node to subscribe to the compressed topics",
        )

    def publish(self, rgb_msg, th_msg) -> None:
        self.rgb_pub.publish(rgb_msg)
        self.th_pub.publish(th_msg)

    def close(self) -> None:
        self.io.close()


def _pair(rgb: np.ndarray, thermal: np.ndarray, t: int):
    from sensor_msgs.msg import CompressedImage
    from std_msgs.msg import Header

    rgb_msg = encode_compressed(
        rgb, "rgb8", "jpeg", 90, header=Header(stamp=stamp_of(t)), msg_type=CompressedImage
    )
    th_msg = encode_compressed(
        thermal, "mono16", "png", header=Header(stamp=stamp_of(t)), msg_type=CompressedImage
    )
    return rgb_msg, th_msg


@pytest.mark.slow
def test_node_runs_a_calibrated_rig_over_dds(tmp_path, nano_checkpoint, capsys):
    rig = RigSettings()
    write_rig_bag(tmp_path / "rig_bag", rig)
    rig_file = tmp_path / "rig.yaml"
    args = ["calibrate", "--bag", str(tmp_path / "rig_bag"), "--pattern", "9x6"]
    args += ["--rgb-topic", "/rig/rgb/image_raw", "--thermal-topic", "/rig/thermal/image_raw"]
    assert sccosf_main([*args, "--out", str(rig_file), "--quiet"]) == 0
    capsys.readouterr()
    H = np.asarray(read_params_files([rig_file]).registration_homography).reshape(3, 3)
    assert frame_agreement(H, np.reshape(rig.homography, (3, 3)), rig.thermal_size) < 1.0

    ns = "/t_rig"
    cmd = node_command(
        params_files=[CONFIG, rig_file],  # the launch file's layering: defaults, then the rig
        params={
            "checkpoint": str(nano_checkpoint),
            "device": "cpu",
            "backend": "torch",  # the rig files, not the runtime
            "num_threads": 1,
            "inference.height": 72,
            "inference.width": 128,
            "input_qos.reliability": "reliable",
            "publish.compressed": True,
            "publish.segmentation": False,
            "publish.segmentation_color": False,
        },
        remaps={"__ns": ns},
    )
    proc = NodeProcess(cmd, tmp_path / "node.log")
    cio = None
    try:
        proc.wait_ready(timeout=120)
        log = proc.log()
        assert (
            f"{ns}/rgb/image_raw/compressed" in log and f"{ns}/thermal/image_raw/compressed" in log
        )
        cio = CompressedIO(ns)
        cio.wait_subscribed()
        io = cio.io
        frames = render_rig_frames(rig)
        t0 = time.time_ns()
        for i, f in enumerate(frames):  # one pair at a time: the node keeps only the latest
            t = t0 + i * 200_000_000
            deadline = time.monotonic() + HANG_GUARD_S
            while "fused" not in io.outputs_for(t):
                assert time.monotonic() < deadline, f"pair {i} gave no output:\n{proc.log()}"
                cio.publish(*_pair(f.rgb, f.thermal, t))
                try:
                    io.wait_for(lambda t=t: "fused" in io.outputs_for(t), 5.0, "fused")
                except AssertionError:
                    continue
            out = io.outputs_for(t)
            assert (out["fused"].width, out["fused"].height) == (1280, 720)
            io.wait_for(lambda t=t: "overlay" in io.outputs_for(t), HANG_GUARD_S, "overlay")
        # The JPEG copies of the picture outputs, decodable, at the RGB resolution.
        io.wait_for(lambda: len(cio.jpeg["overlay"]) >= len(frames), what="overlay/compressed")
        with cio.lock:
            jpeg = cio.jpeg["overlay"][-1]
        assert jpeg.format == "rgb8; jpeg compressed bgr8"
        assert decode_compressed(jpeg).shape == (720, 1280, 3)
        assert io.counter("input quality", "malformed") == 0
        rc, _ = proc.interrupt()
        assert rc == 0, proc.log()
    finally:
        if cio is not None:
            cio.close()
        proc.kill()


def _bad_compressed(kind: str, rgb_msg, th_msg):
    """Broken compressed messages as real drivers and links produce them."""
    import cv2

    if kind == "truncated_jpeg":
        data = bytes(rgb_msg.data)
        rgb_msg.data = data[: len(data) // 2]
        return rgb_msg, th_msg, "malformed_rgb"
    if kind == "png_wrong_bit_depth":  # says mono16, holds 8-bit samples
        th_msg.data = cv2.imencode(".png", np.full((48, 64), 120, np.uint8))[1].tobytes()
        return rgb_msg, th_msg, "malformed_thermal"
    if kind == "unknown_format":
        rgb_msg.format = "rgb8; h264 compressed yuv420"
        return rgb_msg, th_msg, "malformed_rgb"
    raise ValueError(kind)


def test_malformed_compressed_input_is_counted_and_the_node_goes_on(start_node, ros_context):
    from sccosf_ros.bench.node import trivial_predictor

    ns = "/t_rig_bad"
    start_node(
        ns,
        trivial_predictor(),
        rgb_transport="compressed",
        thermal_transport="compressed",
        **{"input_qos.reliability": "reliable", "diagnostics.period": 0.2},
    )
    cio = CompressedIO(ns)
    io = cio.io
    try:
        cio.wait_subscribed()
        rng = np.random.default_rng(3)
        rgb = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        thermal = rng.integers(7000, 9000, (48, 64), dtype=np.uint16)

        def send_good() -> None:
            deadline = time.monotonic() + HANG_GUARD_S
            while time.monotonic() < deadline:
                t = time.time_ns()
                cio.publish(*_pair(rgb, thermal, t))
                try:
                    io.wait_for(lambda t=t: "fused" in io.outputs_for(t), 2.0, "fused")
                    return
                except AssertionError:
                    continue
            raise AssertionError("no output for a good compressed pair")

        send_good()
        io.wait_for(lambda: io._status_values("input quality"), HANG_GUARD_S, "diagnostics")
        for kind in ("truncated_jpeg", "png_wrong_bit_depth", "unknown_format"):
            before = io.counter("input quality", "malformed")
            t = time.time_ns()
            rgb_msg, th_msg, key = _bad_compressed(kind, *_pair(rgb, thermal, t))
            before_kind = io.counter("input quality", key)
            cio.publish(rgb_msg, th_msg)
            io.wait_counter_above("input quality", "malformed", before, HANG_GUARD_S)
            assert io.counter("input quality", key) == before_kind + 1, kind
            assert not io.outputs_for(t), kind  # skipped, never paired
            send_good()  # still running and producing
    finally:
        cio.close()
