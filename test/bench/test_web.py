"""bench/web.py: ``sccosf bench web`` counts what went through the node and its web view."""

from __future__ import annotations

import json

import pytest

from sccosf_ros.cli import main


@pytest.mark.ros
def test_web_bench_counts_are_consistent(tmp_path, capsys):
    out = tmp_path / "web.json"
    argv = ["bench", "web", "--height", "48", "--width", "64", "--duration", "1.5", "--rounds",
            "1", "--clients", "2", "--rss-seconds", "2", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    res = json.loads(out.read_text())
    assert res["env"]["size"] == [48, 64] and res["env"]["model"] == "nano"
    # one round: no clients, then 2 clients, each reading its own stream
    assert [r["clients"] for r in res["phases"]] == [0, 2]
    none, two = res["phases"]
    assert none["connected"] == 0 and none["frames_received"] == []
    assert two["connected"] == 2 and two["client_errors"] == []
    assert len(two["frames_received"]) == 2 and all(f > 0 for f in two["frames_received"])
    assert all(r["processed"] > 0 for r in res["phases"])
    assert res["pairs_sent"] >= sum(r["processed"] for r in res["phases"])
    assert set(res["summary"]) == {"clients", "pairs_per_s_no_clients",
                                   "pairs_per_s_with_clients", "ratio"}  # fmt: skip
    assert res["summary"]["clients"] == 2
    # part 2: RSS sampled from the node process beside a reading client
    st = res["stalled"]
    assert st["rss_samples"] >= 2 and st["rss_start_mib"] > 0
    assert st["rss_peak_mib"] >= max(st["rss_start_mib"], st["rss_end_mib"])
    assert st["reader_frames"] > 0 and st["processed"] > 0
    assert "1) processed-pair rate" in printed and "2) a client that stops reading" in printed


@pytest.mark.parametrize(
    "flags, said",
    [
        (["--rate", "0"], "--rate must be > 0"),
        (["--duration", "-1"], "--duration must be > 0"),
        (["--clients", "0"], "--clients must be >= 1"),
        (["--rss-seconds", "-2"], "--rss-seconds must be >= 0"),
        (["--max-fps", "nan"], "--max-fps must be > 0"),
    ],
)
def test_bad_input_is_one_error_line(flags, said, capsys):
    assert main(["bench", "web", *flags]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"sccosf bench web: error: {said}")
