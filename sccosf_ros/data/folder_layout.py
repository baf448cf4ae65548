"""The generic ("folder") dataset layout: folder names, ``dataset.yaml`` and the thermal PNG code.

::

    DATASET/
      classes.yaml                 class set (``class_set.py``)
      dataset.yaml                 written by ``sccosf extract``: source bag, topics, the node's
                                   thermal normalisation and how thermal PNG values are stored
      rgb/NAME.png                 8-bit RGB as the node sees it
      thermal/NAME.png             registered onto the RGB image: 16-bit raw counts for 16-bit
                                   (and scaled float) sources, 8-bit for mono8 ones
      labels/NAME.png              optional: 8-bit class ids (classes.yaml's ignore_index: none)
      splits/{train,val,test}.txt  NAMEs, one per line
      contact_sheet.png

A hand-made dataset needs only ``classes.yaml``, ``rgb/``, ``thermal/`` and ``splits/``.

Float thermal (``32FC1``: °C, kelvin or counts as floats) is stored as 16-bit PNG values ``q``
with ``value = q · scale + offset`` (``ThermalPng``, recorded in dataset.yaml); ``q = 0`` is
reserved for NaN, so the node's NaN handling (left out of the range estimate) survives the
round trip. Integer sources are stored as they are (scale 1, offset 0).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sccosf_ros.data.errors import DatasetError
from sccosf_ros.yaml_file import read_yaml

DATASET_FILE = "dataset.yaml"
RGB_DIR, THERMAL_DIR, LABEL_DIR, SPLIT_DIR = "rgb", "thermal", "labels", "splits"
CONTACT_SHEET = "contact_sheet.png"
FORMAT = "sccosf-folder-1"  # dataset.yaml's ``format``: bumped when the layout changes
# float thermal that does not hold whole numbers: centikelvin-like steps of 0.01 with an offset
# that puts -273.15 (never a real value) at q = 0, the NaN code
FLOAT_SCALE, FLOAT_OFFSET = 0.01, -273.15
_Q_MAX = 65535


@dataclass(frozen=True)
class ThermalPng:
    """How a thermal PNG's values map to the values the node saw: ``value = q·scale + offset``.

    ``float_source``: the node saw float32 (then q = 0 means NaN); otherwise the PNG holds the
    source's own integers (uint8 or uint16) and decoding returns them unchanged.
    """

    float_source: bool = False
    scale: float = 1.0
    offset: float = 0.0

    @classmethod
    def for_frame(cls, thermal: np.ndarray) -> ThermalPng:
        """The code for a source whose first frame is ``thermal`` (integers stay as they are;
        float frames of whole numbers in 1..65535 keep them, others use 0.01 steps)."""
        if thermal.dtype.kind != "f":
            return cls()
        finite = thermal[np.isfinite(thermal)]
        whole = finite.size and np.all(finite == np.round(finite))
        if whole and finite.min() >= 1 and finite.max() <= _Q_MAX:
            return cls(True, 1.0, 0.0)
        return cls(True, FLOAT_SCALE, FLOAT_OFFSET)

    def encode(self, thermal: np.ndarray) -> tuple[np.ndarray, int]:
        """The PNG array of a frame and how many finite values were clipped to fit in 16 bits."""
        if not self.float_source:
            return thermal, 0
        finite = np.isfinite(thermal)
        q = np.round((thermal.astype(np.float64) - self.offset) / self.scale)
        clipped = int(np.count_nonzero(finite & ((q < 1) | (q > _Q_MAX))))
        q = np.where(finite, np.clip(q, 1, _Q_MAX), 0)
        return q.astype(np.uint16), clipped

    def decode(self, png: np.ndarray) -> np.ndarray:
        """The values the node saw (float32 with NaN for a float source), from PNG values."""
        if not self.float_source:
            return png
        out = png.astype(np.float32) * np.float32(self.scale) + np.float32(self.offset)
        out[png == 0] = np.nan
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any, where: str) -> ThermalPng:
        if d is None:
            return cls()
        try:
            return cls(
                bool(d.get("float_source", False)),
                float(d.get("scale", 1.0)),
                float(d.get("offset", 0.0)),
            )
        except (AttributeError, TypeError, ValueError) as e:
            raise DatasetError(f"{where}: thermal_png needs numbers ({e})") from None


def read_dataset_yaml(root: str | os.PathLike) -> dict[str, Any] | None:
    """The parsed ``dataset.yaml`` of a folder dataset, or None when it has none (hand-made)."""
    path = Path(root) / DATASET_FILE
    if not path.is_file():
        return None
    data = read_yaml(path, DatasetError)
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a mapping, got {type(data).__name__}")
    return data


def write_dataset_yaml(root: str | os.PathLike, data: dict[str, Any]) -> Path:
    path = Path(root) / DATASET_FILE
    header = "# written by `sccosf extract`; see docs/own-data.md\n"
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_split(root: str | os.PathLike, split: str, names: list[str]) -> Path:
    path = Path(root) / SPLIT_DIR / f"{split}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    return path
