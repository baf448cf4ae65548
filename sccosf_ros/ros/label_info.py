"""``~/label_info``: what the ids in ``~/segmentation`` mean, published once, transient local.

With ``vision_msgs`` installed the message is ``vision_msgs/LabelInfo`` (class_map of
``VisionClass(class_id, class_name)``, the vision_msgs convention; it has no colours). Without it,
a ``std_msgs/String`` holding this JSON document (``LABEL_INFO_FORMAT``)::

    {"format": "sccosf_ros.label_info", "version": 1,
     "dataset": "mfnet",                       # what the checkpoint was trained on
     "ignore_index": 255,                      # id of unlabeled pixels in ~/segmentation
     "classes": [{"id": 0, "name": "unlabeled", "color": [0, 0, 0]}, ...]}   # color = RGB

``color`` is what ``~/segmentation_color`` and ``~/overlay`` draw the class with. The publisher is
transient local (depth 1), so a subscriber that starts later with transient-local durability
still receives it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sccosf_ros.classes import IGNORE_INDEX

LABEL_INFO_FORMAT = "sccosf_ros.label_info"


def label_info_dict(
    class_names: Sequence[str], palette: Sequence[Sequence[int]], dataset: str = "unknown"
) -> dict:
    if len(palette) < len(class_names):
        raise ValueError(f"{len(palette)} colours for {len(class_names)} classes")
    return {
        "format": LABEL_INFO_FORMAT,
        "version": 1,
        "dataset": dataset,
        "ignore_index": IGNORE_INDEX,
        "classes": [
            {"id": i, "name": str(n), "color": [int(v) for v in palette[i]]}
            for i, n in enumerate(class_names)
        ],
    }


def label_info_json(
    class_names: Sequence[str], palette: Sequence[Sequence[int]], dataset: str = "unknown"
) -> str:
    return json.dumps(label_info_dict(class_names, palette, dataset))


def parse_label_info(text: str) -> dict:
    """The JSON form back into a dict (checks the format tag)."""
    d = json.loads(text)
    if d.get("format") != LABEL_INFO_FORMAT:
        raise ValueError(f"not an {LABEL_INFO_FORMAT} document")
    return d


def label_info_type() -> type:
    """``vision_msgs/LabelInfo`` when importable, else ``std_msgs/String``."""
    try:
        from vision_msgs.msg import LabelInfo

        return LabelInfo
    except ImportError:
        from std_msgs.msg import String

        return String


def make_label_info_msg(
    class_names: Sequence[str],
    palette: Sequence[Sequence[int]],
    dataset: str = "unknown",
    header: Any = None,
) -> Any:
    """The message ``~/label_info`` carries (type from ``label_info_type``)."""
    msg_type = label_info_type()
    if msg_type.__name__ == "String":
        return msg_type(data=label_info_json(class_names, palette, dataset))
    from vision_msgs.msg import VisionClass

    msg = msg_type()
    if header is not None:
        msg.header = header
    msg.class_map = [VisionClass(class_id=i, class_name=str(n)) for i, n in enumerate(class_names)]
    msg.threshold = 0.0  # argmax labels: every pixel gets its best class
    return msg
