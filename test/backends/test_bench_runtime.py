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
    verdict = next(line for line in printed.splitlines() if line.startswith("best CPU backend"))
    assert verdict.startswith("best CPU backend for nano: onnxruntime")
    assert verdict.endswith("the target (>= 3x torch eager at >= 99.9 % labels = torch fp32)")
    assert "% = torch" in verdict and json.loads(out.read_text())["verdict"] == verdict


def test_a_missing_checkpoint_is_refused_at_start(tmp_path, capsys):
    missing = tmp_path / "nonexistent.pt"
    assert sccosf_main(["bench", "runtime", "--checkpoint", str(missing)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sccosf bench runtime: error: --checkpoint")
    assert str(missing) in lines[0] and captured.out == ""


def test_a_backend_that_cannot_run_here_is_one_line(capsys):
    from sccosf_ros.backends.compiled import usable

    if usable("tensorrt"):
        pytest.skip("TensorRT runs on this machine")
    assert sccosf_main(["bench", "runtime", "--backends", "torch,tensorrt"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sccosf bench runtime: error: backend tensorrt")
    assert "needs CUDA" in lines[0] or "not installed" in lines[0]


def test_the_default_backends_leave_out_what_cannot_run_here():
    from sccosf_ros.backends.compiled import usable
    from sccosf_ros.bench.runtime import _backends

    specs = _backends(None)
    assert specs[0] == "torch" and ("tensorrt" in specs) == usable("tensorrt")


def test_profile_needs_an_openvino_backend(capsys):
    assert sccosf_main(["bench", "runtime", "--backends", "torch", "--profile"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--profile profiles OpenVINO's nodes" in lines[0]


@pytest.mark.slow
def test_profile_reports_openvino_node_types(tmp_path, backend_cache, capsys):
    pytest.importorskip("openvino")
    out = tmp_path / "runtime.json"
    args = ["bench", "runtime", "--presets", "nano", "--size", "48x64", "--runs", "2"]
    args += ["--rounds", "1", "--warmup", "1", "--threads", "1", "--backends", "openvino"]
    args += ["--cache-dir", str(backend_cache), "--profile", "--json", str(out)]
    assert sccosf_main(args) == 0
    printed = capsys.readouterr().out
    profile = json.loads(out.read_text())["presets"]["nano"]["openvino"]["profile"]
    assert profile["runs"] == 2 and profile["total_ms"] > 0
    assert {"Convolution", "Reorder"} <= set(profile["types"])
    assert "OpenVINO profile, nano openvino:" in printed and "| layout work |" in printed
    # the run's own JSON is a baseline for the next one
    assert sccosf_main([*args, "--profile-baseline", str(out)]) == 0
    assert "| node type | before ms |" in capsys.readouterr().out
