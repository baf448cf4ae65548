"""The parts of ``sccosf bench gpu`` (``make gpu-check``), one function each.

Each part runs in its own process (``python -m sccosf_ros.bench.gpu_parts PART --json FILE``,
started by :mod:`sccosf_ros.bench.gpu`), so that a crash, a CUDA error or a hang in one part
cannot stop the others, and its time budget is a real timeout. A part writes its results to
its JSON file after every measurement: what it measured before a timeout is kept.

Parts (``PARTS``; ``needs_cuda`` parts are skipped without a GPU unless ``--plumbing``, which
runs them on the CPU at tiny sizes to check the code path, not to measure anything):

* ``env``         versions, GPU, which optional packages import (mamba-ssm, TensorRT, ORT).
* ``kernels``     compile the Triton scan kernels for sm_80/sm_90 (no GPU needed) and read
  ptxas's register and spill figures.
* ``parity``      values and every gradient of triton / torch / mamba_ssm against the float64
  reference (CPU: Triton's interpreter at tiny shapes); on CUDA also large-shape agreement and
  the scan test files under pytest.
* ``scan_speed``  fwd and fwd+bwd ms of each backend at b=2 d=192 n=16 L=19200 and at the
  paper preset's real scan shapes (batch 8, 480×640), per-step totals, a Triton block sweep.
* ``train``       a bf16 training step of nano and paper at batch 8, 480×640: time, peak memory,
  the 500-epoch MFNet estimate.
* ``inference``   Predictor FPS of nano / tiny / paper at 480×640 in fp32 / fp16 / bf16, with
  parity against fp32.
* ``tensorrt``    the same through ``Predictor.from_checkpoint(..., backend="tensorrt")`` in
  fp16 when TensorRT imports; a preset whose engine cannot be built is a row saying why.
* ``node``        the real node on ``device:=cuda`` over DDS: the demo bag (``sccosf demo``'s
  pieces) and 640×480 pairs at 10/30 Hz (``sccosf bench node``'s end-to-end part).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from sccosf_ros.bench.scan_cases import make_inputs, rel_err, values_and_grads
from sccosf_ros.jsonio import write_json

MFNET_TRAIN_IMAGES = {"train (784)": 784, "train+val (1176, Sigma's protocol)": 1176}
EPOCHS = 500
SIZE = (480, 640)
BATCH = 8


class PartSkipped(Exception):
    """Raised by a part that cannot run here; the message says why."""


@dataclass
class PartContext:
    """What a part gets: device, mode, budget, and where its results go."""

    name: str
    device: torch.device
    json_path: Path
    work: Path  # the part's own folder for files (logs, bags, checkpoints)
    budget_s: float
    quick: bool = False
    plumbing: bool = False
    t0: float = field(default_factory=time.monotonic)
    results: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def time_left(self) -> float:
        return self.budget_s - (time.monotonic() - self.t0)

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.save()

    def row(self, table: str, row: dict) -> None:
        """Append one measurement to ``results[table]`` and save at once."""
        self.results.setdefault(table, []).append(row)
        print(f"[{self.name}] {table}: {row}", flush=True)
        self.save()

    def save(self) -> None:
        write_json(self.json_path, {"results": self.results, "notes": self.notes})

    def enough_time(self, seconds: float, what: str) -> bool:
        """False (and a note) when less than ``seconds`` of the budget is left for ``what``."""
        if self.time_left() >= seconds:
            return True
        self.note(f"{what}: not run, out of this part's time budget")
        return False


# --------------------------------------------------------------------------------- env
def _import_status(module: str, version_attr: str = "__version__") -> dict:
    try:
        mod = __import__(module)
    except Exception as e:  # ImportError, or a broken install raising anything
        return {"available": False, "reason": f"{type(e).__name__}: {str(e)[:300]}"}
    return {"available": True, "version": str(getattr(mod, version_attr, "?"))}


def part_env(ctx: PartContext) -> None:
    from sccosf_ros.model import ssm
    from sccosf_ros.model.ssm import dispatch, triton_kernels

    r = ctx.results
    r["python"] = platform.python_version()
    r["torch"] = torch.__version__
    r["torch_cuda"] = torch.version.cuda
    r["cpu_count"] = os.cpu_count()
    r["cuda_available"] = torch.cuda.is_available()
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        r["gpu"] = {
            "name": p.name,
            "capability": f"{p.major}.{p.minor}",
            "sms": p.multi_processor_count,
            "memory_gb": round(p.total_memory / 2**30, 1),
            "count": torch.cuda.device_count(),
        }
    r["triton"] = _import_status("triton")
    r["triton"]["interpreter"] = triton_kernels.interpreted()
    try:
        dispatch.mamba_ssm_kernel()
        r["mamba_ssm"] = _import_status("mamba_ssm")
    except ImportError as e:
        r["mamba_ssm"] = {"available": False, "reason": str(e)[:400]}
    r["tensorrt"] = _import_status("tensorrt")
    r["onnxruntime"] = _import_status("onnxruntime")
    if r["onnxruntime"]["available"]:
        import onnxruntime

        r["onnxruntime"]["providers"] = onnxruntime.get_available_providers()
    r["scan_backend_auto_on_cuda"] = ssm.choose_backend(
        "auto", "cuda", mamba_ssm=r["mamba_ssm"]["available"], triton=r["triton"]["available"]
    )
    ctx.save()


# ----------------------------------------------------------------------------- kernels
_PTXAS_ARCH = {80: "sm_80", 86: "sm_86", 89: "sm_89", 90: "sm_90a"}
# Kernel arguments that are float32 whatever the input dtype (parameters, states, partials).
_FP32_ARGS = {
    "A_ptr",
    "D_ptr",
    "bias_ptr",
    "H_ptr",
    "dB_ptr",
    "dC_ptr",
    "dA_ptr",
    "dD_ptr",
    "dbias_ptr",
}


def compile_scan_kernel(
    kernel: str, arch: int, dtype: str, blocks: tuple[int, int, int], num_warps: int = 4
) -> dict:
    """Compile the Triton scan kernel ``kernel`` ("fwd" | "bwd") for ``sm_<arch>`` without a
    GPU, with inputs of ``dtype`` (fp32 | bf16 | fp16), D, z, bias and softplus on; returns
    ptxas's registers, spill bytes and the kernel's shared memory."""
    import triton
    import triton.language as tl
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from sccosf_ros.model.ssm import triton_kernels

    if triton_kernels.interpreted():
        raise RuntimeError("TRITON_INTERPRET=1 is set: the kernels are interpreted, not compiled")
    fn = {"fwd": triton_kernels.fwd_kernel, "bwd": triton_kernels.bwd_kernel}[kernel]
    BD, BN, BL = blocks
    consts: dict[str, Any] = {
        "HAS_D": True,
        "HAS_Z": True,
        "HAS_BIAS": True,
        "SOFTPLUS": True,
        "ACC": tl.float32,
        "BD": BD,
        "BN": BN,
        "BL": BL,
    }
    if kernel == "fwd":
        consts["SAVE_H"] = True
    names = fn.arg_names
    sig = {
        a: "constexpr"
        if a in consts
        else ("*fp32" if a in _FP32_ARGS else f"*{dtype}")
        if a.endswith("_ptr")
        else "i32"
        for a in names
    }
    src = ASTSource(fn, sig, constexprs={(names.index(k),): v for k, v in consts.items()})
    t0 = time.perf_counter()
    compiled = triton.compile(
        src, target=GPUTarget("cuda", arch, 32), options={"num_warps": num_warps}
    )
    seconds = time.perf_counter() - t0
    ptxas = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "ptxas"
    with tempfile.TemporaryDirectory() as tmp:
        ptx = Path(tmp) / "k.ptx"
        ptx.write_text(compiled.asm["ptx"])
        res = subprocess.run(
            [
                str(ptxas),
                f"-arch={_PTXAS_ARCH.get(arch, f'sm_{arch}')}",
                "-v",
                str(ptx),
                "-o",
                str(Path(tmp) / "k.cubin"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    info = res.stdout + res.stderr

    def grab(pattern: str) -> int | None:
        m = re.search(pattern, info)
        return int(m.group(1)) if m else None

    return {
        "registers": grab(r"Used (\d+) registers"),
        "spill_stores_bytes": grab(r"(\d+) bytes spill stores"),
        "spill_loads_bytes": grab(r"(\d+) bytes spill loads"),
        "shared_bytes": compiled.metadata.shared,
        "compile_s": round(seconds, 2),
    }


def part_kernels(ctx: PartContext) -> None:
    from sccosf_ros.model.ssm import triton_kernels, triton_scan

    if not triton_kernels.triton_available():
        raise PartSkipped("triton is not installed")
    archs = [90] if ctx.quick else [80, 90]
    if ctx.cuda:
        major, minor = torch.cuda.get_device_capability(ctx.device)
        archs = sorted({*archs, 10 * major + minor})
    dtypes = ["fp32"] if ctx.quick else ["fp32", "bf16", "fp16"]
    states = [16] if ctx.quick else [1, 4, 16]  # the presets' d_state
    combos = [(n, dt) for n in states for dt in (dtypes if n == max(states) else ["fp32"])]
    for n, dtype in combos:
        blocks = triton_scan.block_sizes(BATCH, 32, n, 19200, 2)
        for arch in archs:
            for kernel in ("fwd", "bwd"):
                if not ctx.enough_time(10, f"compile {kernel} sm_{arch} {dtype} n={n}"):
                    return
                row = {"kernel": kernel, "arch": arch, "dtype": dtype, "n": n}
                row["blocks (BD, BN, BL)"] = list(blocks)
                row.update(compile_scan_kernel(kernel, arch, dtype, blocks))
                ctx.row("compiled", row)


# ------------------------------------------------------------------------------ parity
def _scan_case(shape: tuple[int, int, int, int, int], seed: int) -> dict:
    """float64 inputs of shape (b, d, g, n, L), everything on: grouped B/C, D, z, delta_bias."""
    b, d, g, n, length = shape
    return make_inputs(b, d, n, length, groups=g, seed=seed)


_TOL = {"float64": (1e-10, 1e-9), "float32": (2e-5, 2e-4), "bfloat16": (3e-2, 6e-2)}


def _parity_row(
    name: str, backend: str, x: dict, dtype: torch.dtype, device: torch.device, ref: tuple
) -> dict:
    from sccosf_ros.model.ssm import selective_scan

    params = torch.float64 if dtype == torch.float64 else torch.float32  # A, D, delta_bias
    xd = {
        k: v.to(device, params if k in ("A", "D", "delta_bias") else dtype) for k, v in x.items()
    }
    y, g = values_and_grads(selective_scan, xd, True, backend=backend)
    y_ref, g_ref = ref
    grads = {k: rel_err(g[k], g_ref[k]) for k in g_ref}
    tol_out, tol_grad = _TOL[str(dtype).removeprefix("torch.")]
    out_err = rel_err(y, y_ref)
    return {
        "case": name,
        "backend": backend,
        "dtype": str(dtype).removeprefix("torch."),
        "output_rel_err": out_err,
        "max_grad_rel_err": max(grads.values()),
        "grad_rel_err": grads,
        "ok": out_err <= tol_out and max(grads.values()) <= tol_grad,
    }


def _parity_backends(ctx: PartContext) -> list[str]:
    from sccosf_ros.model import ssm
    from sccosf_ros.model.ssm import triton_kernels

    backends = ["torch"]
    if triton_kernels.triton_available() and (ctx.cuda or triton_kernels.interpreted()):
        backends.append("triton")
    elif not ctx.cuda:
        ctx.note("triton not checked: CPU tensors need TRITON_INTERPRET=1 (the runner sets it)")
    if ctx.cuda and ssm.mamba_ssm_available():
        backends.append("mamba_ssm")
    return backends


def part_parity(ctx: PartContext) -> None:
    from sccosf_ros.model.ssm import selective_scan_ref

    backends = _parity_backends(ctx)
    cases = [("b1 d4 g1 n3 L37", (1, 4, 1, 3, 37))]
    if not ctx.quick:
        cases += [("b2 d8 g2 n16 L1", (2, 8, 2, 16, 1)), ("b1 d8 g2 n5 L70", (1, 8, 2, 5, 70))]
    if ctx.cuda and not ctx.quick:
        cases += [("b2 d64 g2 n16 L1000", (2, 64, 2, 16, 1000))]
    dtypes = [torch.float64, torch.float32]
    if ctx.cuda:
        dtypes.append(torch.bfloat16)
    for i, (name, shape) in enumerate(cases):
        x = _scan_case(shape, seed=i)
        ref = values_and_grads(selective_scan_ref, x, True)  # float64 on the CPU
        for backend in backends:
            for dtype in dtypes:
                if backend == "mamba_ssm" and dtype == torch.float64:
                    continue  # the kernel has no float64
                if not ctx.enough_time(20, f"parity {name} {backend} {dtype}"):
                    return
                try:
                    row = _parity_row(name, backend, x, dtype, ctx.device, ref)
                except Exception as e:  # one backend/dtype failing is a result, not the end
                    row = {
                        "case": name,
                        "backend": backend,
                        "dtype": str(dtype),
                        "ok": False,
                        "error": f"{type(e).__name__}: {str(e)[:200]}",
                    }
                ctx.row("reference", row)
    if ctx.cuda:
        _large_parity(ctx, backends)
        _scan_tests_under_pytest(ctx)
    rows = ctx.results.get("reference", []) + ctx.results.get("large", [])
    ctx.results["all_ok"] = all(r["ok"] for r in rows)
    ctx.save()


def _large_parity(ctx: PartContext, backends: list[str]) -> None:
    """At the headline size the float64 loop is too slow: every backend against the torch
    path (exact to float32 rounding, test/model/ssm/test_chunked.py), fp32."""
    from sccosf_ros.model.ssm import selective_scan

    if not ctx.enough_time(40, "large-shape parity"):
        return
    x = _scan_case((2, 192, 1, 16, 19200), seed=99)
    xc = {k: v.to(ctx.device, torch.float32) for k, v in x.items()}
    ref = values_and_grads(selective_scan, xc, True, backend="torch")
    for backend in backends:
        if backend == "torch":
            continue
        y, g = values_and_grads(selective_scan, xc, True, backend=backend)
        grads = {k: rel_err(g[k], ref[1][k]) for k in g}
        out_err = rel_err(y, ref[0])
        ctx.row(
            "large",
            {
                "case": "b2 d192 g1 n16 L19200 vs torch path",
                "backend": backend,
                "dtype": "float32",
                "output_rel_err": out_err,
                "max_grad_rel_err": max(grads.values()),
                "grad_rel_err": grads,
                "ok": out_err <= 1e-4 and max(grads.values()) <= 1e-3,
            },
        )


def _scan_tests_under_pytest(ctx: PartContext) -> None:
    """The repository's scan tests (their CUDA cases) on this GPU, when test/ is here."""
    root = Path(__file__).resolve().parents[2]
    tests = root / "test" / "model" / "ssm"
    files = [tests / f for f in ("test_triton_scan.py", "test_chunked.py")]
    if not all(f.is_file() for f in files):
        ctx.note("scan tests not run: no test/ folder next to the package (not a checkout)")
        return
    if not ctx.enough_time(30, "scan tests under pytest"):
        return
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, files)]
    try:
        res = subprocess.run(
            cmd, cwd=root, env=env, capture_output=True, text=True, timeout=ctx.time_left() - 5
        )
        tail = (res.stdout + res.stderr).strip().splitlines()[-15:]
        ctx.results["pytest"] = {"returncode": res.returncode, "tail": tail}
    except subprocess.TimeoutExpired:
        ctx.results["pytest"] = {"returncode": None, "tail": ["timed out"]}
    ctx.save()


# -------------------------------------------------------------------------- scan speed
def scan_shapes(preset: str, batch: int, size: tuple[int, int]) -> Counter:
    """The selective-scan calls of one forward of ``preset``: Counter of (b, d, g, n, L)."""
    from sccosf_ros.model import build_model
    from sccosf_ros.model.s6 import S6

    with torch.device("meta"):
        model = build_model(preset)
    calls: Counter = Counter()

    def hook(mod: S6, args: tuple, _out: Any) -> None:
        bsz, k, d, length = args[0].shape  # (B,k,d,L): k units folded into groups
        calls[(bsz, k * d, k, mod.d_state, length)] += 1

    for m in model.modules():
        if isinstance(m, S6):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(
            torch.zeros(batch, 3, *size, device="meta"),
            torch.zeros(batch, 1, *size, device="meta"),
        )
    return calls


def _scan_methods(ctx: PartContext) -> list[str]:
    from sccosf_ros.model import ssm

    methods = ["torch"]
    if ctx.cuda:
        if ssm.triton_available():
            methods.append("triton")
        if ssm.mamba_ssm_available():
            methods.append("mamba_ssm")
        else:
            ctx.note("mamba_ssm not timed: the package does not import (see env)")
    else:
        ctx.note("triton and mamba_ssm not timed: they need CUDA (torch path only)")
    return methods


def _time_scan(
    method: str,
    shape: tuple,
    backward: bool,
    ctx: PartContext,
    blocks: tuple[int, int] | None = None,
) -> float:
    from sccosf_ros.bench.scan import _inputs, _time
    from sccosf_ros.model.ssm import selective_scan
    from sccosf_ros.model.ssm.triton_scan import selective_scan_triton

    b, d, g, n, length = shape
    x = _inputs(b, d, n, length, str(ctx.device), seed=0, groups=g)

    def fn(v: dict) -> torch.Tensor:
        if blocks is not None:
            return selective_scan_triton(
                v["u"], v["delta"], v["A"], v["B"], v["C"], v["D"], None, None, True, blocks
            )
        return selective_scan(
            v["u"], v["delta"], v["A"], v["B"], v["C"], v["D"], delta_softplus=True, backend=method
        )

    samples = _time(fn, x, backward, 1 if ctx.quick else 3, str(ctx.device))
    return statistics.median(samples) * 1e3


def part_scan_speed(ctx: PartContext) -> None:
    methods = _scan_methods(ctx)
    if ctx.cuda and not ctx.plumbing:
        shapes = [("headline", (2, 192, 1, 16, 19200), 1)]
        calls = scan_shapes("paper", BATCH, SIZE)
        shapes += [("paper 480x640 b8", s, c) for s, c in calls.items()]
    else:  # torch path at small shapes
        shapes = [("small", (1, 32, 2, 16, 2048 if ctx.quick else 4096), 1)]
    for label, shape, count in shapes:
        for backward in (False, True):
            for method in methods:
                what = f"{method} {shape} {'fwd+bwd' if backward else 'fwd'}"
                if not ctx.enough_time(15, what):
                    break
                try:
                    ms = _time_scan(method, shape, backward, ctx)
                except Exception as e:  # OOM or a kernel error: recorded, the next one runs
                    ms = None
                    ctx.note(f"{what}: {type(e).__name__}: {str(e)[:160]}")
                    if ctx.cuda:
                        torch.cuda.empty_cache()
                b, d, g, n, length = shape
                ctx.row(
                    "scan",
                    {
                        "shapes": label,
                        "b": b,
                        "d": d,
                        "g": g,
                        "n": n,
                        "L": length,
                        "calls_per_forward": count,
                        "pass": "fwd+bwd" if backward else "fwd",
                        "method": method,
                        "ms": ms,
                    },
                )
    _per_step_totals(ctx, methods)
    if ctx.cuda and "triton" in methods and not ctx.plumbing:
        _triton_block_sweep(ctx)


def _per_step_totals(ctx: PartContext, methods: list[str]) -> None:
    """Σ calls × ms over the paper preset's scans: scan time per training step / forward."""
    rows = [r for r in ctx.results.get("scan", []) if r["shapes"].startswith("paper")]
    totals: dict[str, dict[str, float | None]] = {}
    for method in methods:
        for p in ("fwd", "fwd+bwd"):
            mine = [r for r in rows if r["method"] == method and r["pass"] == p]
            complete = len(mine) == len({(r["d"], r["g"], r["L"]) for r in rows})
            ok = mine and complete and all(r["ms"] is not None for r in mine)
            total = sum(r["ms"] * r["calls_per_forward"] for r in mine) if ok else None
            totals.setdefault(method, {})[p] = total
    if rows:
        ctx.results["paper_scan_ms_per_step"] = totals
        tri, mam = totals.get("triton", {}), totals.get("mamba_ssm", {})
        if tri.get("fwd+bwd") and mam.get("fwd+bwd"):
            ctx.results["triton_over_mamba_fwd_bwd"] = tri["fwd+bwd"] / mam["fwd+bwd"]
        ctx.save()


def _triton_block_sweep(ctx: PartContext) -> None:
    """fwd+bwd ms of a few (BD, BL) choices next to block_sizes()' own, to retune it."""
    from sccosf_ros.model.ssm.triton_scan import block_sizes

    sms = torch.cuda.get_device_properties(ctx.device).multi_processor_count
    for shape in ((2, 192, 1, 16, 19200), (BATCH, 64, 2, 16, 19200), (BATCH, 4096, 2, 16, 300)):
        b, d, g, n, length = shape
        BD, _, BL = block_sizes(b, d // g, n, length, g, sms)
        others = [(1, 32), (1, 64), (1, 128), (2, 32), (2, 64), (4, 32)]
        for blocks in [(BD, BL), *(c for c in others if c != (BD, BL))]:
            if not ctx.enough_time(10, f"triton block sweep {shape} {blocks}"):
                return
            try:
                ms = _time_scan("triton", shape, True, ctx, blocks=blocks)
            except Exception as e:  # a config that does not compile or fit is a result too
                ms = None
                ctx.note(f"block sweep {shape} {blocks}: {type(e).__name__}: {str(e)[:120]}")
            ctx.row(
                "triton_blocks",
                {
                    "shape (b,d,g,n,L)": list(shape),
                    "BD": blocks[0],
                    "BL": blocks[1],
                    "default": blocks == (BD, BL),
                    "fwd+bwd ms": ms,
                },
            )


# ------------------------------------------------------------------------------- train
def part_train(ctx: PartContext) -> None:
    from sccosf_ros.bench.train import measure
    from sccosf_ros.model.ssm import resolve_backend

    if ctx.plumbing or ctx.quick:
        runs, crop, batch, iters, warmup = [("nano", {})], (64, 96), 1, 1, 0
    else:
        runs, crop, batch, iters, warmup = [("nano", {}), ("paper", {})], SIZE, BATCH, 5, 2
        runs.append(("paper", {"scan_backend": "torch"}))  # the fallback, for comparison
    ctx.results["scan_backend_auto"] = resolve_backend("auto", ctx.device.type)
    ctx.results["amp"] = "bf16 autocast" if ctx.cuda else "none (CPU: float32)"
    for preset, overrides in runs:
        label = preset + (f" scan_backend={overrides['scan_backend']}" if overrides else "")
        if not ctx.enough_time(30, f"train step {label}"):
            return
        n_iter, n_warm = (2, 1) if overrides else (iters, warmup)
        if ctx.cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(ctx.device)
        try:
            r = measure(preset, crop, batch, n_iter, n_warm, 9, ctx.device, **overrides)
        except torch.cuda.OutOfMemoryError as e:
            ctx.row("steps", {"run": label, "error": f"out of GPU memory: {str(e)[:200]}"})
            continue
        r["run"] = label
        if ctx.cuda:
            r["peak_allocated_gb"] = torch.cuda.max_memory_allocated(ctx.device) / 2**30
            r["peak_reserved_gb"] = torch.cuda.max_memory_reserved(ctx.device) / 2**30
        steps = {k: math.ceil(v / batch) * EPOCHS for k, v in MFNET_TRAIN_IMAGES.items()}
        r["mfnet_500_epochs_h"] = {k: s * r["train_ms_median"] / 3.6e6 for k, s in steps.items()}
        ctx.row("steps", r)


# --------------------------------------------------------------------------- inference
def _frame(size: tuple[int, int]) -> tuple[Any, Any]:
    from sccosf_ros.synthetic import render_scene

    scene = render_scene(0, height=size[0], width=size[1])
    return scene.rgb, scene.thermal8


def _agreement(ref: Any, other: Any) -> dict:
    """Label agreement and fused difference of ``other``'s outputs against ``ref``'s."""
    from sccosf_ros.backends.parity import pair_diff

    return pair_diff(ref.labels, other.labels, ref.fused, other.fused).to_dict()


def _fps_row(pred: Any, frame: tuple, frames: int, warmup: int) -> tuple[dict, Any]:
    for _ in range(warmup):
        last = pred.predict(*frame)
    totals, models = [], []
    for _ in range(frames):
        last = pred.predict(*frame)
        totals.append(last.timings_ms["total"])
        models.append(last.timings_ms["model"])
    p50 = statistics.median(totals)
    row = {
        "total_ms_p50": p50,
        "model_ms_p50": statistics.median(models),
        "fps": 1e3 / p50,
        "model_fps": 1e3 / statistics.median(models),
    }
    return row, last


def _inference_setup(ctx: PartContext) -> tuple[list[str], tuple[int, int], int, int]:
    if ctx.plumbing or ctx.quick:
        return ["nano"], (96, 128), 2, 1
    return ["nano", "tiny", "paper"], SIZE, 30, 5


def _predictor_model(preset: str) -> tuple[Any, dict]:
    """The network and Predictor keywords: the shipped checkpoint for nano, else untrained."""
    from sccosf_ros.inference import load_checkpoint, model_from_checkpoint
    from sccosf_ros.model import build_model
    from sccosf_ros.paths import default_checkpoint

    if preset == "nano" and default_checkpoint().is_file():
        ckpt = load_checkpoint(default_checkpoint())
        kw = {
            "class_names": ckpt["class_names"],
            "palette": ckpt["palette"],
            "thermal_norm": ckpt.get("thermal_norm"),
        }
        return model_from_checkpoint(ckpt), kw
    torch.manual_seed(0)
    return build_model(preset), {}


def part_inference(ctx: PartContext) -> None:
    from sccosf_ros.inference import Predictor
    from sccosf_ros.model.ssm import resolve_backend

    presets, size, frames, warmup = _inference_setup(ctx)
    frame = _frame(size)
    ctx.results["size"] = list(size)
    ctx.results["scan_backend_auto"] = resolve_backend("auto", ctx.device.type)
    for preset in presets:
        if not ctx.enough_time(20, f"inference {preset}"):
            return
        model, kw = _predictor_model(preset)
        ref = None
        for precision in ("fp32", "fp16", "bf16"):
            pred = Predictor(model, ctx.device, precision=precision, **kw)
            row, last = _fps_row(pred, frame, frames, warmup)
            row = {"preset": preset, "precision": precision, "weights": _weights(preset), **row}
            if ref is None:
                ref = last
            else:
                row.update(_agreement(ref, last))
            ctx.row("fps", row)
        del model
        if ctx.cuda:
            torch.cuda.empty_cache()


def _weights(preset: str) -> str:
    from sccosf_ros.paths import default_checkpoint

    return (
        "shipped checkpoint"
        if preset == "nano" and default_checkpoint().is_file()
        else ("untrained (seed 0)")
    )


def part_tensorrt(ctx: PartContext) -> None:
    from sccosf_ros.backends import BackendError
    from sccosf_ros.inference import Predictor, save_checkpoint
    from sccosf_ros.paths import default_checkpoint

    status = _import_status("tensorrt")
    if not status["available"] and not ctx.plumbing:
        raise PartSkipped(f"TensorRT does not import ({status['reason']})")
    presets, size, frames, warmup = _inference_setup(ctx)
    frame = _frame(size)
    for preset in sorted(presets, key=lambda p: p != "paper"):  # paper first: the target
        if not ctx.enough_time(60, f"TensorRT {preset}"):
            return
        model, kw = _predictor_model(preset)
        path = default_checkpoint() if preset == "nano" and kw else ctx.work / f"{preset}.pt"
        if not kw:
            save_checkpoint(path, model, half=True)
        try:  # the engine is built on the first frame
            pred = Predictor.from_checkpoint(
                path, str(ctx.device), backend="tensorrt", precision="fp16"
            )
            row, last = _fps_row(pred, frame, frames, warmup)
        except BackendError as e:  # TensorRT missing, no CUDA, an engine that does not build
            ctx.row("fps", {"preset": preset, "skipped": " ".join(str(e).split())[:300]})
            continue
        torch_ref = Predictor(model, ctx.device, **kw).predict(*frame)
        row = {"preset": preset, "weights": _weights(preset), "precision": "fp16", **row}
        row.update(_agreement(torch_ref, last))
        ctx.row("fps", row)


# -------------------------------------------------------------------------------- node
def part_node(ctx: PartContext) -> None:
    from sccosf_ros.bag.demo import DemoConfig, run_demo
    from sccosf_ros.paths import default_checkpoint
    from sccosf_ros.ros.dds import isolate_ros_domain

    # The demo's and the bench's participants and the node take the large-image DDS profile
    # themselves (ros.dds).
    ctx.results["ros"] = isolate_ros_domain()
    duration = 4.0 if ctx.plumbing or ctx.quick else 10.0
    cfg = DemoConfig(
        out=ctx.work / "demo",
        device=str(ctx.device),
        duration=duration,
        run_bag_eval=False,
        progress=False,
    )
    with contextlib.redirect_stdout(sys.stderr):
        m = run_demo(cfg)
    nc, lat = m["node_counters"], m["latency_ms"]
    seg = sum(v for k, v in m["outputs"].items() if k.endswith("/segmentation"))
    ctx.row(
        "demo_bag",
        {
            "device": str(ctx.device),
            "bag_seconds": duration,
            "possible_pairs": m["possible_pairs"],
            "outputs": seg,
            "output_rate_hz": seg / duration,
            "output_ratio": m["output_ratio"],
            "dropped_busy": nc.get("dropped_busy"),
            "inference_errors": nc.get("inference_errors"),
            **{f"{k}_ms": v for k, v in lat.items()},
            "miou": m["miou"],
            "contact_sheet": m.get("contact_sheet"),
        },
    )
    if not ctx.enough_time(40, "end-to-end 640x480 at 10/30 Hz"):
        return
    _node_e2e(ctx, default_checkpoint())


def _count(value: Any) -> int | None:
    """A /diagnostics counter (a string there) as an int."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _node_e2e(ctx: PartContext, ckpt: Path) -> None:
    from sccosf_ros.bench import node as bench_node

    parser = argparse.ArgumentParser()
    bench_node.add_arguments(parser)
    rates = ["10"] if ctx.plumbing or ctx.quick else ["10", "30"]
    args = parser.parse_args(["--rates", *rates, "--duration", "3" if ctx.plumbing else "5"])
    # the node's device parameter stays auto: cuda on a GPU machine, cpu in plumbing runs
    for row in bench_node.bench_e2e(args, ckpt, "nano", ctx.work):
        ctx.row("e2e_640x480", {"device": str(ctx.device), **row})


# ------------------------------------------------------------------------------- table
@dataclass(frozen=True)
class Part:
    fn: Callable[[PartContext], None]
    needs_cuda: bool
    budget_s: int  # seconds on an H100-class GPU; the runner adds a start-up grace
    what: str


PARTS: dict[str, Part] = {
    "env": Part(part_env, False, 20, "versions, GPU, optional packages"),
    "kernels": Part(part_kernels, False, 40, "Triton kernels compiled for sm_80/sm_90: ptxas"),
    "parity": Part(part_parity, False, 120, "scan values and gradients vs float64 reference"),
    "scan_speed": Part(part_scan_speed, False, 100, "scan fwd / fwd+bwd ms per backend"),
    "train": Part(part_train, True, 90, "bf16 training step, nano and paper, b8 480x640"),
    "inference": Part(part_inference, True, 60, "Predictor FPS fp32/fp16/bf16, 480x640"),
    "tensorrt": Part(part_tensorrt, True, 80, "Predictor FPS through backend='tensorrt'"),
    "node": Part(part_node, True, 70, "sccosf_node on device:=cuda over DDS"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sccosf_ros.bench.gpu_parts")
    parser.add_argument("part", choices=list(PARTS))
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--plumbing", action="store_true")
    a = parser.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    ctx = PartContext(
        a.part, torch.device(a.device), a.json, a.work, a.budget, a.quick, a.plumbing
    )
    ctx.save()
    try:
        PARTS[a.part].fn(ctx)
    except PartSkipped as e:
        ctx.results["skipped"] = str(e)
        ctx.save()
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
