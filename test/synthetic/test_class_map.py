"""Synthetic labels in a custom class set: the table from classes.yaml, its errors."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.class_set import ClassSetError, read_class_set
from sccosf_ros.classes import MFNET_CLASSES
from sccosf_ros.synthetic import SyntheticError, read_class_map

FOUR = """\
ignore_index: 255
classes:
  - {id: 0, name: background}
  - {id: 1, name: vehicle, synthetic: [car, bike]}
  - {id: 2, name: person, synthetic: [person]}
  - {id: 3, name: barrier, synthetic: [guardrail, color_cone, car_stop]}
"""


def test_four_classes_from_the_synthetic_ones(tmp_path):
    path = tmp_path / "classes.yaml"
    path.write_text(FOUR)
    cmap = read_class_map(path, "mfnet")
    assert cmap.classes.names == ("background", "vehicle", "person", "barrier")
    names = MFNET_CLASSES
    want = {"car": 1, "bike": 1, "person": 2, "guardrail": 3, "color_cone": 3, "car_stop": 3}
    assert cmap.table == tuple(want.get(n, 0) for n in names)
    label = np.arange(len(names), dtype=np.uint8).reshape(1, -1)
    np.testing.assert_array_equal(cmap.apply(label)[0], cmap.table)
    assert read_class_set(path) == cmap.classes  # the plain reader takes the same file


@pytest.mark.parametrize(
    "entry,words",
    [
        ("{id: 1, name: vehicle, synthetic: [car, tractor]}", ["'tractor'", "bike"]),
        ("{id: 1, name: vehicle, synthetic: car}", ["must be a list"]),
        ("{id: 1, name: vehicle, synthetic: [person]}", ["both", "'person'"]),
    ],
)
def test_bad_mapping_is_one_line(tmp_path, entry, words):
    path = tmp_path / "classes.yaml"
    path.write_text(
        "classes:\n  - {id: 0, name: background}\n  - " + entry + "\n"
        "  - {id: 2, name: person, synthetic: [person]}\n"
    )
    with pytest.raises(SyntheticError) as e:
        read_class_map(path, "mfnet")
    assert "\n" not in str(e.value) and str(path) in str(e.value)
    for w in words:
        assert w in str(e.value)
    with pytest.raises(SyntheticError, match="no such classes file"):
        read_class_map(tmp_path / "missing.yaml")


def test_a_bad_colour_is_one_line_naming_the_file_the_class_and_the_value(tmp_path):
    # class_map reads the class set through class_set_from_dict: the colour check is the shared one
    path = tmp_path / "classes.yaml"
    path.write_text(FOUR.replace("name: person,", "name: person, color: [255, 0, 300],"))
    with pytest.raises(ClassSetError) as e:
        read_class_map(path, "mfnet")
    assert str(e.value) == (
        f"{path}: class 'person': color must be [r, g, b] with integers 0-255, got [255, 0, 300]"
    )
