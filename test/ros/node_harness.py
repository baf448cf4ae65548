"""Node-test harness: sccosf_node as a real subprocess, and a test-side rclpy node.

Imported by the test modules as ``node_harness`` (test/ros/conftest.py puts this folder on
sys.path, since pytest runs with --import-mode=importlib).

Everything talks over real DDS on loopback in the private ROS_DOMAIN_ID test/conftest.py sets;
each node under test gets its own namespace so nodes of different tests never cross-talk.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sccosf_ros.ros.node_process import NodeProcess as SharedNodeProcess
from sccosf_ros.ros.node_process import node_command as shared_node_command

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "sccosf.yaml"
OUTPUTS = ("fused", "segmentation", "segmentation_color", "overlay")
# How long a wait may take before the test calls it a hang: minutes, so that a loaded 2-core
# machine never fails a test for slowness (speed is measured by ``sccosf bench node``).
HANG_GUARD_S = 180.0
# Diagnostics counters that stop changing once nothing is in flight (RosIO.wait_settled).
SETTLED_COUNTERS = frozenset(
    ("rgb_received", "thermal_received", "synced_pairs", "processed", "dropped_busy", "malformed")
)


# --------------------------------------------------------------------------- node subprocess
def node_command(
    *,
    params_file: Path | None = CONFIG,
    params: dict | None = None,
    remaps: dict | None = None,
) -> list[str]:
    """``python -m sccosf_ros.ros.node --ros-args ...`` with exactly the given arguments."""
    return shared_node_command(
        params_files=[params_file] if params_file else [], params=params, remaps=remaps
    )


class NodeProcess(SharedNodeProcess):
    """A running sccosf_node started from the repository root (see sccosf_ros.ros.node_process)."""

    def __init__(self, cmd: list[str], log_path: Path) -> None:
        super().__init__(cmd, log_path, cwd=REPO)

    # The tests' deadlines are hang guards of minutes (the shared defaults suit a user's
    # terminal, not a loaded CI machine).
    def wait_ready(self, timeout: float = HANG_GUARD_S) -> None:
        super().wait_ready(timeout)

    def interrupt(self, timeout: float = HANG_GUARD_S) -> tuple[int, float]:
        return super().interrupt(timeout)


# What most node tests run with: a 32×32 network input, one thread, fast diagnostics, a
# fixed thermal range that suits ``scene``'s counts, and torch eager: these tests are about the
# node's ROS side, and backend auto would export and compile an OpenVINO graph per new size
# (test/ros/test_node_backend.py and test/backends cover the runtimes).
SMALL_NODE_PARAMS = {
    "backend": "torch",
    "inference.height": 32,
    "inference.width": 32,
    "num_threads": 1,
    "diagnostics.period": 0.25,
    "thermal.normalization": "fixed",
    "thermal.low": 7000.0,
    "thermal.high": 9000.0,
}


def running_node(cmd: list[str], log_path: Path) -> Iterator[NodeProcess]:
    """Generator for a module fixture: the node started and ready, killed afterwards."""
    proc = NodeProcess(cmd, log_path)
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.kill()


def connected_io(ns: str, node_fqn: str) -> Iterator[RosIO]:
    """Generator for a fixture: a RosIO whose publishers the node has subscribed to."""
    io = RosIO(ns, node_fqn)
    try:
        io.wait_subscribed()
        yield io
    finally:
        io.close()


def run_node_to_exit(cmd: list[str], timeout: float = 120.0) -> tuple[int, str]:
    """Run a node command that is expected to exit by itself; (exit code, output)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)
    return res.returncode, res.stdout + res.stderr


# --------------------------------------------------------------------------- test images
def stamp_of(ns: int):
    from builtin_interfaces.msg import Time

    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def ns_of(stamp) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def scene(seed: int, h: int = 48, w: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A random RGB uint8 frame and raw thermal counts (uint16, ~7000..9000)."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    thermal = rng.integers(7000, 9000, (h, w), dtype=np.uint16)
    return rgb, thermal


# Wire layout written here by hand (not with the codec under test): encoding → (channel order
# applied to an RGB/mono array, little-endian dtype).
_WIRE = {
    "rgb8": (None, "u1"),
    "bgr8": ("bgr", "u1"),
    "mono8": (None, "u1"),
    "mono16": (None, "<u2"),
    "16UC1": (None, "<u2"),
    "32FC1": (None, "<f4"),
}


def image_msg(array: np.ndarray, encoding: str, stamp_ns: int, frame_id: str):
    """A sensor_msgs/Image as a camera driver would send it (little-endian, unpadded rows)."""
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    order, dtype = _WIRE[encoding]
    a = np.asarray(array)
    if order == "bgr":
        a = a[..., ::-1]
    payload = np.ascontiguousarray(a.astype(dtype))
    h, w = a.shape[:2]
    msg = Image(
        header=Header(stamp=stamp_of(stamp_ns), frame_id=frame_id),
        height=h,
        width=w,
        encoding=encoding,
        is_bigendian=0,
        step=payload.nbytes // h,
    )
    msg.data = payload.tobytes()
    return msg


# --------------------------------------------------------------------------- test-side node
class RosIO:
    """A test-side rclpy node in its own context: camera-like publishers, output recorders.

    ``ns``: namespace the node under test subscribes in (its ``rgb/image_raw`` resolves to
    ``<ns>/rgb/image_raw``); ``node_fqn``: the node's fully qualified name (``<ns>/sccosf``);
    ``rgb_topic``/``thermal_topic``: publish there instead (the node remaps onto them).
    """

    def __init__(
        self,
        ns: str,
        node_fqn: str | None = None,
        rgb_topic: str | None = None,
        thermal_topic: str | None = None,
    ) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import Image

        self.ns = ns.rstrip("/")
        self.node_fqn = node_fqn or f"{self.ns}/sccosf"
        self.ctx = Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node("sccosf_test_io", context=self.ctx)
        # Camera drivers publish best effort (sensor data QoS).
        self.rgb_pub = self.node.create_publisher(
            Image, rgb_topic or f"{self.ns}/rgb/image_raw", qos_profile_sensor_data
        )
        self.thermal_pub = self.node.create_publisher(
            Image, thermal_topic or f"{self.ns}/thermal/image_raw", qos_profile_sensor_data
        )
        self.lock = threading.RLock()  # wait_for conditions may call locked helpers
        self.outputs: dict[str, list] = defaultdict(list)
        self.received_at: dict[str, list[float]] = defaultdict(list)
        self.diagnostics: list = []
        rel = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        for name in OUTPUTS:
            self.node.create_subscription(
                Image, f"{self.node_fqn}/{name}", lambda m, n=name: self._record(n, m), rel
            )
        self.node.create_subscription(
            DiagnosticArray, "/diagnostics", self._on_diag, QoSProfile(depth=50)
        )
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            while self.ctx.ok():
                self.executor.spin_once(timeout_sec=0.05)
        except (ExternalShutdownException, Exception):
            pass

    def _record(self, name: str, msg) -> None:
        with self.lock:
            self.outputs[name].append(msg)
            self.received_at[name].append(time.monotonic())

    def _on_diag(self, msg) -> None:
        if any(s.name.startswith(f"{self.node_fqn}: ") for s in msg.status):
            with self.lock:
                self.diagnostics.append(msg)

    # ------------------------------------------------------------------ helpers
    def publish_pair(self, rgb_msg, thermal_msg) -> None:
        self.rgb_pub.publish(rgb_msg)
        self.thermal_pub.publish(thermal_msg)

    def wait_for(self, cond, timeout: float = HANG_GUARD_S, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                got = cond()
            if got:
                return got
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def wait_subscribed(self, timeout: float = HANG_GUARD_S) -> None:
        self.wait_for(
            lambda: (
                self.rgb_pub.get_subscription_count() > 0
                and self.thermal_pub.get_subscription_count() > 0
            ),
            timeout,
            "the node to subscribe to the camera topics",
        )

    def wait_settled(self, timeout: float = HANG_GUARD_S) -> None:
        """Wait for two new reports in a row with the same input, pair and output counts: no
        message is in flight any more (instead of sleeping "long enough"). A model call longer
        than a report period may still be running: check ``processed`` with that in mind."""

        def counts(msg) -> dict:
            return {
                (st.name, kv.key): kv.value
                for st in msg.status
                for kv in st.values
                if kv.key in SETTLED_COUNTERS
            }

        with self.lock:
            n0 = len(self.diagnostics)

        def two_equal_reports() -> bool:
            reports = self.diagnostics[n0:]
            return len(reports) >= 2 and counts(reports[-2]) == counts(reports[-1])

        self.wait_for(two_equal_reports, timeout, "two reports with the same counts")

    def status_values(self, suffix: str) -> dict[str, str] | None:
        """Key/values of the newest ``<node>: <suffix>`` status (None before the first)."""
        with self.lock:
            return self._status_values(suffix)

    def _status_values(self, suffix: str):
        for msg in reversed(self.diagnostics):
            for st in msg.status:
                if st.name == f"{self.node_fqn}: {suffix}":
                    return {kv.key: kv.value for kv in st.values}
        return None

    def latest_status(self, suffix: str):
        with self.lock:
            for msg in reversed(self.diagnostics):
                for st in msg.status:
                    if st.name == f"{self.node_fqn}: {suffix}":
                        return st
        return None

    def counter(self, suffix: str, key: str) -> int:
        vals = self.status_values(suffix)
        return int(vals[key]) if vals else 0

    def wait_counter_above(self, suffix: str, key: str, value: int, timeout: float) -> int:
        def cond():
            vals = self._status_values(suffix)
            return vals is not None and int(vals[key]) > value and int(vals[key])

        return self.wait_for(cond, timeout, f"{suffix}/{key} > {value}")

    def outputs_for(self, stamp_ns: int) -> dict[str, object]:
        with self.lock:
            return {
                n: m for n in OUTPUTS for m in self.outputs[n] if ns_of(m.header.stamp) == stamp_ns
            }

    def close(self) -> None:
        import rclpy

        if self.ctx.ok():
            rclpy.shutdown(context=self.ctx)
        self._thread.join(5)
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
