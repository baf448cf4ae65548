"""A dataset's class set: ids, names, colours and the ignore value, read from ``classes.yaml``.

MFNet, FMB and the synthetic scenes have fixed class sets (``classes.py``); a team's own data
has its own (``pallet``, ``forklift``, ``person``, ...). ``classes.yaml`` sits at the root of a
generic dataset (``sccosf extract`` writes it, the label converters read it) and its content is
carried by every checkpoint trained on it, so evaluation, bag-eval and the node's
``~/label_info`` and colours follow it::

    # classes.yaml
    ignore_index: 255          # label value that marks unlabelled pixels (not a class id)
    classes:
      - {id: 0, name: background, color: [0, 0, 0]}
      - {id: 1, name: pallet, color: [230, 160, 40]}
      - {id: 2, name: forklift, color: [250, 220, 0]}
      - {id: 3, name: person, color: [220, 20, 60]}

Ids are 0..K-1 in order; names are unique; ``color`` is optional (a deterministic palette fills
it). Inside the package the ignore value is always 255 (``IGNORE_INDEX``): readers map the
file's ``ignore_index`` to it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sccosf_ros.classes import DATASET_CLASSES, IGNORE_INDEX, default_palette
from sccosf_ros.colour_triple import check_colour_triple
from sccosf_ros.errors import SccosfError
from sccosf_ros.yaml_file import read_yaml

CLASSES_FILE = "classes.yaml"


class ClassSetError(SccosfError, ValueError):
    """A classes.yaml that cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class ClassSet:
    """Class names and colours by id, plus the label value that means "not labelled"."""

    names: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    ignore_index: int = IGNORE_INDEX

    def __post_init__(self) -> None:
        if not self.names:
            raise ClassSetError("a class set needs at least one class")
        if len(self.names) != len(self.palette):
            raise ClassSetError(f"{len(self.names)} class names but {len(self.palette)} colours")
        if len(self.names) > IGNORE_INDEX:
            raise ClassSetError(f"at most {IGNORE_INDEX} classes, got {len(self.names)}")
        if not 0 <= self.ignore_index <= 255 or self.ignore_index < len(self.names):
            raise ClassSetError(
                f"ignore_index {self.ignore_index} must be 0-255 and not a class id "
                f"(ids are 0-{len(self.names) - 1})"
            )

    @property
    def num_classes(self) -> int:
        return len(self.names)

    def id_of(self, name: str) -> int | None:
        """The id of a class name (exact match first, then case-insensitive), or None."""
        if name in self.names:
            return self.names.index(name)
        lower = [n.lower() for n in self.names]
        return lower.index(name.lower()) if name.lower() in lower else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ignore_index": int(self.ignore_index),
            "classes": [
                {"id": i, "name": n, "color": list(c)}
                for i, (n, c) in enumerate(zip(self.names, self.palette, strict=True))
            ],
        }

    @classmethod
    def of_dataset(cls, name: str) -> ClassSet:
        """The fixed class set of ``mfnet`` or ``fmb`` (``synthetic`` scenes use MFNet's)."""
        key = "mfnet" if name.lower() == "synthetic" else name.lower()
        if key not in DATASET_CLASSES:
            raise ClassSetError(
                f"no built-in class set for {name!r}: use {sorted(DATASET_CLASSES)}"
            )
        names, palette = DATASET_CLASSES[key]
        return cls(tuple(names), tuple(palette))


def _color(entry: dict, where: str) -> tuple[int, int, int] | None:
    value = entry.get("color")
    if value is None:
        return None
    check_colour_triple(value, f"{where}: color", ClassSetError)
    return (int(value[0]), int(value[1]), int(value[2]))


def _entries(data: Any, where: str) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
        raise ClassSetError(f"{where}: expected a mapping with a 'classes' list")
    entries = data["classes"]
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not e["name"]:
            raise ClassSetError(f"{where}: class #{i} needs a non-empty 'name'")
        if e.get("id", i) != i:
            raise ClassSetError(
                f"{where}: class {e['name']!r} has id {e.get('id')!r}; ids must be 0, 1, 2, ... "
                "in order"
            )
    names = [e["name"] for e in entries]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ClassSetError(f"{where}: class names repeat: {', '.join(dup)}")
    return entries


def class_set_from_dict(data: Any, where: str = CLASSES_FILE) -> ClassSet:
    """Build a ``ClassSet`` from the parsed YAML; errors name ``where``."""
    entries = _entries(data, where)
    fill = default_palette(len(entries))
    colors = [_color(e, f"{where}: class {e['name']!r}") or fill[i] for i, e in enumerate(entries)]
    ignore = data.get("ignore_index", IGNORE_INDEX)
    if isinstance(ignore, bool) or not isinstance(ignore, int):
        raise ClassSetError(f"{where}: ignore_index must be an integer, got {ignore!r}")
    try:
        return ClassSet(tuple(e["name"] for e in entries), tuple(colors), int(ignore))
    except ClassSetError as e:
        raise ClassSetError(f"{where}: {e}") from None


def read_class_set(path: str | os.PathLike) -> ClassSet:
    """Read ``classes.yaml`` (a file, or a dataset folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / CLASSES_FILE
    if not p.is_file():
        raise ClassSetError(f"{p}: no such file; a custom dataset needs a {CLASSES_FILE}")
    data = read_yaml(p, ClassSetError)
    return class_set_from_dict(data, str(p))


def write_class_set(classes: ClassSet, path: str | os.PathLike) -> Path:
    """Write ``classes.yaml`` (a file path, or a folder to write it into); returns the path."""
    p = Path(path)
    if p.is_dir():
        p = p / CLASSES_FILE
    lines = [
        "# class set of this dataset: ids 0..K-1 in order; ignore_index marks unlabelled pixels",
        f"ignore_index: {classes.ignore_index}",
        "classes:",
    ]
    for i, (name, color) in enumerate(zip(classes.names, classes.palette, strict=True)):
        lines.append(
            f"  - {{id: {i}, name: {json.dumps(name)}, "
            f"color: [{color[0]}, {color[1]}, {color[2]}]}}"
        )
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p
