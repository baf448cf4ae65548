"""The outputs of one pair: their names, encodings and topics, drawn as images and messages.

``~/fused`` (rgb8), ``~/segmentation`` (mono8 class ids, 255 = unlabeled), ``~/segmentation_color``
(rgb8, the palette's colours) and ``~/overlay`` (rgb8, colours over the RGB image). The node
publishes them, ``sccosf bag-eval`` writes them into its output bag, the demo records them: all
through :func:`render_outputs` and :func:`encode_outputs`. With ``publish.compressed`` the picture
outputs also go out as JPEG ``sensor_msgs/CompressedImage`` on ``~/<name>/compressed``
(image_transport's name; :func:`encode_compressed_outputs`); class ids are never sent lossy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from sccosf_ros.classes import colorize, overlay

OUTPUT_NAMES = ("fused", "segmentation", "segmentation_color", "overlay")
OUTPUT_ENCODINGS = {
    "fused": "rgb8",
    "segmentation": "mono8",
    "segmentation_color": "rgb8",
    "overlay": "rgb8",
}
COMPRESSED_OUTPUTS = ("overlay", "fused", "segmentation_color")  # JPEG copies: pictures only
DEFAULT_NAMESPACE = "/sccosf"  # where the node's private (~/) outputs land by default


def output_topics(namespace: str = DEFAULT_NAMESPACE) -> dict[str, str]:
    """Output name → topic under ``namespace`` (the node's ``~/<name>``)."""
    ns = namespace.strip("/")
    return {name: f"/{ns}/{name}" if ns else f"/{name}" for name in OUTPUT_NAMES}


def compressed_topics(namespace: str = DEFAULT_NAMESPACE) -> dict[str, str]:
    """Output name → ``<topic>/compressed`` for the outputs that have a JPEG copy."""
    topics = output_topics(namespace)
    return {name: f"{topics[name]}/compressed" for name in COMPRESSED_OUTPUTS}


def render_outputs(
    names: Iterable[str],
    rgb: np.ndarray,
    fused: np.ndarray | None,
    labels: np.ndarray | None,
    palette: Sequence[tuple[int, int, int]],
    alpha: float,
) -> dict[str, np.ndarray]:
    """The arrays of the requested outputs (a head that is off, ablation E/F, gives none)."""
    wanted = set(names)
    images: dict[str, np.ndarray] = {}
    if "fused" in wanted and fused is not None:
        images["fused"] = fused
    if labels is None:
        return images
    if "segmentation" in wanted:
        images["segmentation"] = labels
    if wanted & {"segmentation_color", "overlay"}:
        color = colorize(labels, palette)
        if "segmentation_color" in wanted:
            images["segmentation_color"] = color
        if "overlay" in wanted:
            images["overlay"] = overlay(rgb, labels, palette, alpha, color=color)
    return images


def encode_outputs(images: dict[str, np.ndarray], header: Any, msg_type: type) -> dict[str, Any]:
    """Output arrays → Image messages of ``msg_type`` (rclpy or rosbags) with ``header``."""
    from sccosf_ros.pipeline.image_codec import encode_image

    return {
        name: encode_image(arr, OUTPUT_ENCODINGS[name], header=header, msg_type=msg_type)
        for name, arr in images.items()
    }


def encode_compressed_outputs(
    images: dict[str, np.ndarray], header: Any, quality: int, msg_type: type
) -> dict[str, Any]:
    """JPEG CompressedImage messages of the picture outputs among ``images`` (rgb8 arrays)."""
    from sccosf_ros.pipeline.compressed import encode_compressed

    return {
        name: encode_compressed(
            images[name], "rgb8", "jpeg", quality, header=header, msg_type=msg_type
        )
        for name in COMPRESSED_OUTPUTS
        if name in images
    }
