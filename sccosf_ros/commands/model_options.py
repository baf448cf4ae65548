"""The flags of every command that runs a model, as node parameters.

``predict``, ``eval`` and ``bag-eval`` take the same model flags (``--checkpoint --device
--threads --input-size --thermal-norm --thermal-range --thermal-units --thermal-scale
--thermal-window --precision --backend --cache-dir``). Each
maps to one of ``sccosf_node``'s parameters (``pipeline.params``); unset flags leave the
parameter alone, so the command runs the model exactly as the node would with the same values,
through the same ``pipeline.processor.load_predictor``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sccosf_ros.errors import SccosfError
from sccosf_ros.pipeline.params import NodeParams, read_params_files
from sccosf_ros.thermal import DEFAULT_WINDOW_C, UNITS
from sccosf_ros.thermal import MODES as THERMAL_MODES


class ModelOptionError(SccosfError, ValueError):
    """A combination of model flags that does not describe one setting."""


def add_model_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The model flags; every default is None (= the node parameter's value)."""
    from sccosf_ros.backends.cli_args import add_backend_arguments
    from sccosf_ros.precision import PRECISION_CHOICES

    d = NodeParams.defaults()
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint .pt (parameter checkpoint; default: $SCCOSF_CHECKPOINT or the shipped "
        "models/sccosf_nano_synthetic.pt)",
    )
    parser.add_argument(
        "--device", default=None, help=f"auto | cpu | cuda | cuda:N (device, default {d.device})"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads, 0 = torch's (num_threads)"
    )
    parser.add_argument(
        "--input-size",
        type=int,
        nargs=2,
        metavar=("H", "W"),
        default=None,
        help="size the network runs at, results resized back (inference.height/width; "
        "default: the image's size; the node and predict downscale images above "
        f"inference.max_pixels = {d.inference_max_pixels})",
    )
    add_thermal_arguments(parser)
    parser.add_argument(
        "--precision",
        choices=PRECISION_CHOICES,
        default=None,
        help="auto | fp32 | fp16 | bf16 (precision, default auto: bf16 on OpenVINO with "
        "AMX/AVX-512 BF16 within the parity bar, else fp32; which backend runs which: see the "
        "README)",
    )
    add_backend_arguments(parser, default=None)


def add_thermal_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, training: bool = False
) -> None:
    """The thermal normalisation flags, shared by the model commands (node parameters, default
    None) and ``sccosf train`` (TrainConfig fields of the same names, absent when not given)."""
    default: Any = argparse.SUPPRESS if training else None
    window = DEFAULT_WINDOW_C
    parser.add_argument(
        "--thermal-norm",
        default=default,
        choices=THERMAL_MODES,
        help="thermal normalisation, recorded in the checkpoint (default auto: uint8 / 255)"
        if training
        else "thermal normalisation (thermal.normalization; default: what the checkpoint says)",
    )
    parser.add_argument(
        "--thermal-range",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        default=default,
        help="raw thermal range for --thermal-norm fixed (thermal.low/high)",
    )
    parser.add_argument(
        "--thermal-units",
        default=default,
        choices=tuple(UNITS),
        help="what the thermal values are (thermal.units; for --thermal-norm temperature)",
    )
    parser.add_argument(
        "--thermal-scale",
        type=float,
        nargs=2,
        metavar=("SCALE", "OFFSET"),
        default=default,
        help="--thermal-units counts: degrees C = value x SCALE + OFFSET (thermal.scale/offset)",
    )
    parser.add_argument(
        "--thermal-window",
        type=float,
        nargs=2,
        metavar=("LOW_C", "HIGH_C"),
        default=default,
        help="degrees C mapped to 0..1 by --thermal-norm temperature (thermal.window_c; "
        f"default {window[0]:g} {window[1]:g})"
        + ("" if training else "; a window alone means temperature"),
    )


def thermal_overrides(
    mode: str | None, rng: list[float] | None, window: list[float] | None = None
) -> dict[str, Any]:
    """``--thermal-norm`` / ``--thermal-range`` / ``--thermal-window`` as node parameters (a
    range alone means fixed, a window alone temperature)."""
    if window is not None:
        if rng is not None or (mode or "temperature") != "temperature":
            raise ModelOptionError("--thermal-window goes with --thermal-norm temperature only")
        return {"thermal.normalization": "temperature", "thermal.window_c": list(window)}
    if mode is None and rng is None:
        return {}
    if (mode or "fixed") == "fixed":
        if rng is None:
            raise ModelOptionError("--thermal-norm fixed needs --thermal-range LOW HIGH")
        return {
            "thermal.normalization": "fixed",
            "thermal.low": float(rng[0]),
            "thermal.high": float(rng[1]),
        }
    return {"thermal.normalization": mode}


def model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The node parameters the given model flags set (ModelOptionError for a bad combination)."""
    values: dict[str, Any] = {}
    if args.checkpoint is not None:
        values["checkpoint"] = str(args.checkpoint)
    flags = (
        ("device", "device"),
        ("threads", "num_threads"),
        ("precision", "precision"),
        ("backend", "backend"),
    )
    for flag, name in flags:
        if getattr(args, flag) is not None:
            values[name] = getattr(args, flag)
    if args.cache_dir is not None:
        values["backend.cache_dir"] = str(args.cache_dir)
    if args.input_size:
        values["inference.height"], values["inference.width"] = args.input_size
    values.update(thermal_flag_overrides(args))
    return values


def thermal_flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The node parameters the flags of ``add_thermal_arguments`` set."""
    values = thermal_overrides(args.thermal_norm, args.thermal_range, args.thermal_window)
    if args.thermal_units is not None:
        values["thermal.units"] = args.thermal_units
    if args.thermal_scale is not None:
        values["thermal.scale"], values["thermal.offset"] = args.thermal_scale
    return values


def model_params(args: argparse.Namespace, params_files: list[Path] | None = None) -> NodeParams:
    """Parameter files (none: the node's defaults) with the model flags on top, validated."""
    return read_params_files(list(params_files or []), model_overrides(args))


def pairing_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The pairing parameters the explicit flags set (``--slop``, ``--queue-size``,
    ``--thermal-crop``): shared by bag-eval and extract, which pair a bag as the node does."""
    values: dict[str, Any] = {}
    for flag, name in (("slop", "sync.slop"), ("queue_size", "sync.queue_size")):
        if getattr(args, flag) is not None:
            values[name] = getattr(args, flag)
    if args.thermal_crop is not None:
        values["thermal.crop"] = list(args.thermal_crop)
    return values


def add_bag_input_arguments(parser: argparse.ArgumentParser, label_use: str) -> None:
    """The bag and its topics, as bag-eval and extract read them (``label_use``: what a label
    topic is for, said in its help)."""
    parser.add_argument("bag", type=Path, help="rosbag2 directory (or a .db3/.mcap file)")
    parser.add_argument(
        "--rgb-topic",
        required=True,
        help="RGB topic: sensor_msgs/Image or CompressedImage (a base name whose messages are "
        "on <base>/compressed is read from there)",
    )
    parser.add_argument(
        "--thermal-topic", required=True, help="thermal topic: Image or CompressedImage"
    )
    parser.add_argument(
        "--label-topic",
        default=None,
        help="class-id label topic stamped like RGB (mono8/mono16 Image, or PNG "
        f"CompressedImage): {label_use}",
    )


def add_node_parameters_group(
    parser: argparse.ArgumentParser, example: str
) -> argparse._ArgumentGroup:
    """The "node parameters" group of bag-eval and extract, with ``--params-file`` (``example``:
    the files its help names)."""
    node = parser.add_argument_group(
        "node parameters", "the live node's settings; flags override the parameter files"
    )
    node.add_argument(
        "--params-file",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.yaml",
        help=f"the node's ros__parameters file ({example}); repeat to layer files",
    )
    return node


def add_label_sheet_arguments(parser: argparse.ArgumentParser) -> None:
    """``--label-tolerance`` and ``--sheet-rows`` of bag-eval and extract."""
    parser.add_argument(
        "--label-tolerance",
        type=float,
        default=0.005,
        help="max label/RGB stamp difference in s (default 0.005)",
    )
    parser.add_argument("--sheet-rows", type=int, default=6, help="frames on the contact sheet")


def add_pairing_arguments(group: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--slop``, ``--queue-size``, ``--thermal-crop`` (read back by ``pairing_overrides``)."""
    d = NodeParams.defaults()
    group.add_argument(
        "--slop",
        type=float,
        default=None,
        help=f"max RGB/thermal stamp difference in s (sync.slop, default {d.sync_slop})",
    )
    group.add_argument(
        "--queue-size",
        type=int,
        default=None,
        help=f"sync queue per input (sync.queue_size, default {d.sync_queue_size})",
    )
    group.add_argument(
        "--thermal-crop",
        type=int,
        nargs=4,
        metavar=("TOP", "BOTTOM", "LEFT", "RIGHT"),
        default=None,
        help="pixels cut off each thermal image first, e.g. 0 2 0 0 for the telemetry rows of "
        "a raw Boson (thermal.crop)",
    )
