"""read_yaml: the document, or one line in the caller's error type naming the file."""

from __future__ import annotations

import pytest

from sccosf_ros.errors import SccosfError
from sccosf_ros.yaml_file import read_yaml


class _MyError(SccosfError):
    pass


def test_reads_a_document(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("classes:\n  - name: road\n    colour: [1, 2, 3]\n")
    assert read_yaml(p, _MyError) == {"classes": [{"name": "road", "colour": [1, 2, 3]}]}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"classes: [road\n", "cannot read it as YAML (while parsing"),
        (b"\xff\xfe\x00bad", "cannot read it as YAML ('utf-8' codec"),
    ],
)
def test_bad_files_are_one_line_in_the_callers_error(tmp_path, content, why):
    p = tmp_path / "bad.yaml"
    p.write_bytes(content)
    with pytest.raises(_MyError) as e:
        read_yaml(p, _MyError)
    assert str(e.value).startswith(f"{p}: {why}") and "\n" not in str(e.value)


def test_a_folder_is_an_unreadable_file(tmp_path):
    with pytest.raises(_MyError, match="cannot read it as YAML"):
        read_yaml(tmp_path, _MyError)
