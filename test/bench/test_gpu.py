"""``sccosf bench gpu`` (make gpu-check): the CPU mode end to end, part isolation, targets."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from sccosf_ros.bench import gpu, gpu_parts, gpu_scan_speed
from sccosf_ros.bench.gpu_report import evaluate_targets
from sccosf_ros.cli import main

CPU_PARTS = ("env", "kernels", "parity", "scan_speed")
CUDA_PARTS = ("train", "inference", "tensorrt", "node")


@pytest.mark.slow
def test_quick_check_runs_what_it_can_and_says_what_needs_cuda(tmp_path):
    out = tmp_path / "gpu_check"
    assert main(["bench", "gpu", "--quick", "--out", str(out), "--wheels", str(tmp_path)]) == 0
    report = json.loads((out / "report.json").read_text())
    parts = report["parts"]
    assert list(parts) == list(gpu_parts.PARTS)
    for name in CPU_PARTS:
        assert parts[name]["status"] == "ok", (name, parts[name])
    cuda = torch.cuda.is_available()
    for name in CUDA_PARTS:
        if not cuda:
            assert parts[name]["status"] == "skipped"
            assert "needs CUDA" in parts[name]["reason"]
    if cuda:
        _assert_cuda_parts_ran(parts)
    # the kernels compiled for a GPU this machine does not have, with ptxas figures
    rows = parts["kernels"]["results"]["compiled"]
    assert {r["kernel"] for r in rows} == {"fwd", "bwd"}
    assert all(r["registers"] > 0 and r["spill_stores_bytes"] is not None for r in rows)
    # parity of triton (interpreter without CUDA) and torch against float64
    ref = parts["parity"]["results"]["reference"]
    assert {r["backend"] for r in ref} >= {"torch", "triton"}
    assert parts["parity"]["results"]["all_ok"] is True
    assert parts["scan_speed"]["results"]["scan"][0]["ms"] > 0
    md = (out / "report.md").read_text()
    assert "## Targets" in md and "## kernels: ok" in md
    assert (cuda or "needs CUDA (no GPU here)" in md) and (out / "logs" / "env.log").is_file()


def _assert_cuda_parts_ran(parts: dict) -> None:
    """On a GPU machine the CUDA parts must have measured something, on the GPU."""
    for name in ("train", "inference", "node"):
        assert parts[name]["status"] == "ok", (name, parts[name])
    steps = parts["train"]["results"]["steps"]
    assert steps and all("error" not in r for r in steps), steps
    assert all(r["train_ms_median"] > 0 and r["peak_allocated_gb"] > 0 for r in steps)
    assert parts["train"]["results"]["amp"] == "bf16 autocast"
    fps = parts["inference"]["results"]["fps"]
    assert {r["precision"] for r in fps} == {"fp32", "fp16", "bf16"}
    assert all(r["fps"] > 0 for r in fps)
    # half precision agrees with fp32 on most labels (chance would be ~1/9)
    half = [r for r in fps if r["precision"] != "fp32"]
    assert all(r["label_agreement"] > 0.5 for r in half), half
    trt = parts["tensorrt"]
    assert trt["status"] == "ok" or (
        trt["status"] == "skipped" and "TensorRT does not import" in trt["reason"]
    ), trt
    demo = parts["node"]["results"]["demo_bag"][0]
    assert demo["device"].startswith("cuda") and demo["outputs"] > 0, demo
    assert demo["inference_errors"] in (0, None), demo


def test_a_part_over_its_budget_is_killed_and_the_others_still_run(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu, "GRACE_S", 0)
    monkeypatch.setitem(
        gpu_parts.PARTS,
        "scan_speed",
        dataclasses.replace(gpu_parts.PARTS["scan_speed"], budget_s=0),
    )
    out = tmp_path / "gpu_check"
    rc = main(["bench", "gpu", "--parts", "scan_speed", "env", "--out", str(out)])
    assert rc == 1  # a part that ran out of time is a failure of the check
    parts = json.loads((out / "report.json").read_text())["parts"]
    assert parts["scan_speed"]["status"] == "timeout"
    assert parts["scan_speed"]["reason"] == "over its 0 s: partial"  # killed, not waited for
    assert parts["env"]["status"] == "ok" and parts["env"]["results"]["torch"]


def test_wheels_folder_is_installed_offline_and_reported(tmp_path):
    assert gpu.install_wheels(tmp_path / "missing")["wheels"] == []
    (tmp_path / "broken-0.1-py3-none-any.whl").write_bytes(b"not a zip")
    res = gpu.install_wheels(tmp_path)
    assert res["wheels"] == ["broken-0.1-py3-none-any.whl"] and res["returncode"] != 0


def test_paper_scan_shapes_at_480x640():
    """The shapes scan_speed times: every selective-scan call of one paper forward."""
    assert gpu_scan_speed.scan_shapes("paper", 8, (480, 640)) == {
        (8, 64, 2, 16, 19200): 2,  # stage 1 Sc-LRB: S6 and Cross S6, 2 units each
        (8, 128, 2, 16, 4800): 2,
        (8, 512, 2, 16, 1200): 2,
        (8, 4096, 2, 16, 300): 2,
        (8, 128, 4, 16, 19200): 1,  # ICRM SS2D: 4 directions
        (8, 256, 4, 16, 4800): 1,
        (8, 768, 4, 16, 1200): 1,
        (8, 4096, 4, 16, 300): 2,
    }


def _parts(scan: dict | None = None, fps: list | None = None, steps: list | None = None):
    return {
        "scan_speed": {"status": "ok", "results": scan or {}},
        "tensorrt": {"status": "ok", "results": {"fps": fps or []}},
        "train": {"status": "ok", "results": {"amp": "bf16 autocast", "steps": steps or []}},
    }


def test_targets_are_judged_from_the_measurements():
    steps = [{"run": "paper", "mfnet_500_epochs_h": {"train (784)": 3.5}}]
    fps = [{"preset": "nano", "fps": 500.0}, {"preset": "paper", "fps": 42.0}]
    t = evaluate_targets(_parts({"triton_over_mamba_fwd_bwd": 1.7}, fps, steps))
    assert [x["met"] for x in t] == [True, False, True]
    assert [x["value"] for x in t] == [1.7, 42.0, 3.5]
    t = evaluate_targets({"tensorrt": {"status": "skipped", "reason": "TensorRT missing"}})
    assert [x["met"] for x in t] == [None, None, None]
    assert "TensorRT missing" in t[1]["note"] and "not run" in t[0]["note"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-TensorRT path on a CPU")
def test_tensorrt_that_cannot_run_is_a_skipped_row_with_the_reason(tmp_path):
    out = tmp_path / "tensorrt.json"
    argv = ["tensorrt", "--json", str(out), "--work", str(tmp_path), "--budget", "100"]
    assert gpu_parts.main([*argv, "--device", "cpu", "--plumbing"]) == 0
    rows = json.loads(out.read_text())["results"]["fps"]
    assert rows and all(r["skipped"] for r in rows)
    assert any(w in rows[0]["skipped"] for w in ("not installed", "needs CUDA"))
    skipped = [{"preset": "paper", "skipped": rows[0]["skipped"]}]
    t = evaluate_targets({"tensorrt": {"status": "ok", "results": {"fps": skipped}}})
    assert t[1]["met"] is None and t[1]["value"] is None  # a skipped row is no measurement
