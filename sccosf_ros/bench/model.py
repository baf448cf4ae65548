"""``sccosf bench model``: parameters, FLOPs and CPU latency per preset, and the selective scan.

FLOPs are counted with ``torch.utils.flop_counter.FlopCounterMode`` on the meta device (shapes
only, no arithmetic), which counts matrix multiplies and convolutions (depthwise included) as
2 FLOPs per multiply-accumulate. The paper's Table 3, like most segmentation papers, reports
multiply-accumulates as "FLOPs"; the table shows both (``GMAC`` = paper convention,
``GFLOP`` = 2 × GMAC). The counter does NOT see elementwise work: activations, norms, softmax,
gating products, pooling, interpolation, padding, and the selective scan, which is a custom op
(a chunked PyTorch scan or the mamba-ssm kernel). For the scan an analytic count is added
separately (mamba-ssm's reference: 9·b·d·n·l + b·d·l FLOPs per call), summed over every S6
unit via forward hooks.

Latency: median wall time of ``--runs`` forwards (after ``--warmup``) of one RGB + thermal pair
at ``--size`` under ``torch.inference_mode`` with ``--threads`` intra-op threads. On a shared
machine these figures are noisy: the process CPU time per forward is reported next to them.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path
from typing import Any

import torch

from sccosf_ros.arg_types import size_hw
from sccosf_ros.bench.errors import check_at_least_one, check_presets
from sccosf_ros.bench.tables import write_json
from sccosf_ros.bench.timing import repeat
from sccosf_ros.model import build_model
from sccosf_ros.model.flops import count_flops
from sccosf_ros.percentiles import percentile
from sccosf_ros.tables import text_table

PAPER_PARAMS_M = 139.62  # paper Table 3
PAPER_GFLOPS = 304.52  # paper Table 3, at 600×800 (multiply-accumulates)
PAPER_SIZE = (600, 800)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--presets",
        default="nano,tiny,paper",
        help="comma-separated presets to count (default: nano,tiny,paper)",
    )
    parser.add_argument(
        "--latency-presets",
        default="nano,tiny",
        help="presets to time on CPU (default nano,tiny; add paper for the slow big one)",
    )
    parser.add_argument("--size", type=size_hw, default=(480, 640), help="latency input HxW")
    parser.add_argument(
        "--flops-size",
        type=size_hw,
        default=PAPER_SIZE,
        help="FLOP-count input HxW (default 600x800 as in the paper's Table 3)",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--runs", type=int, default=5, help="timed forwards per preset")
    parser.add_argument("--warmup", type=int, default=1, help="untimed forwards first")
    parser.add_argument("--num-classes", type=int, default=9)
    parser.add_argument("--skip-scan", action="store_true", help="skip the selective-scan table")
    parser.add_argument(
        "--scan-args",
        default="",
        help="extra arguments for the selective-scan table (see `sccosf bench scan --help`)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write all results to this file")


# --------------------------------------------------------------------------- counting
def count_params(model: torch.nn.Module) -> dict[str, float]:
    """Parameters in millions, total and per part."""

    def millions(m: torch.nn.Module | None) -> float:
        return 0.0 if m is None else sum(p.numel() for p in m.parameters()) / 1e6

    return {
        "total": millions(model),
        "encoder": millions(model.encoder),
        "sc_cfm": millions(model.fusion),
        "icrm": millions(model.seg_head),
        "reaw": millions(model.fusion_head),
    }


def time_forward(
    preset: str, size: tuple[int, int], runs: int, warmup: int, num_classes: int = 9
) -> dict[str, float]:
    """Median/min wall ms and mean CPU ms per forward of one pair, peak RSS in MiB."""
    torch.manual_seed(0)
    model = build_model(preset, num_classes=num_classes).eval()
    rgb = torch.rand(1, 3, *size)
    thermal = torch.rand(1, 1, *size)
    calls = [0]

    def once() -> tuple[float, float]:
        """(wall ms, process CPU ms) of one forward."""
        t0, c0 = time.perf_counter(), time.process_time()
        model(rgb, thermal)
        wall, cpu = (time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3
        calls[0] += 1
        print(f"  {preset}: run {calls[0]}/{warmup + runs} {wall:.0f} ms", flush=True)
        return wall, cpu

    with torch.inference_mode():
        timed = repeat(once, runs, warmup=warmup)
    walls, cpus = [w for w, _ in timed], [c for _, c in timed]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB → MiB
    return {
        "median_ms": percentile(walls, 50),
        "min_ms": min(walls),
        "cpu_ms": sum(cpus) / len(cpus),
        "peak_rss_mib": peak,
        "runs": runs,
    }


# --------------------------------------------------------------------------- report
def _table(rows: list[list[str]], header: list[str]) -> str:
    return "\n".join(text_table(header, rows, rule=True))


def run(args: argparse.Namespace) -> int:
    presets = [p for p in args.presets.split(",") if p]
    timed = [p for p in args.latency_presets.split(",") if p]
    check_presets(presets + timed)
    check_at_least_one(runs=args.runs, threads=args.threads)
    torch.set_num_threads(args.threads)
    fh, fw = args.flops_size
    results: dict[str, Any] = {
        "env": {
            "torch": torch.__version__,
            "threads": args.threads,
            "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(),
            "latency_size": list(args.size),
            "flops_size": [fh, fw],
        },
        "paper": {"params_m": PAPER_PARAMS_M, "gflops": PAPER_GFLOPS, "size": list(PAPER_SIZE)},
        "presets": {},
    }

    print(f"counting parameters and FLOPs at {fh}x{fw} ...", flush=True)
    for name in presets:
        with torch.device("meta"):
            params = count_params(build_model(name, num_classes=args.num_classes))
        flops = count_flops(name, (fh, fw), args.num_classes)
        results["presets"][name] = {"params_m": params, "flops": flops}

    for name in timed:
        print(
            f"timing {name} at {args.size[0]}x{args.size[1]}, {args.threads} threads ...",
            flush=True,
        )
        results["presets"].setdefault(name, {})["latency"] = time_forward(
            name, args.size, args.runs, args.warmup, args.num_classes
        )

    rows = []
    for name in presets:
        r = results["presets"][name]
        p, f = r["params_m"], r["flops"]
        rows.append(
            [
                name,
                f"{p['total']:.2f}",
                f"{p['encoder']:.2f}",
                f"{p['sc_cfm']:.2f}",
                f"{p['icrm']:.2f}",
                f"{p['reaw']:.2f}",
                f"{f['gmac']:.2f}",
                f"{f['gflop']:.2f}",
                f"{f['scan_gflop']:.2f}",
                f"{f['gflop'] + f['scan_gflop']:.2f}",
            ]
        )
    rows.append(
        [
            "paper T3",
            f"{PAPER_PARAMS_M:.2f}",
            "87.6",
            "",
            "",
            "",
            f"{PAPER_GFLOPS:.2f}",
            "",
            "",
            "",
        ]
    )
    print()
    print(
        f"Parameters (M) and FLOPs at {fh}x{fw}: GMAC = conv+matmul multiply-accumulates "
        "(the paper's 'FLOPs'), GFLOP = 2×GMAC, scan = analytic selective-scan FLOPs; "
        "elementwise ops are not counted"
    )
    print(
        _table(
            rows,
            [
                "preset",
                "params",
                "encoder",
                "Sc-CFM",
                "ICRM",
                "ReAW",
                "GMAC",
                "GFLOP",
                "scan GFLOP",
                "GFLOP+scan",
            ],
        )
    )
    if "paper" in presets:
        r = results["presets"]["paper"]
        dp = r["params_m"]["total"] / PAPER_PARAMS_M - 1
        df = r["flops"]["gmac"] / PAPER_GFLOPS - 1
        print(f"paper preset vs Table 3: params {dp:+.1%}, FLOPs (GMAC) {df:+.1%}")

    if timed:
        print()
        print(
            f"CPU latency per RGB+thermal pair at {args.size[0]}x{args.size[1]}, "
            f"{args.threads} threads (shared machines are noisy; CPU ms = process CPU time)"
        )
        lrows = []
        base = results["presets"][timed[0]]["latency"]["median_ms"]
        for name in timed:
            lat = results["presets"][name]["latency"]
            lrows.append(
                [
                    name,
                    f"{lat['median_ms']:.1f}",
                    f"{lat['min_ms']:.1f}",
                    f"{lat['cpu_ms']:.1f}",
                    f"{lat['median_ms'] / base:.2f}x",
                    f"{lat['peak_rss_mib']:.0f}",
                ]
            )
        print(
            _table(
                lrows,
                ["preset", "median ms", "min ms", "CPU ms", f"vs {timed[0]}", "peak RSS MiB"],
            )
        )
        if "nano" in timed:
            med = results["presets"]["nano"]["latency"]["median_ms"]
            verdict = "meets" if med <= 200 else "misses"
            print(f"nano target ≤ 200 ms per pair: {verdict} ({med:.1f} ms median)")

    if not args.skip_scan:
        from sccosf_ros.bench.scan import bench_scan

        print()
        scan_argv = args.scan_args.split() if args.scan_args else []
        # --threads first, so that a --threads inside --scan-args still wins
        results["scan"] = bench_scan(argv=["--threads", str(args.threads), *scan_argv])

    if args.json is not None:
        print()
        write_json(args.json, results)
    return 0
