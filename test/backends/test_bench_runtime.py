"""``sccosf bench runtime`` runs every backend in its own worker and prints/writes its table."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from sccosf_ros.cli import main as sccosf_main


@pytest.mark.slow
def test_bench_runtime_table_and_json(tmp_path, backend_cache, capsys):
    out, md = tmp_path / "runtime.json", tmp_path / "runtime.md"
    code = sccosf_main(
        [
            "bench",
            "runtime",
            "--presets",
            "nano",
            "--size",
            "48x64",
            "--runs",
            "2",
            "--rounds",
            "2",
            "--warmup",
            "1",
            "--threads",
            "1",
            "--backends",
            "torch,onnxruntime",
            "--cache-dir",
            str(backend_cache),
            "--json",
            str(out),
            "--markdown",
            str(md),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    rows = json.loads(out.read_text())["presets"]["nano"]
    assert set(rows) == {"torch", "onnxruntime"}
    for r in rows.values():
        assert r["runs"] == 2 and r["p50_ms"] > 0 and r["peak_rss_mib"] > 0
    assert rows["torch"]["speedup_vs_torch"] == 1.0
    assert rows["onnxruntime"]["label_agreement"] >= 0.999
    assert rows["onnxruntime"]["fused_max_diff"] <= 2
    assert "| nano | onnxruntime |" in printed and md.read_text().startswith("Per pair at 48x64")
    assert "best CPU backend for nano: onnxruntime" in printed
