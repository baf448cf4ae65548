"""``sccosf bench gpu`` (``make gpu-check``): the whole GPU check in one command, one report.

Runs the parts of :mod:`sccosf_ros.bench.gpu_parts` (one module per part group, ``gpu_*.py``)
one after the other, each in its own process with its own time budget (a failing, crashing or
hanging part is recorded and the next one runs), and writes ``outputs/gpu_check/report.json``
and ``report.md`` (plus one log per part in ``logs/`` and the parts' files in ``<part>/``).
Budgets add up to under 10 minutes on an H100-class GPU.

Without CUDA it runs what needs no GPU — versions, the Triton kernels compiled for sm_80/sm_90
with ptxas's register/spill report, scan parity in Triton's interpreter, torch-path timing at
small shapes — and lists the CUDA-only parts as skipped with the reason. ``--plumbing`` runs
those on the CPU at tiny sizes instead (checks the code path; not figures for a GPU).

Optional packages: a GPU machine without internet installs nothing by itself. Put prebuilt
wheels (mamba-ssm and its deps, TensorRT) in a folder, ``.whl/`` by default, and they are
installed first with ``pip install --no-index --no-deps``; absent ones are reported as such.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sccosf_ros.bench.gpu_context import SKIPPED_RC
from sccosf_ros.jsonio import write_json

DEFAULT_OUT = Path("outputs/gpu_check")
GRACE_S = 30  # per part, on top of its budget: process start-up and imports


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.bench.gpu_parts import PARTS

    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder")
    parser.add_argument(
        "--parts", nargs="+", choices=list(PARTS), default=list(PARTS), help="parts to run"
    )
    parser.add_argument("--skip", nargs="+", choices=list(PARTS), default=[], help="leave out")
    parser.add_argument("--quick", action="store_true", help="smallest version of each part")
    parser.add_argument(
        "--plumbing",
        action="store_true",
        help="without CUDA, run the CUDA parts on the CPU at tiny sizes (code-path check)",
    )
    parser.add_argument(
        "--wheels",
        type=Path,
        default=Path(".whl"),
        help="folder of prebuilt wheels to install first (mamba-ssm, TensorRT; default .whl)",
    )
    parser.add_argument(
        "--budget-scale", type=float, default=1.0, help="multiply every part's time budget"
    )


def install_wheels(folder: Path) -> dict:
    """``pip install --no-index --no-deps`` every wheel in ``folder`` (the machine may be
    offline: no index, no dependency resolution); what happened, for the report."""
    wheels = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if not wheels:
        return {
            "folder": str(folder),
            "wheels": [],
            "note": f"no wheels in {folder}: optional packages (mamba-ssm, TensorRT) are "
            "whatever this environment already has",
        }
    cmd = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", *map(str, wheels)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return {
        "folder": str(folder),
        "wheels": [w.name for w in wheels],
        "returncode": res.returncode,
        "tail": (res.stdout + res.stderr).strip().splitlines()[-10:],
    }


def _part_env(name: str, device: str) -> dict[str, str]:
    """The part's environment: Triton's interpreter only for CPU parity (it must be chosen
    before triton is imported, hence a process per part); compiled kernels everywhere else."""
    env = dict(os.environ)
    env.pop("TRITON_INTERPRET", None)
    if name == "parity" and device == "cpu":
        env["TRITON_INTERPRET"] = "1"
    return env


def _run_process(cmd: list[str], env: dict, log: Path, timeout: float) -> int | None:
    """Run ``cmd`` in its own process group with output to ``log``; None on timeout (the
    whole group, node subprocesses included, is killed)."""
    with log.open("w") as f:
        proc = subprocess.Popen(
            cmd, stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None


def run_part(name: str, device: str, args: argparse.Namespace, cuda: bool) -> dict:
    """One part in its own process; its status, time, results and notes."""
    from sccosf_ros.bench.gpu_parts import PARTS

    part = PARTS[name]
    entry: dict[str, Any] = {"what": part.what, "needs_cuda": part.needs_cuda}
    if part.needs_cuda and not cuda and not args.plumbing:
        entry.update(
            status="skipped",
            reason="needs CUDA (no GPU here)",
        )
        return entry
    budget = part.budget_s * args.budget_scale
    out = Path(args.out)
    json_path, log = out / "parts" / f"{name}.json", out / "logs" / f"{name}.log"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    json_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "sccosf_ros.bench.gpu_parts", name, "--json", str(json_path)]
    cmd += ["--work", str(out / name), "--budget", str(budget), "--device", device]
    cmd += ["--quick"] * args.quick + ["--plumbing"] * (args.plumbing and not cuda)
    t0 = time.monotonic()
    rc = _run_process(cmd, _part_env(name, device), log, budget + GRACE_S)
    entry.update(seconds=round(time.monotonic() - t0, 1), budget_s=budget, log=str(log))
    data = _read_json(json_path)
    entry.update(results=data.get("results", {}), notes=data.get("notes", []))
    if rc is None:
        entry.update(status="timeout", reason=f"over its {budget + GRACE_S:.0f} s: partial")
    elif rc == SKIPPED_RC:
        entry.update(status="skipped", reason=entry["results"].pop("skipped", "cannot run"))
    elif rc != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-12:]
        entry.update(status="failed", reason=f"exit code {rc}", error=tail)
    else:
        entry["status"] = "ok"
    return entry


def _read_json(path: Path) -> dict:
    import json

    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _meta(cuda: bool, args: argparse.Namespace) -> dict:
    import torch

    gpu = torch.cuda.get_device_name(0) if cuda else None
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "host": platform.node(),
        "mode": "cuda" if cuda else ("cpu plumbing" if args.plumbing else "cpu (no GPU)"),
        "gpu": gpu,
        "torch": torch.__version__,
        "quick": bool(args.quick),
        "command": " ".join(["sccosf bench gpu", *sys.argv[3:]]),
    }


def run(args: argparse.Namespace) -> int:
    import torch

    from sccosf_ros.bench.gpu_report import evaluate_targets, markdown

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in args.parts if n not in args.skip]
    report: dict[str, Any] = {"meta": _meta(cuda, args), "install": install_wheels(args.wheels)}
    report["parts"] = {}
    print(f"sccosf bench gpu: {report['meta']['mode']}, {len(names)} parts -> {out}", flush=True)
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name} ...", end=" ", flush=True)
        entry = run_part(name, device, args, cuda)
        report["parts"][name] = entry
        took = f" {entry['seconds']:.0f} s" if "seconds" in entry else ""
        why = f" ({entry['reason']})" if entry.get("reason") else ""
        print(f"{entry['status']}{took}{why}", flush=True)
        report["targets"] = evaluate_targets(report["parts"])
        write_json(out / "report.json", report)  # after every part: a killed run keeps these
        (out / "report.md").write_text(markdown(report))
    print(f"wrote {out / 'report.md'} and {out / 'report.json'}")
    bad = [n for n, e in report["parts"].items() if e["status"] in ("failed", "timeout")]
    if bad:
        print(f"parts that failed or ran out of time: {', '.join(bad)} (see {out / 'logs'})")
    return 1 if bad else 0
