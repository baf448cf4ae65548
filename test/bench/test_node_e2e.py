"""bench/node_e2e.py: the end-to-end part of ``sccosf bench node`` measures what it says."""

from __future__ import annotations

import json
import math

import pytest

from sccosf_ros.cli import main


@pytest.mark.ros
def test_end_to_end_rows_count_what_went_through_the_node(tmp_path, capsys):
    out = tmp_path / "node.json"
    argv = ["bench", "node", "--height", "48", "--width", "64", "--pairs", "3",
            "--rates", "10", "--duration", "1.5", "--skip-model-e2e", "--num-threads", "1",
            "--json", str(out)]  # fmt: skip
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
    assert "| trivial | 10 |" in printed
