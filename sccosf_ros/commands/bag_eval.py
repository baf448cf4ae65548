"""``sccosf bag-eval``: run a checkpoint over a rosbag2 (sqlite3 or MCAP) and write outputs,
metrics.json and a contact sheet (see ``sccosf_ros.bag.bag_eval``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.bag.bag_eval import node_sync_defaults

    slop, queue = node_sync_defaults()
    parser.add_argument("bag", type=Path, help="rosbag2 directory (or a .db3/.mcap file)")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="checkpoint .pt (default: $SCCOSF_CHECKPOINT or the shipped "
                             "models/sccosf_nano_synthetic.pt)")
    parser.add_argument("--rgb-topic", required=True, help="sensor_msgs/Image RGB topic")
    parser.add_argument("--thermal-topic", required=True, help="sensor_msgs/Image thermal topic")
    parser.add_argument("--label-topic", default=None,
                        help="mono8 class-id Image topic stamped like RGB: enables mIoU")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (default 0 = torch's default)")
    parser.add_argument("--slop", type=float, default=slop,
                        help=f"max RGB/thermal stamp difference in s (node default {slop})")
    parser.add_argument("--queue-size", type=int, default=queue,
                        help=f"sync queue per input (node default {queue})")
    parser.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"), default=None,
                        help="size the network runs at (default: the image's own size)")
    parser.add_argument("--max-pairs", type=int, default=None, help="stop after N pairs")
    parser.add_argument("--namespace", default="/sccosf",
                        help="namespace of the output topics in the output bag")
    parser.add_argument("--thermal-norm", default=None,
                        choices=("auto", "minmax", "percentile", "fixed"),
                        help="thermal normalisation (default: what the checkpoint says)")
    parser.add_argument("--thermal-range", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        default=None, help="raw thermal range for --thermal-norm fixed")
    parser.add_argument("--label-tolerance", type=float, default=0.005,
                        help="max label/RGB stamp difference in s (default 0.005)")
    parser.add_argument("--sheet-rows", type=int, default=6, help="frames on the contact sheet")
    parser.add_argument("--no-bag", action="store_true", help="do not write the output bag")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an output bag left by an earlier run in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def thermal_norm_from_args(mode: str | None, rng: list[float] | None):
    from sccosf_ros.thermal import ThermalNorm

    if mode is None:
        if rng is not None:
            return ThermalNorm(mode="fixed", low=rng[0], high=rng[1])
        return None
    if mode == "fixed":
        if rng is None:
            raise ValueError("--thermal-norm fixed needs --thermal-range LOW HIGH")
        return ThermalNorm(mode="fixed", low=rng[0], high=rng[1])
    return ThermalNorm(mode=mode)


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.bag.bag_eval import BagEvalConfig, evaluate_bag
    from sccosf_ros.bag.bag_io import BagError
    from sccosf_ros.inference import CheckpointError
    from sccosf_ros.paths import default_checkpoint

    try:
        cfg = BagEvalConfig(
            bag=args.bag,
            checkpoint=args.checkpoint or default_checkpoint(),
            rgb_topic=args.rgb_topic,
            thermal_topic=args.thermal_topic,
            label_topic=args.label_topic,
            out=args.out,
            device=args.device,
            threads=args.threads,
            slop=args.slop,
            queue_size=args.queue_size,
            input_size=tuple(args.input_size) if args.input_size else None,
            max_pairs=args.max_pairs,
            namespace=args.namespace,
            thermal_norm=thermal_norm_from_args(args.thermal_norm, args.thermal_range),
            label_tolerance=args.label_tolerance,
            sheet_rows=args.sheet_rows,
            write_bag=not args.no_bag,
            overwrite=args.overwrite,
            progress=not args.quiet,
        )
        m = evaluate_bag(cfg)
    except (BagError, CheckpointError, ValueError) as e:
        print(f"sccosf bag-eval: error: {e}", file=sys.stderr)
        return 2
    print(summary(m))
    return 0


def summary(m: dict) -> str:
    lines = [
        f"pairs: {m['pairs']}   unmatched: {json.dumps(m['unmatched'])}   "
        f"malformed: {json.dumps(m['malformed'])}",
        f"throughput: {m['throughput_pairs_per_s']:.2f} pairs/s   latency p50/p95: "
        f"{m['latency_ms']['total']['p50']:.1f}/{m['latency_ms']['total']['p95']:.1f} ms "
        f"({m['device']})",
        f"fused EN {m['fusion']['EN']:.3f}  SD {m['fusion']['SD']:.2f}",
    ]
    if "miou" in m:
        lines.append(f"mIoU {m['miou']:.4f} over {m['labelled_pairs']} labelled pairs")
    lines.append(f"metrics:       {m['metrics_file']}")
    if m.get("contact_sheet"):
        lines.append(f"contact sheet: {m['contact_sheet']}")
    if m.get("output_bag"):
        lines.append(f"output bag:    {m['output_bag']}")
    return "\n".join(lines)
