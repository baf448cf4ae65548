"""``sccosf bench runtime``: one RGB + thermal pair per call through ``Predictor.predict`` on
every available backend, side by side in one run: p50/p95 ms per pair, peak RSS, the speed-up
over torch eager measured in the same run, and parity with it (label agreement, fused max
difference on the benchmark frame).

Each backend is measured in its own subprocess (``python -m sccosf_ros.bench.runtime worker``),
so its peak RSS is its own and one runtime's thread pools do not disturb the next; the
backends take turns over ``--rounds`` rounds so that a change in the machine's load during the
run does not fall on one backend only. The
graphs are exported first, in this process, into the backends' cache (``--cache-dir``; an
existing entry is reused), and the workers load them with ``Predictor.from_onnx``: the
timings and RSS are inference only. ``nano`` uses the shipped checkpoint when present
(``--checkpoint``), ``tiny`` an untrained network (same cost). Timing covers the whole
``predict()``: pre-processing, network, post-processing (``timings_ms["total"]``); the
network alone is reported too.

``--profile`` adds, for each openvino backend, OpenVINO's per-node profile of the same graph
(``bench/runtime_profile.py``: time per node type, the layout work among it), taken in the last
round after the timed pairs; ``--profile-baseline`` puts an earlier run's profile beside it.

Target (issue 26; a figure, not a test): for nano at 480×640 on 2 threads, the best CPU backend
(the ``auto`` CPU path) ≥ 3× torch eager in the same run, at ≥ 99.9 % label agreement with torch
fp32; the last line of the report says whether both parts hold. On a shared machine the
figures are noisy; quote an idle machine's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from sccosf_ros.arg_types import size_hw
from sccosf_ros.backends.parity import LABEL_AGREEMENT
from sccosf_ros.bench.errors import BenchError, check_at_least_one, check_checkpoint, check_presets
from sccosf_ros.bench.tables import add_output_arguments, write_outputs
from sccosf_ros.errors import SccosfError
from sccosf_ros.percentiles import percentile
from sccosf_ros.synthetic.pairs import frame_pair
from sccosf_ros.tables import markdown_table

# Issue 26's bar for the best CPU backend: this speed-up over torch eager measured in the same
# run, at the parity bar's label agreement with torch fp32 (backends.parity, one place for both)
TARGET_SPEEDUP = 3.0
TARGET_LABELS = LABEL_AGREEMENT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--presets", default="nano,tiny", help="presets (default nano,tiny)")
    parser.add_argument("--size", type=size_hw, default=(480, 640), help="pair size HxW")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    parser.add_argument("--runs", type=int, default=10, help="timed pairs per backend")
    parser.add_argument("--warmup", type=int, default=2, help="untimed pairs per worker first")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds over the backends, --runs split among them (default 2)",
    )
    parser.add_argument(
        "--backends",
        default=None,
        help="comma-separated backend[:precision] specs, e.g. torch,openvino,openvino:bf16 "
        "(default: torch and every installed one that can run here: onnxruntime, openvino, "
        "tensorrt with CUDA; plus openvino:bf16 on CPUs with bfloat16)",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help="device for torch and onnxruntime (default cpu; openvino runs on the CPU and "
        "tensorrt on CUDA whatever this says)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint for the nano rows (default: the shipped one)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="backends' cache (default ~/.cache/...)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the openvino backends with OpenVINO's per-node counters and print "
        "the top node types by share of time (bench/runtime_profile.py)",
    )
    parser.add_argument(
        "--profile-baseline",
        type=Path,
        default=None,
        help="the --json of an earlier --profile run: its profiles beside this run's",
    )
    add_output_arguments(parser)


def _torch_predictor(
    preset: str, checkpoint: Path | None, device: str, precision: str = "fp32"
) -> Any:
    """nano: the checkpoint (shipped by default) when present; else an untrained network."""
    import torch

    from sccosf_ros.inference import Predictor
    from sccosf_ros.model import build_model
    from sccosf_ros.paths import default_checkpoint

    if preset == "nano":
        ckpt = checkpoint or default_checkpoint()
        if ckpt.is_file():
            return Predictor.from_checkpoint(ckpt, device, precision=precision)
    torch.manual_seed(0)
    return Predictor(build_model(preset), device, name=f"{preset}_untrained", precision=precision)


# --------------------------------------------------------------------------- worker
def _worker(argv: list[str]) -> int:
    """One backend, one preset: JSON on stdout; labels/fused saved for the parity columns."""
    p = argparse.ArgumentParser()
    p.add_argument("--backend", required=True)
    p.add_argument("--precision", default="fp32")
    p.add_argument("--preset", required=True)
    p.add_argument("--onnx", default=None)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--size", type=size_hw, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--warmup", type=int, required=True)
    p.add_argument("--save", required=True)
    p.add_argument("--profile", action="store_true")
    a = p.parse_args(argv)
    import torch

    from sccosf_ros.inference import Predictor

    torch.set_num_threads(a.threads)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    if a.backend == "torch":
        ckpt = Path(a.checkpoint) if a.checkpoint else None
        pred = _torch_predictor(a.preset, ckpt, a.device, a.precision)
    else:
        pred = Predictor.from_onnx(
            a.onnx, backend=a.backend, device=a.device, precision=a.precision
        )
    rgb, thermal = frame_pair(*a.size, seed=7)
    first = pred.predict(rgb, thermal)
    load_s = time.perf_counter() - t0
    for _ in range(max(0, a.warmup - 1)):
        pred.predict(rgb, thermal)
    total, model = [], []
    for _ in range(a.runs):
        t = pred.predict(rgb, thermal).timings_ms
        total.append(t["total"])
        model.append(t["model"])
    np.savez(a.save, labels=first.labels, fused=first.fused)
    out = {
        "backend": a.backend,
        "device": str(pred.device),
        "total_ms": total,
        "model_ms": model,
        "load_s": load_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mib": rss0,
    }
    if a.profile:  # after the timing: a second compiled model, with the counters on
        from sccosf_ros.bench.runtime_profile import profile_graph

        x_rgb, x_th = pred.preprocess(rgb, thermal)
        out["profile"] = profile_graph(a.onnx, x_rgb, x_th, a.threads, a.precision, a.runs)
    print("RESULT " + json.dumps(out), flush=True)
    return 0


# --------------------------------------------------------------------------- parent
def _split(spec: str) -> tuple[str, str]:
    """``backend[:precision]`` → (backend, precision); precision fp32 when not given."""
    name, _, precision = spec.partition(":")
    return name, precision or "fp32"


def _cpu_has_bf16() -> bool:
    """OpenVINO's own word on whether this CPU computes bfloat16 (AVX-512 BF16 / AMX)."""
    try:
        import openvino as ov

        return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # no OpenVINO, or a build without the property
        return False


def _backends(text: str | None) -> list[str]:
    """Backend specs ``name[:precision]`` to measure (default: every usable backend in fp32,
    plus openvino:bf16 on CPUs that compute bfloat16; one that cannot run here is skipped).
    A backend named in ``text`` must be able to run here (else a BackendError)."""
    from sccosf_ros.backends.compiled import BACKENDS, require_usable, usable

    if text is None:
        specs = [b for b in BACKENDS if usable(b)]
        if "openvino" in specs and _cpu_has_bf16():
            specs.append("openvino:bf16")
        return specs
    specs = [b.strip() for b in text.split(",") if b.strip()]
    for spec in specs:
        require_usable(_split(spec)[0])
    return specs


def _run_worker(cmd: list[str]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    for line in res.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (res.stdout + res.stderr)[-1500:]
    return {"error": f"worker exited {res.returncode}: {tail}"}


def _device(args: argparse.Namespace, spec: str) -> str:
    """``--device`` for torch/onnxruntime; OpenVINO runs on the CPU, TensorRT on CUDA."""
    return {"openvino": "cpu", "tensorrt": "auto"}.get(_split(spec)[0], args.device)


def _graphs(args: argparse.Namespace, ref: Any, backends: list[str]) -> dict[str, Path]:
    """The exported graph each non-torch backend runs (exported now, or from the cache)."""
    from sccosf_ros.backends.compiled import CompiledModel, backend_device

    graphs = {}
    for backend in dict.fromkeys(_split(spec)[0] for spec in backends):
        if backend == "torch":
            continue
        t0 = time.perf_counter()
        compiled = CompiledModel(
            backend,
            backend_device(backend, _device(args, backend)),
            ref.export_metadata(),
            model=ref.model,
            cache_dir=args.cache_dir,
            name=ref.name,
        )
        graphs[backend] = compiled.onnx_for(args.size)
        print(f"  {backend}: graph ready after {time.perf_counter() - t0:.1f} s", flush=True)
    return graphs


def _worker_cmd(
    args: argparse.Namespace,
    preset: str,
    spec: str,
    runs: int,
    save: Path,
    onnx: Path | None,
    profile: bool = False,
) -> list[str]:
    backend, precision = _split(spec)
    cmd = [sys.executable, "-m", "sccosf_ros.bench.runtime", "worker"]
    cmd += ["--backend", backend, "--precision", precision]
    cmd += ["--preset", preset, "--device", _device(args, spec)]
    cmd += ["--size", f"{args.size[0]}x{args.size[1]}", "--threads", str(args.threads)]
    cmd += ["--runs", str(runs), "--warmup", str(args.warmup), "--save", str(save)]
    if onnx is not None:
        cmd += ["--onnx", str(onnx)]
    if args.checkpoint is not None:
        cmd += ["--checkpoint", str(args.checkpoint)]
    if profile:
        cmd.append("--profile")
    return cmd


def _measure(
    args: argparse.Namespace, preset: str, backends: list[str], tmp: Path, graphs: dict[str, Path]
) -> dict[str, Any]:
    """``--rounds`` rounds, every backend once per round (a change in the machine's load
    then hits all of them alike); timings pooled over the rounds."""
    rows: dict[str, Any] = {}
    per_round = max(1, -(-args.runs // args.rounds))
    for k in range(args.rounds):
        for backend in backends:
            if "error" in rows.get(backend, {}):
                continue
            save = tmp / f"{preset}_{backend.replace(':', '_')}.npz"
            onnx = graphs.get(_split(backend)[0])
            profile = _profiled(args, backend) and k == args.rounds - 1  # once, the last round
            r = _run_worker(_worker_cmd(args, preset, backend, per_round, save, onnx, profile))
            if "error" in r:
                print(f"  {backend} failed: {r['error'][-300:]}", flush=True)
                rows[backend] = r
                continue
            row = rows.setdefault(backend, {"total": [], "model": [], "_save": str(save)})
            row["total"] += r["total_ms"]
            row["model"] += r["model_ms"]
            row["device"] = r["device"]
            row["load_s"] = row.get("load_s", r["load_s"])  # the first start
            row["peak_rss_mib"] = max(row.get("peak_rss_mib", 0.0), r["peak_rss_mib"])
            if "profile" in r:
                row["profile"] = r["profile"]
            print(
                f"  round {k + 1}/{args.rounds} {backend}: "
                f"p50 {percentile(r['total_ms'], 50):.1f} ms",
                flush=True,
            )
    for row in rows.values():
        if "error" not in row:
            total, model = row.pop("total"), row.pop("model")
            row.update(
                p50_ms=percentile(total, 50),
                p95_ms=percentile(total, 95),
                model_p50_ms=percentile(model, 50),
                runs=len(total),
            )
    return rows


def _profiled(args: argparse.Namespace, spec: str) -> bool:
    """Whether ``spec``'s worker profiles: --profile, and an openvino backend."""
    return bool(args.profile) and _split(spec)[0] == "openvino"


def _check_profile(args: argparse.Namespace, backends: list[str]) -> dict[str, Any] | None:
    """--profile needs an openvino backend; the --profile-baseline's profiles (or None)."""
    from sccosf_ros.bench.runtime_profile import load_baseline

    if args.profile_baseline is not None and not args.profile:
        raise BenchError("--profile-baseline needs --profile")
    if args.profile and not any(_profiled(args, spec) for spec in backends):
        raise BenchError(
            "--profile profiles OpenVINO's nodes: add openvino or openvino:bf16 to --backends "
            f"(got {','.join(backends)})"
        )
    return load_baseline(args.profile_baseline) if args.profile_baseline else None


def _bench_preset(args: argparse.Namespace, preset: str, backends: list[str], tmp: Path) -> dict:
    from sccosf_ros.backends.parity import pair_diff, summarize

    print(f"{preset}:", flush=True)
    ref = _torch_predictor(preset, args.checkpoint, "cpu")
    rows = _measure(args, preset, backends, tmp, _graphs(args, ref, backends))
    torch_row = rows.get("torch", {})
    base = np.load(torch_row["_save"]) if "_save" in torch_row else None
    for row in rows.values():
        if "error" in row:
            continue
        if torch_row and "p50_ms" in torch_row:
            row["speedup_vs_torch"] = torch_row["p50_ms"] / row["p50_ms"]
        if base is not None:
            got = np.load(row.pop("_save"))
            diff = pair_diff(base["labels"], got["labels"], base["fused"], got["fused"])
            row.update(diff.to_dict(), parity_ok=summarize("", [diff]).passed)
        row.pop("_save", None)
    return rows


TABLE_HEADER = ["preset", "backend", "p50 ms", "p95 ms", "network p50 ms", "vs torch"]
TABLE_HEADER += ["peak RSS MiB", "labels = torch", "fused max diff", "load s"]


def _row(preset: str, backend: str, r: dict[str, Any]) -> list[str]:
    if "error" in r:
        return [preset, backend, "failed", *[""] * (len(TABLE_HEADER) - 3)]
    la = r.get("label_agreement")
    return [
        preset,
        backend,
        f"{r['p50_ms']:.1f}",
        f"{r['p95_ms']:.1f}",
        f"{r['model_p50_ms']:.1f}",
        f"{r.get('speedup_vs_torch', float('nan')):.2f}x",
        f"{r['peak_rss_mib']:.0f}",
        "" if la is None else f"{100 * la:.3f} %",
        str(r.get("fused_max_diff", "")),
        f"{r['load_s']:.1f}",
    ]


def _markdown(results: dict[str, Any]) -> str:
    env = results["env"]
    rows = [_row(p, b, r) for p, by in results["presets"].items() for b, r in by.items()]
    return "\n".join(
        [
            f"Per pair at {env['size'][0]}x{env['size'][1]}, {env['threads']} threads, "
            f"{env['runs']} runs ({env['processor']}; shared machines are noisy)",
            "",
            *markdown_table(TABLE_HEADER, rows, left=2),
        ]
    )


def _verdict(results: dict[str, Any]) -> str | None:
    """The target line: nano's fastest CPU backend (not torch) against :data:`TARGET_SPEEDUP`
    and :data:`TARGET_LABELS`, or None when no such backend ran."""
    rows = results["presets"].get("nano")
    if not rows:
        return None
    cpu = {
        b: r
        for b, r in rows.items()
        if b.split(":")[0] != "torch" and "error" not in r and r.get("device") == "cpu"
    }
    if not cpu:
        return None
    best = min(cpu, key=lambda b: cpu[b]["p50_ms"])
    r = cpu[best]
    speedup, labels = r.get("speedup_vs_torch"), r.get("label_agreement")
    fast = speedup is not None and speedup >= TARGET_SPEEDUP
    same = labels is not None and labels >= TARGET_LABELS
    missed = [what for what, ok in (("speed-up", fast), ("labels", same)) if not ok]
    speed = "no torch eager run" if speedup is None else f"{speedup:.2f}x torch eager"
    agree = "labels not compared" if labels is None else f"labels {100 * labels:.3f} % = torch"
    judged = "meets" if not missed else f"misses ({' and '.join(missed)})"
    return (
        f"best CPU backend for nano: {best}, {r['p50_ms']:.1f} ms p50, {speed}, {agree}: "
        f"{judged} the target (>= {TARGET_SPEEDUP:g}x torch eager at >= "
        f"{100 * TARGET_LABELS:g} % labels = torch fp32)"
    )


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.backends import BackendError

    presets = [p for p in args.presets.split(",") if p]
    check_presets(presets)
    check_at_least_one(runs=args.runs, threads=args.threads, rounds=args.rounds)
    check_checkpoint(args.checkpoint)
    try:
        backends = _backends(args.backends)
    except BackendError as e:
        raise BenchError(str(e)) from None
    baseline = _check_profile(args, backends)
    import torch

    torch.set_num_threads(args.threads)
    results: dict[str, Any] = {
        "env": {
            "size": list(args.size),
            "threads": args.threads,
            "runs": args.runs,
            "rounds": args.rounds,
            "backends": backends,
            "torch": torch.__version__,
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        "presets": {},
    }
    with tempfile.TemporaryDirectory(prefix="sccosf_bench_runtime_") as tmp:
        for preset in presets:
            results["presets"][preset] = _bench_preset(args, preset, backends, Path(tmp))
    table = _markdown(results)
    if args.profile:
        from sccosf_ros.bench.runtime_profile import profile_markdown

        table += "\n\n" + profile_markdown(results, baseline)
    verdict = _verdict(results)
    print()
    print(table)
    if verdict:
        print("\n" + verdict)
        results["verdict"] = verdict
    write_outputs(args, results, table + ("\n\n" + verdict if verdict else ""))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        sys.exit(_worker(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="python -m sccosf_ros.bench.runtime")
    add_arguments(parser)
    try:
        sys.exit(run(parser.parse_args()))
    except SccosfError as e:  # as `sccosf bench runtime` reports it: one line
        print(f"{parser.prog}: error: {e.message}", file=sys.stderr)
        sys.exit(e.exit_code)
