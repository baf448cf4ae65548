"""How the node's images travel, named as ``image_transport`` names them.

Inputs: ``raw`` is ``sensor_msgs/Image`` on the base topic (``rgb/image_raw``); ``compressed`` is
``sensor_msgs/CompressedImage`` on ``<base>/compressed``, where ``<base>`` is the base topic
*after* remapping and namespacing, as image_transport resolves it. So
``-r rgb/image_raw:=/cam/color/image_raw`` with ``rgb_transport: compressed`` subscribes to
``/cam/color/image_raw/compressed``.

Outputs: with ``publish.compressed`` each picture output (overlay, fused, segmentation_color)
also goes out as JPEG on ``~/<name>/compressed`` beside the raw topic (RViz and
``rqt_image_view`` pick it from the transport list).
"""

from __future__ import annotations

from typing import Any

from sensor_msgs.msg import CompressedImage, Image

__all__ = ["compressed_publisher", "input_topic", "input_type"]


def input_type(transport: str) -> type:
    """The message type a ``raw``/``compressed`` input subscribes with."""
    return CompressedImage if transport == "compressed" else Image


def input_topic(node: Any, base: str, transport: str) -> str:
    """The topic to subscribe: ``base`` (raw), or resolved ``base`` + ``/compressed``."""
    if transport != "compressed":
        return base
    return f"{node.resolve_topic_name(base)}/compressed"


def compressed_publisher(node: Any, name: str, qos: Any) -> Any:
    """The ``~/<name>/compressed`` (JPEG CompressedImage) publisher of one output."""
    return node.create_publisher(CompressedImage, f"~/{name}/compressed", qos)
