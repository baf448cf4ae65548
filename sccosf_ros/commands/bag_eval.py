"""``sccosf bag-eval``: run a checkpoint over a rosbag2 (sqlite3 or MCAP) exactly as the live node
would, and write outputs, metrics.json and a contact sheet (see ``sccosf_ros.bag.bag_eval``).

The pipeline's settings are the node's parameters: ``--params-file`` takes the node's own
``ros__parameters`` YAML (repeatable, later files win, like ``ros2 launch`` layering), and the
explicit flags below override single parameters. Without a file, the node's defaults apply.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sccosf_ros.commands.model_options import (
    add_bag_input_arguments,
    add_label_sheet_arguments,
    add_model_arguments,
    add_node_parameters_group,
    add_pairing_arguments,
    model_overrides,
    pairing_overrides,
)
from sccosf_ros.errors import SccosfError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_bag_input_arguments(parser, "enables mIoU")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    node = add_node_parameters_group(
        parser, "e.g. config/sccosf.yaml, a rig file from `sccosf calibrate`"
    )
    add_model_arguments(node)
    add_pairing_arguments(node)
    parser.add_argument("--max-pairs", type=int, default=None, help="stop after N pairs")
    parser.add_argument(
        "--namespace", default="/sccosf", help="namespace of the output topics in the output bag"
    )
    add_label_sheet_arguments(parser)
    parser.add_argument("--no-bag", action="store_true", help="do not write the output bag")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an output bag left by an earlier finished run in --out (one from a "
        "run that did not finish is replaced anyway)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def param_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The node parameters the explicit flags set: the model flags, then the sync ones."""
    return {**model_overrides(args), **pairing_overrides(args)}


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.bag.bag_eval import BagEvalConfig, evaluate_bag, no_pairs_message
    from sccosf_ros.pipeline.params import read_params_files

    # bad input (bag, parameters, checkpoint, backend) raises a SccosfError: cli.main prints it
    params = read_params_files(args.params_file, param_overrides(args))
    cfg = BagEvalConfig(
        bag=args.bag,
        rgb_topic=args.rgb_topic,
        thermal_topic=args.thermal_topic,
        out=args.out,
        params=params,
        label_topic=args.label_topic,
        max_pairs=args.max_pairs,
        namespace=args.namespace,
        label_tolerance=args.label_tolerance,
        sheet_rows=args.sheet_rows,
        write_bag=not args.no_bag,
        overwrite=args.overwrite,
        progress=not args.quiet,
        warn=_warn,
    )
    m = evaluate_bag(cfg)
    # a run stopped part-way or without pairs is not bad input: its own exit codes (1, 130)
    if not m["complete"]:
        raise SccosfError(
            f"{m['error']}; partial results ({m['pairs']} pairs) in {m['metrics_file']}"
            + (f", output bag {m['output_bag']} (marked incomplete)" if m["output_bag"] else ""),
            exit_code=130 if m["error"].startswith("interrupted") else 1,
        )
    if m["pairs"] == 0:
        raise SccosfError(no_pairs_message(m), exit_code=1)
    print(summary(m))
    return 0


def _warn(message: str) -> None:
    print(f"sccosf bag-eval: warning: {message}", file=sys.stderr)


def summary(m: dict) -> str:
    lines = [
        f"pairs: {m['pairs']}   unmatched: {json.dumps(m['unmatched'])}   "
        f"malformed: {json.dumps(m['malformed'])}",
        f"throughput: {m['throughput_pairs_per_s']:.2f} pairs/s   latency p50/p95: "
        f"{m['latency_ms']['total']['p50']:.1f}/{m['latency_ms']['total']['p95']:.1f} ms "
        f"({m.get('backend', 'torch')} on {m['device']})",
        f"fused EN {m['fusion']['EN']:.3f}  SD {m['fusion']['SD']:.2f}",
    ]
    ffc = m.get("thermal_ffc") or {}
    if ffc.get("frames"):
        every = ffc.get("mean_interval_s")
        lines.append(
            f"flat-field correction: {ffc['frames']} thermal frames skipped in "
            f"{ffc['events']} shutter events" + (f", every {every:.1f} s" if every else "")
        )
    if "miou" in m:
        lines.append(f"mIoU {m['miou']:.4f} over {m['labelled_pairs']} labelled pairs")
    lines.append(f"metrics:       {m['metrics_file']}")
    if m.get("contact_sheet"):
        lines.append(f"contact sheet: {m['contact_sheet']}")
    if m.get("output_bag"):
        lines.append(f"output bag:    {m['output_bag']}")
    return "\n".join(lines)
