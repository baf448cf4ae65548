"""GPU check part ``parity``: values and every gradient of the selective-scan backends (torch,
triton, mamba_ssm) against the float64 reference; on CUDA also at the headline size and the
repository's scan tests under pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from sccosf_ros.bench.gpu_context import PartContext
from sccosf_ros.bench.scan_cases import make_inputs, rel_err, values_and_grads


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
    files = [
        root / "test" / "model" / "ssm" / f for f in ("test_triton_scan.py", "test_chunked.py")
    ]
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
