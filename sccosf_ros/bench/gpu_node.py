"""GPU check part ``node``: the real node on ``device:=cuda`` over DDS, with the demo bag
(``sccosf demo``'s pieces) and with 640×480 pairs at 10/30 Hz (``sccosf bench node``'s
end-to-end part)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from sccosf_ros.bench.gpu_context import PartContext


def part_node(ctx: PartContext) -> None:
    from sccosf_ros.demo import DemoConfig, run_demo
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


def _node_e2e(ctx: PartContext, ckpt: Path) -> None:
    from sccosf_ros.bench.node import add_arguments
    from sccosf_ros.bench.node_e2e import bench_e2e

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    rates = ["10"] if ctx.plumbing or ctx.quick else ["10", "30"]
    args = parser.parse_args(["--rates", *rates, "--duration", "3" if ctx.plumbing else "5"])
    # the node's device parameter stays auto: cuda on a GPU machine, cpu in plumbing runs
    for row in bench_e2e(args, ckpt, "nano", ctx.work):
        ctx.row("e2e_640x480", {"device": str(ctx.device), **row})
