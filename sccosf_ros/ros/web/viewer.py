"""``sccosf web --topics ...``: the web view as a standalone viewer of any image topics.

A small rclpy node subscribes to each topic (``sensor_msgs/Image``; a topic ending in
``/compressed``: ``sensor_msgs/CompressedImage``), to ``/diagnostics`` and to the node's
``~/label_info`` (the legend), and hands every message as it is to the same server the node
runs; a message is decoded only when someone watches its stream (on that stream's encoder
thread). A recorded bag played back with ``sccosf replay`` is watched the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sccosf_ros.ros.web.server import WebConfig, WebError, WebView

DEFAULT_LABEL_INFO = "/sccosf/label_info"


@dataclass(frozen=True)
class ViewerConfig:
    topics: tuple[str, ...]
    web: WebConfig
    diagnostics: str = "/diagnostics"
    label_info: str = DEFAULT_LABEL_INFO


def stream_names(topics: Sequence[str]) -> dict[str, str]:
    """Topic → stream name: the topic without its leading ``/``, ``/`` written as ``_``
    (``/sccosf/overlay`` → ``sccosf_overlay``); WebError for a bad or repeated one."""
    out: dict[str, str] = {}
    for topic in topics:
        name = topic.strip("/").replace("/", "_")
        if not name or not topic.startswith("/") or any(c.isspace() for c in topic):
            raise WebError(f"--topics: {topic!r} is not an absolute topic name like /a/b")
        if name in out.values():
            raise WebError(f"--topics: {topic!r} gives the stream name {name!r} twice")
        out[topic] = name
    return out


def _pixels(msg: Any) -> np.ndarray:
    """An Image or CompressedImage message → pixels to show."""
    if hasattr(msg, "format"):
        from sccosf_ros.pipeline.compressed import decode_compressed

        return decode_compressed(msg)
    from sccosf_ros.pipeline.image_codec import decode_image

    return decode_image(msg)  # colour comes back in RGB order, alpha dropped


def run_viewer(cfg: ViewerConfig) -> int:
    """Serve until Ctrl-C; WebError (one line) when the server cannot start."""
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    names = stream_names(cfg.topics)
    view = WebView(cfg.web, title="sccosf web")
    for name in names.values():
        view.add_stream(name, prepare=_pixels)
    view.start()  # before ROS: a port in use is one line at once
    rclpy.init()
    try:
        node = _subscribe(rclpy.create_node("sccosf_web"), view, cfg, names)
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        with contextlib.suppress(KeyboardInterrupt, ExternalShutdownException):
            executor.spin()
    finally:
        view.stop()
        rclpy.try_shutdown()
    return 0


def _subscribe(node: Any, view: WebView, cfg: ViewerConfig, names: dict[str, str]) -> Any:
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import CompressedImage, Image

    from sccosf_ros.pipeline.pairing import stamp_to_ns
    from sccosf_ros.ros.label_info import label_info_type, parse_label_info

    def on_image(msg: Any, name: str) -> None:
        view.put(name, msg, stamp_to_ns(msg.header.stamp))

    for topic, name in names.items():
        kind = CompressedImage if topic.endswith("/compressed") else Image
        node.create_subscription(
            kind, topic, lambda m, n=name: on_image(m, n), qos_profile_sensor_data
        )
    node.create_subscription(
        DiagnosticArray, cfg.diagnostics, view.board.set_diagnostics, QoSProfile(depth=10)
    )

    def on_label_info(msg: Any) -> None:
        try:
            view.board.set_legend(parse_label_info(msg.data))
        except ValueError as e:
            node.get_logger().warning(f"{cfg.label_info}: not a label_info document: {e}")

    latched = QoSProfile(
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
    node.create_subscription(label_info_type(), cfg.label_info, on_label_info, latched)
    return node
