"""GPU check part ``scan_speed``: fwd and fwd+bwd milliseconds of each selective-scan backend at
the headline shape and at the paper preset's real scan shapes, per-step totals, and a Triton
block-size sweep (on CUDA); the torch path at small shapes on the CPU."""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch

from sccosf_ros.bench.gpu_context import BATCH, SIZE, PartContext
from sccosf_ros.bench.scan import time_scan
from sccosf_ros.bench.scan_cases import timing_inputs
from sccosf_ros.percentiles import percentile


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


def time_scan_shape(
    method: str,
    shape: tuple,
    backward: bool,
    ctx: PartContext,
    blocks: tuple[int, int] | None = None,
) -> float:
    """Median ms of ``method`` at ``shape`` (b, d, g, n, L) on the part's device, fwd or
    fwd+bwd (``blocks``: Triton's (BD, BL) instead of its own choice)."""
    from sccosf_ros.model.ssm import selective_scan
    from sccosf_ros.model.ssm.triton_scan import selective_scan_triton

    b, d, g, n, length = shape
    x = timing_inputs(b, d, n, length, str(ctx.device), seed=0, groups=g)

    def fn(v: dict) -> torch.Tensor:
        if blocks is not None:
            return selective_scan_triton(
                v["u"], v["delta"], v["A"], v["B"], v["C"], v["D"], None, None, True, blocks
            )
        return selective_scan(
            v["u"], v["delta"], v["A"], v["B"], v["C"], v["D"], delta_softplus=True, backend=method
        )

    samples = time_scan(fn, x, backward, 1 if ctx.quick else 3, str(ctx.device))
    return percentile(samples, 50) * 1e3


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
                    ms = time_scan_shape(method, shape, backward, ctx)
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
                ms = time_scan_shape("triton", shape, True, ctx, blocks=blocks)
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
