"""``~/label_info``: what the ids in ``~/segmentation`` mean, published once, transient local.

One message type in every environment: ``std_msgs/String`` holding this JSON document
(``LABEL_INFO_FORMAT``), so a subscriber written against one machine works on every other (the
node used to switch to ``vision_msgs/LabelInfo`` where vision_msgs happened to be installed,
which has no colours and broke subscribers of the String form)::

    {"format": "sccosf_ros.label_info", "version": 1,
     "dataset": "mfnet",                       # what the checkpoint was trained on
     "ignore_index": 255,                      # id of unlabeled pixels in ~/segmentation
     "classes": [{"id": 0, "name": "unlabeled", "color": [0, 0, 0]}, ...]}   # color = RGB

``id`` is the pixel value in ``~/segmentation`` (the vision_msgs ``VisionClass.class_id``
convention), ``color`` what ``~/segmentation_color`` and ``~/overlay`` draw the class with. The
publisher is transient local (depth 1), so a subscriber that starts later with transient-local
durability still receives it.
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
    """The message type of ``~/label_info``: ``std_msgs/String``, in every environment."""
    from std_msgs.msg import String

    return String


def make_label_info_msg(
    class_names: Sequence[str], palette: Sequence[Sequence[int]], dataset: str = "unknown"
) -> Any:
    """The ``std_msgs/String`` message ``~/label_info`` carries."""
    return label_info_type()(data=label_info_json(class_names, palette, dataset))
