"""The OpenVINO per-node profile tables of ``sccosf bench runtime --profile``."""

from __future__ import annotations

import json

import pytest

from sccosf_ros.bench.errors import BenchError
from sccosf_ros.bench.runtime_profile import (
    LAYOUT_ROW,
    TOP,
    layout_ms,
    load_baseline,
    profile_markdown,
    profile_table,
)


def _profile(types: dict[str, float]) -> dict:
    return {
        "total_ms": sum(types.values()),
        "runs": 3,
        "types": {t: {"ms": ms, "nodes": 2} for t, ms in types.items()},
    }


def _cells(lines: list[str], label: str) -> list[str]:
    row = next(line for line in lines if line.startswith(f"| {label} |"))
    return [c.strip() for c in row.strip("|").split("|")]


def test_layout_work_sums_the_data_moving_node_types():
    p = _profile({"Convolution": 50.0, "Reorder": 10.0, "Transpose": 5.0, "Pad": 5.0})
    assert layout_ms(p) == 20.0
    lines = profile_table(p)
    assert _cells(lines, LAYOUT_ROW) == [LAYOUT_ROW, "20.0", "28.6 %", "6"]
    assert _cells(lines, "all nodes") == ["all nodes", "70.0", "100.0 %", "8"]
    assert lines[2].startswith("| Convolution | 50.0 | 71.4 % | 2 |")  # largest first


def test_types_past_the_top_are_summed_as_other():
    p = _profile({f"T{i}": float(100 - i) for i in range(TOP + 3)})
    lines = profile_table(p)
    assert _cells(lines, "other")[1] == f"{sum(100 - i for i in range(TOP, TOP + 3)):.1f}"
    assert "| T0 |" in lines[2] and not any(f"| T{TOP} |" in line for line in lines)


def test_a_baseline_puts_before_beside_now_and_keeps_types_that_are_gone():
    before = _profile({"Convolution": 50.0, "Transpose": 9.0})
    now = _profile({"Convolution": 48.0})
    lines = profile_table(now, before)
    assert lines[0].startswith("| node type | before ms | before share | before nodes | now ms")
    assert _cells(lines, "Transpose") == ["Transpose", "9.0", "15.3 %", "2", "", "", ""]
    results = {"presets": {"nano": {"openvino:bf16": {"profile": now}, "torch": {}}}}
    text = profile_markdown(results, {"nano": {"openvino:bf16": {"profile": before}}})
    assert text.startswith("OpenVINO profile, nano openvino:bf16: 48.0 ms")
    assert "(before: 59.0 ms, layout 9.0 ms)" in text


def test_a_baseline_file_without_profiles_is_one_clear_error(tmp_path):
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"presets": {"nano": {"torch": {"p50_ms": 1.0}}}}))
    with pytest.raises(BenchError, match="written without --profile"):
        load_baseline(plain)
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    with pytest.raises(BenchError, match="not a `sccosf bench runtime --json` file"):
        load_baseline(junk)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"presets": {"nano": {"openvino": {"profile": _profile({})}}}}))
    assert "openvino" in load_baseline(good)["nano"]
