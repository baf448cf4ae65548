"""classes.yaml: round trip, defaults, and one clear line for each mistake."""

from __future__ import annotations

import pytest

from sccosf_ros.class_set import (
    ClassSet,
    ClassSetError,
    class_set_from_dict,
    read_class_set,
    write_class_set,
)
from sccosf_ros.classes import MFNET_CLASSES


def test_round_trip(tmp_path):
    cs = ClassSet(
        ("background", "pallet", "fork lift: big", "person"),
        ((0, 0, 0), (1, 2, 3), (4, 5, 6), (7, 8, 9)),
        ignore_index=200,
    )
    path = write_class_set(cs, tmp_path)
    assert path.name == "classes.yaml"
    assert read_class_set(tmp_path) == cs
    assert read_class_set(path).id_of("Person") == 3
    assert cs.id_of("forklift") is None


def test_colours_default_and_ignore_default():
    cs = class_set_from_dict({"classes": [{"name": "a"}, {"name": "b", "color": [9, 9, 9]}]})
    assert cs.ignore_index == 255 and cs.palette[1] == (9, 9, 9) and len(cs.palette[0]) == 3


def test_builtin_sets():
    assert ClassSet.of_dataset("synthetic").names == MFNET_CLASSES
    assert ClassSet.of_dataset("fmb").num_classes == 15


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"classes": [{"name": "a", "id": 1}]}, "ids must be 0, 1, 2"),
        ({"classes": [{"name": "a"}, {"name": "a"}]}, "repeat: a"),
        ({"classes": [{"name": "a", "color": [1, 2]}]}, "color must be [r, g, b]"),
        ({"classes": [{"name": "a"}, {"name": "b"}], "ignore_index": 1}, "not a class id"),
        ({"classes": [{"id": 0}]}, "needs a non-empty 'name'"),
        (["a", "b"], "'classes' list"),
    ],
)
def test_mistakes_are_one_line(data, needle):
    with pytest.raises(ClassSetError) as e:
        class_set_from_dict(data, "x/classes.yaml")
    assert needle in str(e.value) and "\n" not in str(e.value)
    assert str(e.value).startswith("x/classes.yaml")


def test_unreadable_files(tmp_path):
    with pytest.raises(ClassSetError, match="no such file"):
        read_class_set(tmp_path)
    (tmp_path / "classes.yaml").write_text("classes: [unclosed\n")
    with pytest.raises(ClassSetError, match="cannot read it as YAML"):
        read_class_set(tmp_path)
