"""Synthetic labels in a custom class set: a ``classes.yaml`` whose classes say which synthetic
classes they take.

A team's recording uses its own classes (``class_set.py``); to rehearse that loop on synthetic
data, each class of the file may list the synthetic classes of the layout (MFNet's or FMB's
names) it stands for under ``synthetic:``; every synthetic class that no entry lists becomes
class 0 (the background)::

    ignore_index: 255
    classes:
      - {id: 0, name: background}
      - {id: 1, name: vehicle, synthetic: [car, bike]}
      - {id: 2, name: person, synthetic: [person]}
      - {id: 3, name: barrier, synthetic: [guardrail, color_cone, car_stop]}

The other readers of ``classes.yaml`` ignore the ``synthetic`` key, so the same file describes
the recording's classes to ``sccosf extract`` and training.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sccosf_ros.class_set import ClassSet, class_set_from_dict
from sccosf_ros.classes import DATASET_CLASSES
from sccosf_ros.synthetic.errors import SyntheticError
from sccosf_ros.yaml_file import read_yaml

MAP_KEY = "synthetic"


@dataclass(frozen=True)
class ClassMap:
    """A custom class set and the table taking a synthetic class id to one of its ids."""

    classes: ClassSet
    table: tuple[int, ...]  # index: synthetic class id of the layout

    def apply(self, label: np.ndarray) -> np.ndarray:
        """Synthetic class ids → custom class ids (uint8)."""
        return np.asarray(self.table, np.uint8)[label]


def class_map_from_dict(data: object, layout: str, where: str) -> ClassMap:
    """The ``ClassMap`` of parsed ``classes.yaml`` data for ``layout``'s synthetic classes."""
    classes = class_set_from_dict(data, where)
    names = DATASET_CLASSES[layout][0]
    table = [0] * len(names)
    taken: dict[str, str] = {}
    for entry in data["classes"]:  # class_set_from_dict checked the shape
        listed = entry.get(MAP_KEY, [])
        if isinstance(listed, str) or not isinstance(listed, list):
            raise SyntheticError(f"{where}: class {entry['name']!r}: {MAP_KEY} must be a list")
        for name in listed:
            if name not in names:
                raise SyntheticError(
                    f"{where}: class {entry['name']!r} lists {name!r}, not a synthetic "
                    f"{layout} class (those are: {', '.join(names)})"
                )
            if name in taken:
                raise SyntheticError(
                    f"{where}: synthetic class {name!r} is listed by both {taken[name]!r} and "
                    f"{entry['name']!r}"
                )
            taken[name] = entry["name"]
            table[names.index(name)] = classes.id_of(entry["name"])
    return ClassMap(classes, tuple(table))


def read_class_map(path: str | os.PathLike, layout: str = "mfnet") -> ClassMap:
    """Read a ``classes.yaml`` with ``synthetic:`` lists (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise SyntheticError(f"{p}: no such classes file")
    data = read_yaml(p, SyntheticError)
    return class_map_from_dict(data, layout, str(p))
