"""Measuring the node from outside, over DDS: camera-like publishers and output subscribers,
each in its own DDS participant as separate driver and viewer processes would be
(``sccosf bench node`` and the GPU check's node part use them).

Every participant takes the package's large-image profile (``ros.dds``), as the node's own do.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from sccosf_ros.pipeline.outputs import output_topics
from sccosf_ros.pipeline.pairing import stamp_to_ns
from sccosf_ros.ros.dds import large_image_profile


def camera_pair(rgb: np.ndarray, thermal: np.ndarray, stamp_ns: int) -> tuple[Any, Any]:
    """A camera-like pair: bgr8 RGB and mono16 thermal ``sensor_msgs/Image`` with one stamp
    (``pipeline.image_codec.encode_image``, the node's own encoder)."""
    from builtin_interfaces.msg import Time
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from sccosf_ros.pipeline.image_codec import encode_image

    stamp = Time(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000)
    return (
        encode_image(rgb[..., ::-1], "bgr8", Header(stamp=stamp, frame_id="rgb"), msg_type=Image),
        encode_image(thermal, "mono16", Header(stamp=stamp, frame_id="thermal"), msg_type=Image),
    )


def spin_until_shutdown(ex: Any, ctx: Any) -> None:
    """Spin ``ex`` until its context shuts down (a daemon thread's target)."""
    try:
        while ctx.ok():
            ex.spin_once(timeout_sec=0.05)
    except Exception:
        pass


class OutputLoopback:
    """The node's four output publishers (``ns``'s output topics) with a subscriber in another
    DDS participant, counting what arrives."""

    def __init__(self, ns: str = "/bench_overhead") -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image

        self.pub_ctx, self.sub_ctx = Context(), Context()
        with large_image_profile():  # as the node's own publishers have it
            rclpy.init(context=self.pub_ctx)
            rclpy.init(context=self.sub_ctx)
            self.pub_node = rclpy.create_node("bench_pub", context=self.pub_ctx)
            self.sub_node = rclpy.create_node("bench_sub", context=self.sub_ctx)
        qos = QoSProfile(depth=2, reliability=ReliabilityPolicy.RELIABLE)
        self.pubs = {
            name: self.pub_node.create_publisher(Image, topic, qos)
            for name, topic in output_topics(ns).items()
        }
        self.received = 0
        for topic in output_topics(ns).values():
            self.sub_node.create_subscription(Image, topic, self._count, qos)
        self.ex = SingleThreadedExecutor(context=self.sub_ctx)
        self.ex.add_node(self.sub_node)
        self.spin = threading.Thread(
            target=spin_until_shutdown, args=(self.ex, self.sub_ctx), daemon=True
        )
        self.spin.start()
        deadline = time.monotonic() + 20
        while (
            any(p.get_subscription_count() == 0 for p in self.pubs.values())
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)

    def _count(self, _msg: object) -> None:
        self.received += 1

    def close(self) -> None:
        import rclpy

        time.sleep(0.5)  # let the last messages arrive
        rclpy.shutdown(context=self.sub_ctx)
        self.spin.join(5)
        self.pub_node.destroy_node()
        self.sub_node.destroy_node()
        rclpy.shutdown(context=self.pub_ctx)


class CameraProbe:
    """Two camera-like publishers (one DDS participant each, like two driver processes) and a
    ~/fused + /diagnostics subscriber in a third."""

    def __init__(self, ns: str, reliability: str = "best_effort") -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import Image

        self.ns = ns
        self.ctx = Context()
        cam_qos = (
            qos_profile_sensor_data
            if reliability == "best_effort"
            else QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        )
        self.cams = []
        # The cameras' best-effort frames are larger than Fast DDS's default shared-memory
        # segment: their participants get the profile the node and the player use.
        with large_image_profile():
            rclpy.init(context=self.ctx)
            self.node = rclpy.create_node("sccosf_bench_probe", context=self.ctx)
            for name in ("rgb", "thermal"):
                ctx = Context()
                rclpy.init(context=ctx)
                self.cams.append((ctx, rclpy.create_node(f"bench_{name}_camera", context=ctx)))
        self.rgb_pub = self.cams[0][1].create_publisher(Image, f"{ns}/rgb/image_raw", cam_qos)
        self.th_pub = self.cams[1][1].create_publisher(Image, f"{ns}/thermal/image_raw", cam_qos)
        self.lock = threading.Lock()
        self.recv: dict[int, float] = {}
        self.diag: dict[str, str] = {}
        # one count per /diagnostics message from the node, and when it came (a counter's
        # rate needs the time between two of its values, not between two reads of it)
        self.diag_seq = 0
        self.diag_at = 0.0
        self.node.create_subscription(
            Image,
            f"{ns}/sccosf/fused",
            self._on_fused,
            QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE),
        )
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, 10)
        self.ex = SingleThreadedExecutor(context=self.ctx)
        self.ex.add_node(self.node)
        self.thread = threading.Thread(
            target=spin_until_shutdown, args=(self.ex, self.ctx), daemon=True
        )
        self.thread.start()

    def _on_fused(self, msg: Any) -> None:
        now = time.monotonic()
        stamp = stamp_to_ns(msg.header.stamp)
        with self.lock:
            self.recv[stamp] = now

    def _on_diag(self, msg: Any) -> None:
        now = time.monotonic()
        names = (f"{self.ns}/sccosf: inference", f"{self.ns}/sccosf: inputs")
        ours = [st for st in msg.status if st.name in names]
        if not ours:
            return
        with self.lock:
            for st in ours:
                self.diag.update({kv.key: kv.value for kv in st.values})
            self.diag_seq += 1
            self.diag_at = now

    def wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.rgb_pub.get_subscription_count() and self.th_pub.get_subscription_count():
                return True
            time.sleep(0.05)
        return False

    def stream(
        self, rgb: np.ndarray, thermal: np.ndarray, rate: float, duration: float
    ) -> dict[int, float]:
        sent: dict[int, float] = {}
        t0 = time.monotonic()
        for k in range(int(rate * duration)):
            delay = t0 + k / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            stamp = time.time_ns()
            m_rgb, m_th = camera_pair(rgb, thermal, stamp)
            sent[stamp] = time.monotonic()
            self.rgb_pub.publish(m_rgb)
            self.th_pub.publish(m_th)
        return sent

    def close(self) -> None:
        import rclpy

        rclpy.shutdown(context=self.ctx)
        self.thread.join(5)
        self.node.destroy_node()
        for ctx, node in self.cams:
            node.destroy_node()
            rclpy.shutdown(context=ctx)
