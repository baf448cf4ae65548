"""``sccosf bench scan``: the selective scan, our PyTorch path against the alternatives.

Times the forward pass and forward+backward of one mamba-style selective scan
(``selective_scan(u, delta, A, B, C, D, delta_softplus=True)``, default b=2, d=192, n=16,
L ∈ {4096, 19200}: stage 1 of a 480×640 input) with

* ``torch``     — our chunked PyTorch path with its hand-written backward (``ssm/chunked.py``);
* ``mambapy``   — the ``mambapy`` package's Blelloch ``pscan`` through autograd, used the
  way mambapy's ``selective_scan`` uses it (states (b, L, d, n), L padded to a power of 2);
* ``sequential``— ``selective_scan_ref``, a Python loop over L through autograd; for long L
  it is timed on a prefix and extrapolated linearly (its cost per step is constant), which
  the table marks with ``*``;
* ``triton``    — our Triton kernels (``model/ssm/triton_*.py``), only with ``--device cuda``;
* ``mamba_ssm`` — mamba-ssm's CUDA kernel, only with ``--device cuda`` and the package.

Each figure is the median of ``--repeats`` timed calls after one warm-up call (calls that
take over 2 s count their first call as a sample instead of warming up); the JSON also has
the minimum and every sample, which tell more on a busy machine. Ratios are
``other / torch`` (medians) in the same run, so ">1×" means our path is faster.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from sccosf_ros.bench.errors import BenchError
from sccosf_ros.bench.scan_cases import leaves, timing_inputs
from sccosf_ros.bench.tables import write_json
from sccosf_ros.bench.timing import repeat, sync
from sccosf_ros.model.ssm import (
    mamba_ssm_available,
    selective_scan,
    selective_scan_ref,
    triton_available,
)
from sccosf_ros.percentiles import percentile
from sccosf_ros.tables import text_table

METHODS = ("torch", "mambapy", "sequential", "triton", "mamba_ssm")
DEFAULT_SIZES = ((2, 192, 16, 4096), (2, 192, 16, 19200))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lengths",
        type=int,
        nargs="+",
        default=[4096, 19200],
        help="sequence lengths L (default: 4096 19200)",
    )
    parser.add_argument("--batch", type=int, default=2, help="batch b (default 2)")
    parser.add_argument("--dim", type=int, default=192, help="channels d (default 192)")
    parser.add_argument("--state", type=int, default=16, help="state size n (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per figure (median)")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        help="what to time (default: all; triton and mamba_ssm only run on CUDA)",
    )
    parser.add_argument(
        "--seq-prefix",
        type=int,
        default=512,
        help="time the sequential reference on at most this many steps and "
        "extrapolate linearly (default 512; 0 = full length)",
    )
    parser.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")


def _run_ours(x: dict, backend: str) -> torch.Tensor:
    return selective_scan(
        x["u"], x["delta"], x["A"], x["B"], x["C"], x["D"], delta_softplus=True, backend=backend
    )


def _run_sequential(x: dict) -> torch.Tensor:
    return selective_scan_ref(
        x["u"], x["delta"], x["A"], x["B"], x["C"], x["D"], delta_softplus=True
    )


def _mambapy_pscan() -> Callable | None:
    try:
        from mambapy.pscan import pscan
    except ImportError:
        return None
    return pscan


def _run_mambapy(x: dict, pscan: Callable) -> torch.Tensor:
    """mambapy's selective scan: (b, L, d) activations, pscan over (b, L, d, n) states."""
    u, delta = x["u"].transpose(1, 2), F.softplus(x["delta"]).transpose(1, 2)  # (b,L,d)
    B, C = x["B"].transpose(1, 2), x["C"].transpose(1, 2)  # (b,L,n)
    dA = torch.exp(delta.unsqueeze(-1) * x["A"])  # (b,L,d,n)
    BX = delta.unsqueeze(-1) * B.unsqueeze(2) * u.unsqueeze(-1)  # (b,L,d,n)
    hs = pscan(dA, BX)
    y = (hs @ C.unsqueeze(-1)).squeeze(3) + x["D"] * u  # (b,L,d)
    return y.transpose(1, 2)


def time_scan(
    fn: Callable[[dict], torch.Tensor], x: dict, backward: bool, repeats: int, device: str
) -> list[float]:
    """Seconds of each of ``repeats`` timed calls of ``fn`` on fresh leaf copies of ``x`` (plus
    the backward of sum(y) when ``backward``), after one warm-up call; a warm-up call over 2 s
    counts as a sample instead."""

    def once() -> float:
        inputs = leaves(x, backward)
        sync(device)
        t0 = time.perf_counter()
        if backward:
            fn(inputs).sum().backward()
        else:
            with torch.no_grad():
                fn(inputs)
        sync(device)
        return time.perf_counter() - t0

    return repeat(once, repeats, warmup=1, slow_warmup_s=2.0)


def _options_from_argv(argv: Sequence[str]) -> dict:
    """``sccosf bench scan`` options → bench_scan keywords."""
    parser = argparse.ArgumentParser(prog="sccosf bench scan")
    add_arguments(parser)
    a = parser.parse_args(list(argv))
    return {
        "sizes": [(a.batch, a.dim, a.state, L) for L in a.lengths],
        "methods": a.methods,
        "threads": a.threads,
        "repeats": a.repeats,
        "seq_prefix": a.seq_prefix,
        "device": a.device,
        "seed": a.seed,
    }


def _runners(methods: Sequence[str], device: str) -> tuple[dict[str, Callable], list[str]]:
    """The scan function of each method that can run here, and notes on those that cannot."""
    runners: dict[str, Callable] = {}
    notes: list[str] = []
    if "torch" in methods:
        runners["torch"] = lambda v: _run_ours(v, "torch")
    if "mambapy" in methods:
        pscan = _mambapy_pscan()
        if pscan is None:
            notes.append(
                "mambapy is not installed: its pscan column is empty (pip install mambapy)"
            )
        else:
            runners["mambapy"] = lambda v: _run_mambapy(v, pscan)
    if "sequential" in methods:
        runners["sequential"] = _run_sequential
    if "triton" in methods:
        if device.startswith("cuda") and triton_available():
            runners["triton"] = lambda v: _run_ours(v, "triton")
        else:
            notes.append(
                "triton kernel not timed (needs --device cuda; on CPU it runs only in "
                "Triton's interpreter, which is for correctness, not speed)"
            )
    if "mamba_ssm" in methods:
        if device.startswith("cuda") and mamba_ssm_available():
            runners["mamba_ssm"] = lambda v: _run_ours(v, "mamba_ssm")
        else:
            notes.append(
                "mamba_ssm kernel not timed (needs --device cuda and the mamba-ssm package)"
            )
    return runners, notes


def _measure(
    method: str,
    fn: Callable,
    size: tuple[int, int, int, int],
    backward: bool,
    *,
    repeats: int,
    seq_prefix: int,
    device: str,
    seed: int,
) -> dict:
    """One table row: ``method`` timed at ``size`` (b, d, n, L), forward or forward+backward."""
    b, d, n, length = size
    measured, note = length, ""
    if method == "sequential" and seq_prefix and length > seq_prefix:
        measured = seq_prefix  # constant cost per step: time a prefix, scale up
        note = f"timed on L={measured}, scaled ×{length / measured:.1f}"
    if method == "mambapy" and length & (length - 1):
        note = f"pads L to {1 << (length - 1).bit_length()}"
    if method == "sequential":
        repeats = max(1, min(repeats, 3))
    x = timing_inputs(b, d, n, measured, device, seed)
    secs = [t * length / measured for t in time_scan(fn, x, backward, repeats, device)]
    return {
        "method": method,
        "b": b,
        "d": d,
        "n": n,
        "L": length,
        "pass": "fwd+bwd" if backward else "fwd",
        "ms": percentile(secs, 50) * 1e3,
        "min_ms": min(secs) * 1e3,
        "samples_ms": [t * 1e3 for t in secs],
        "measured_L": measured,
        "note": note,
    }


def _add_ratios(rows: list[dict]) -> None:
    """``ratio`` = this row's ms / torch's ms at the same size and pass (None without torch)."""

    def key(r: dict) -> tuple:
        return r["b"], r["d"], r["n"], r["L"], r["pass"]

    torch_ms = {key(r): r["ms"] for r in rows if r["method"] == "torch"}
    for r in rows:
        base = torch_ms.get(key(r))
        r["ratio"] = r["ms"] / base if base else None


def _progress(tasks: list, verbose: bool) -> Sequence:
    try:
        from tqdm import tqdm
    except ImportError:
        return tasks
    return tqdm(tasks, desc="bench scan", disable=not verbose, leave=False)


def bench_scan(
    sizes: Sequence[tuple[int, int, int, int]] | None = None,
    *,
    methods: Sequence[str] = METHODS,
    threads: int | None = 2,
    repeats: int = 3,
    seq_prefix: int = 512,
    device: str = "cpu",
    seed: int = 0,
    argv: Sequence[str] | None = None,
    verbose: bool = True,
) -> list[dict]:
    """Time the selective-scan methods; returns one row per (method, size, pass).

    sizes: (b, d, n, L) tuples (default b=2, d=192, n=16, L ∈ {4096, 19200}). ``argv``
    (``sccosf bench scan`` options) overrides the keywords, which lets ``sccosf bench model``
    pass them through. Rows: method, b, d, n, L, pass ("fwd" | "fwd+bwd"), ms (median),
    min_ms, samples_ms, measured_L (< L when extrapolated), ratio (this method's ms / torch's
    ms), note.
    With ``verbose`` the table is printed.
    """
    if argv:
        return bench_scan(**_options_from_argv(argv), verbose=verbose)
    sizes = list(sizes or DEFAULT_SIZES)
    if threads:
        torch.set_num_threads(threads)
    runners, notes = _runners(methods, device)
    tasks = [
        (size, backward, method)
        for size in sizes
        for backward in (False, True)
        for method in methods
        if method in runners
    ]
    bar = _progress(tasks, verbose)
    rows: list[dict] = []
    for size, backward, method in bar:
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(f"{method} L={size[3]} {'fwd+bwd' if backward else 'fwd'}")
        rows.append(
            _measure(
                method,
                runners[method],
                size,
                backward,
                repeats=repeats,
                seq_prefix=seq_prefix,
                device=device,
                seed=seed,
            )
        )
    _add_ratios(rows)
    if verbose:
        print(format_table(rows, threads=torch.get_num_threads(), device=device))
        for note in notes:
            print(f"note: {note}")
    return rows


def format_table(rows: list[dict], threads: int, device: str) -> str:
    """Fixed-width table: one line per (size, pass), ms per method and ratio vs torch."""
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    keys = []
    for r in rows:
        k = (r["b"], r["d"], r["n"], r["L"], r["pass"])
        if k not in keys:
            keys.append(k)
    head = ["b", "d", "n", "L", "pass"] + [f"{m} ms" for m in methods]
    head += [f"{m}/torch" for m in methods if m != "torch"]
    lines = []
    for k in keys:
        cells = [str(v) for v in k]
        by = {r["method"]: r for r in rows if (r["b"], r["d"], r["n"], r["L"], r["pass"]) == k}
        for m in methods:
            r = by.get(m)
            star = "*" if r and r["measured_L"] < r["L"] else ""
            cells.append(f"{r['ms']:.1f}{star}" if r else "-")
        for m in methods:
            if m == "torch":
                continue
            r = by.get(m)
            cells.append(f"{r['ratio']:.1f}x" if r and r["ratio"] else "-")
        lines.append(cells)
    out = [
        f"selective scan, {device}, {threads} torch thread(s), "
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}",
        *text_table(head, lines),
    ]
    if any(r["measured_L"] < r["L"] for r in rows):
        out.append("* sequential: timed on a prefix and extrapolated linearly to L")
    for r in rows:
        if r["method"] == "mambapy" and r["note"]:
            out.append(f"mambapy {r['note']} (L={r['L']})")
            break
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise BenchError("--device cuda but CUDA is not available; use --device cpu")
    sizes = [(args.batch, args.dim, args.state, L) for L in args.lengths]
    rows = bench_scan(
        sizes,
        methods=args.methods,
        threads=args.threads,
        repeats=args.repeats,
        seq_prefix=args.seq_prefix,
        device=args.device,
        seed=args.seed,
    )
    if args.json is not None:
        meta = {
            "threads": args.threads,
            "repeats": args.repeats,
            "device": args.device,
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
        }
        write_json(args.json, {"meta": meta, "rows": rows})
    return 0
