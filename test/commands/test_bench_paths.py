"""``sccosf bench model``, ``bench scan`` and ``bench runtime``'s precision specs end to end at
tiny sizes: the figures they write follow the flags (the timings themselves are not asserted)."""

from __future__ import annotations

import json

import pytest
import torch

from sccosf_ros.cli import main


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """The benches set torch's thread count for the process: put it back afterwards."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_bench_model_counts_what_the_flags_ask_for(tmp_path):
    out = tmp_path / "model.json"
    args = ["bench", "model", "--presets", "nano", "--latency-presets", "nano",
            "--size", "32x32", "--flops-size", "64x96", "--threads", "1", "--runs", "2",
            "--warmup", "0", "--skip-scan", "--json", str(out)]  # fmt: skip
    assert main(args) == 0
    data = json.loads(out.read_text())
    assert list(data["presets"]) == ["nano"] and "scan" not in data  # --presets, --skip-scan
    assert data["env"]["flops_size"] == [64, 96] and data["env"]["latency_size"] == [32, 32]
    nano = data["presets"]["nano"]
    # the scan at 64x96 by hand (test/model/test_bench_model.py): 844 800 + 215 040 FLOPs
    assert nano["flops"]["scan_gflop"] == pytest.approx(1_059_840 / 1e9, rel=1e-12)
    # parameters counted here, straight from the network
    from sccosf_ros.model import build_model

    with torch.device("meta"):
        total = sum(p.numel() for p in build_model("nano").parameters())
    assert nano["params_m"]["total"] == pytest.approx(total / 1e6)
    lat = nano["latency"]
    # timing-invariant: the fastest run is never slower than the median of the same runs
    assert lat["runs"] == 2 and lat["median_ms"] > 0 and lat["min_ms"] <= lat["median_ms"]


def test_bench_scan_times_the_requested_shapes_and_methods(tmp_path):
    out = tmp_path / "scan.json"
    args = ["bench", "scan", "--lengths", "16", "24", "--batch", "1", "--dim", "4",
            "--state", "2", "--repeats", "2", "--methods", "torch", "sequential",
            "--seq-prefix", "8", "--threads", "1", "--json", str(out)]  # fmt: skip
    assert main(args) == 0
    data = json.loads(out.read_text())
    assert data["meta"]["threads"] == 1 and data["meta"]["repeats"] == 2
    rows = data["rows"]
    keys = {(r["method"], r["L"], r["pass"]) for r in rows}
    assert keys == {
        (m, L, p) for m in ("torch", "sequential") for L in (16, 24) for p in ("fwd", "fwd+bwd")
    }
    for r in rows:
        assert (r["b"], r["d"], r["n"]) == (1, 4, 2) and len(r["samples_ms"]) == 2
        # timing-invariant: the fastest sample is never slower than the median of the samples
        assert r["ms"] > 0 and r["min_ms"] <= r["ms"]
        # --seq-prefix 8: the sequential reference runs 8 steps and is scaled to L
        assert r["measured_L"] == (8 if r["method"] == "sequential" else r["L"])
        if r["method"] == "torch":
            assert r["ratio"] == 1.0


@pytest.mark.slow
def test_bench_runtime_runs_a_backend_at_a_given_precision(tmp_path, nano_checkpoint):
    out = tmp_path / "runtime.json"
    args = ["bench", "runtime", "--presets", "nano", "--size", "32x32", "--runs", "1",
            "--rounds", "1", "--warmup", "0", "--threads", "1",
            "--backends", "torch,torch:bf16", "--checkpoint", str(nano_checkpoint),
            "--json", str(out)]  # fmt: skip
    assert main(args) == 0
    rows = json.loads(out.read_text())["presets"]["nano"]
    assert set(rows) == {"torch", "torch:bf16"}
    assert rows["torch"]["label_agreement"] == 1.0 and rows["torch"]["fused_max_diff"] == 0
    # bfloat16 really ran: the outputs moved a little against float32 torch, not a lot
    bf16 = rows["torch:bf16"]
    assert bf16["fused_max_diff"] > 0 or bf16["label_agreement"] < 1.0
    assert bf16["label_agreement"] > 0.9 and bf16["fused_max_diff"] <= 16
