"""bench/node_e2e.py: the end-to-end part of ``sccosf bench node`` measures what it says."""

from __future__ import annotations

import json
import math

import pytest

from sccosf_ros.cli import main


@pytest.fixture(autouse=True)
def _real_auto(real_auto_backend):
    """These tests are about the real ``auto`` choice (conftest pins it to torch elsewhere)."""


@pytest.mark.ros
def test_end_to_end_rows_count_what_went_through_the_node(tmp_path, capsys):
    out = tmp_path / "node.json"
    argv = ["bench", "node", "--height", "48", "--width", "64", "--pairs", "3",
            "--rates", "10", "--duration", "1.5", "--skip-model-e2e", "--num-threads", "1",
            "--backend", "torch", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    [row] = json.loads(out.read_text())["e2e"]  # one model (trivial) at one rate
    assert row["model"] == "trivial" and row["rate"] == 10.0
    # 1.5 s at 10 Hz: 15 pairs sent; the node saw them and fused some of them
    assert row["sent"] == 15
    assert 0 < row["out"] <= row["sent"]
    # the node's own counters (one /diagnostics snapshot): pairs formed from what arrived, and
    # only synced pairs can be dropped while the model is busy
    assert row["rgb_in"] >= row["synced"] > 0 and row["th_in"] > 0
    assert row["dropped"] <= row["synced"]
    assert math.isfinite(row["p50"]) and math.isfinite(row["node_inference_p50"])
    assert row["processed_pct"] == 100.0 * row["out"] / row["sent"] and row["cpu_pct"] > 0
    assert "| trivial | 10 |" in printed


def test_cpu_seconds_and_the_selection_line():
    import os

    from sccosf_ros.bench.node_e2e import cpu_seconds, selection_of

    sum(i * i for i in range(200_000))  # some CPU time of our own
    assert cpu_seconds(os.getpid()) > 0
    assert math.isnan(cpu_seconds(2**22 + 7))  # no such process
    log = (
        "[INFO] [sccosf]: backend auto → openvino (x86 CPU); precision auto → bf16 (AMX)\n"
        "[INFO] [sccosf]: ready: checkpoint x, backend openvino on cpu\n"
    )
    assert selection_of(log) == "backend auto → openvino (x86 CPU); precision auto → bf16 (AMX)"
    assert selection_of("ready: backend torch on cpu") == ""


def test_the_report_gives_the_10_hz_verdict_per_backend():
    from sccosf_ros.bench.node_e2e import e2e_report

    row = {"rate": 10.0, "sent": 100, "rgb_in": 100, "th_in": 100, "synced": 100,
           "dropped": 10, "node_overhead_p50": 4.0, "node_inference_p50": 90.0}  # fmt: skip
    rows = [
        {**row, "model": "nano/torch", "selection": "backend torch (set)", "out": 20,
         "processed_pct": 20.0, "p50": 400.0, "p95": 500.0, "cpu_pct": 190.0},
        {**row, "model": "nano/auto", "selection": "backend auto → openvino (x86 CPU)",
         "out": 85, "processed_pct": 85.0, "p50": 120.0, "p95": 160.0, "cpu_pct": 150.0},
    ]  # fmt: skip
    text = e2e_report(rows)
    assert "| nano/torch | 10 | 100 | 100 | 100 | 100 | 20 | 20 | 10 | 400.0 |" in text
    assert "nano/auto: backend auto → openvino (x86 CPU)" in text
    assert "nano/torch at 10 Hz: 20 % of the offered pairs processed" in text
    assert "p50 120 ms: meets the target" in text and "p50 400 ms: misses" in text
