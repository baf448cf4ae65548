"""``sccosf extract``: a rosbag2 recording → a dataset in the generic folder layout, paired and
registered exactly as the live node pairs and registers its inputs (see
``sccosf_ros.bag.extract``). The pipeline's settings are the node's parameters
(``--params-file``, the flags below override single ones), so the frames are what the node's
model sees on this rig.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sccosf_ros.commands.model_options import (
    add_bag_input_arguments,
    add_label_sheet_arguments,
    add_node_parameters_group,
    add_pairing_arguments,
    add_thermal_arguments,
    pairing_overrides,
    thermal_flag_overrides,
)
from sccosf_ros.errors import SccosfError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.bag.extract import DEFAULT_THRESHOLD

    add_bag_input_arguments(parser, "written to labels/")
    parser.add_argument(
        "--classes",
        type=Path,
        default=None,
        metavar="classes.yaml",
        help="the dataset's class set (ids, names, colours, ignore_index); default MFNet's",
    )
    parser.add_argument(
        "--every",
        type=float,
        required=True,
        metavar="SECONDS",
        help="keep at most one pair per this many seconds of RGB stamps (0: every pair)",
    )
    parser.add_argument("--out", type=Path, required=True, help="new (or empty) dataset folder")
    parser.add_argument(
        "--split",
        type=float,
        nargs=3,
        default=(0.7, 0.15, 0.15),
        metavar=("TRAIN", "VAL", "TEST"),
        help="fractions of the kept frames per split, by contiguous time blocks "
        "(default 0.7 0.15 0.15)",
    )
    parser.add_argument(
        "--block",
        type=int,
        default=0,
        metavar="N",
        help="consecutive frames per split block (default 0: about 1/10 of the frames, >= 3)",
    )
    parser.add_argument(
        "--duplicate-threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="skip a frame whose downscaled grey RGB and thermal differ from the last kept "
        f"frame's by less than this mean |difference| (0..1; default {DEFAULT_THRESHOLD}; "
        "0 keeps all)",
    )
    add_label_sheet_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    node = add_node_parameters_group(
        parser,
        "e.g. a rig file from `sccosf calibrate`: registration.homography, thermal.crop, sync.*",
    )
    node.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint whose thermal normalisation thermal.normalization = checkpoint means "
        "(parameter checkpoint; only its normalisation is read)",
    )
    add_thermal_arguments(node)
    add_pairing_arguments(node)


def param_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The node parameters the explicit flags set."""
    values = thermal_flag_overrides(args)
    if args.checkpoint is not None:
        values["checkpoint"] = str(args.checkpoint)
    return {**values, **pairing_overrides(args)}


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.bag.extract import ExtractConfig, extract
    from sccosf_ros.class_set import ClassSet, read_class_set
    from sccosf_ros.pipeline.params import read_params_files

    # bad input (bag, topics, parameters, classes, output folder) raises a SccosfError
    params = read_params_files(args.params_file, param_overrides(args))
    classes = read_class_set(args.classes) if args.classes else ClassSet.of_dataset("mfnet")
    cfg = ExtractConfig(
        bag=args.bag,
        rgb_topic=args.rgb_topic,
        thermal_topic=args.thermal_topic,
        out=args.out,
        params=params,
        params_files=tuple(args.params_file),
        label_topic=args.label_topic,
        classes=classes,
        classes_file=args.classes,
        every_s=args.every,
        duplicate_threshold=args.duplicate_threshold,
        split=tuple(args.split),
        block=args.block,
        label_tolerance=args.label_tolerance,
        sheet_rows=args.sheet_rows,
        progress=not args.quiet,
        warn=_warn,
    )
    s = extract(cfg)
    print(summary(s))
    if not s["complete"]:
        raise incomplete_error(s)
    return 0


def incomplete_error(s: dict) -> SccosfError:
    """A bag read only part-way (damaged chunks, a read error, Ctrl-C): the frames before it are
    written, but the run is no success; as ``sccosf bag-eval``, exit 1 (130 for Ctrl-C) with one
    line."""
    kept = f"the {s['counts']['kept']} frames extracted are in {s['out']}"
    if s["error"].startswith("interrupted"):
        return SccosfError(f"{s['error']}; {kept}", exit_code=130)
    return SccosfError(f"incomplete bag: {s['error']}; {kept}", exit_code=1)


def _warn(message: str) -> None:
    print(f"sccosf extract: warning: {message}", file=sys.stderr)


def summary(s: dict) -> str:
    c = s["counts"]
    damaged = c["malformed_messages"] + c["messages_lost"] + c["rejected"]
    lines = [
        f"pairs seen {c['pairs']} / kept {c['kept']} / skipped as duplicates {c['duplicates']} "
        f"/ damaged {damaged}   (thinned by --every: {c['thinned']}; labels written: "
        f"{c['labels']}; {s['elapsed_s']:.1f} s)",
        f"splits: train {s['splits']['train']}, val {s['splits']['val']}, test "
        f"{s['splits']['test']} frames ({s['guard_frames']} guard frames between splits)",
        f"dataset:       {s['out']}",
    ]
    if s.get("contact_sheet"):
        lines.append(f"contact sheet: {s['contact_sheet']}")
    return "\n".join(lines)
