"""bench/tables.py: the one Markdown / fixed-width table writer and the result files."""

from __future__ import annotations

import argparse
import json

import pytest

from sccosf_ros.bench.errors import BenchError
from sccosf_ros.bench.tables import write_outputs
from sccosf_ros.tables import markdown_table, records_table, text_table


def test_markdown_names_left_figures_right():
    lines = markdown_table(["stage", "p50", "p95"], [["decode", "1.00", "2.00"]])
    assert lines == ["| stage | p50 | p95 |", "|---|---:|---:|", "| decode | 1.00 | 2.00 |"]
    assert markdown_table(["a", "b"], [], left=2)[1] == "|---|---|"


def test_records_flatten_nested_dicts_and_fill_missing_keys():
    lines = records_table([{"a": 1, "g": {"x": 2}}, {"b": None}], fmt=lambda v: str(v))
    assert lines[0] == "| a | g.x | b |"
    assert lines[2:] == ["| 1 | 2 | None |", "| None | None | None |"]


def test_text_table_right_aligned_with_optional_rule():
    lines = text_table(["preset", "ms"], [["nano", "12.5"]], rule=True)
    assert lines == ["preset    ms", "------------", "  nano  12.5"]
    assert len(text_table(["x"], [["1"]])) == 2


def test_outputs_are_written_and_an_unwritable_path_is_a_bench_error(tmp_path, capsys):
    args = argparse.Namespace(json=tmp_path / "a" / "r.json", markdown=tmp_path / "r.md")
    write_outputs(args, {"p50": float("nan")}, "| t |\n\n")
    assert json.loads(args.json.read_text()) == {"p50": None}
    assert args.markdown.read_text() == "| t |\n" and "wrote" in capsys.readouterr().out
    (tmp_path / "file").write_text("")
    args = argparse.Namespace(json=tmp_path / "file" / "r.json", markdown=None)
    with pytest.raises(BenchError, match="cannot write"):
        write_outputs(args, {}, "")
