"""The ``sccosf`` command.

Each subcommand lives in ``sccosf_ros/commands/<name>.py`` and provides
``add_arguments(parser)`` and ``run(args) -> int``. Only the chosen subcommand's module is
imported, so ``sccosf --help`` stays fast and ROS/torch load only where they are needed.
A ``SccosfError`` from any of them is caught here, once: one ``error:`` line and its exit code
(a command may name itself differently with ``error_prog(args)``, as ``sccosf bench <target>``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sccosf_ros import __version__
from sccosf_ros.commands.bench import TARGETS as BENCH_TARGETS
from sccosf_ros.errors import SccosfError
from sccosf_ros.runtime import passive_openmp

# name → (module under sccosf_ros.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("synth", "write a synthetic RGB-thermal dataset in the MFNet or FMB layout"),
    "train": ("train", "train SC-CoSF (fusion + segmentation) on MFNet, FMB, synthetic, own data"),
    "eval": (
        "eval",
        "evaluate a checkpoint: mIoU + fusion metrics on a dataset, or fusion on image folders",
    ),
    "predict": ("predict", "run a checkpoint on RGB + thermal image files"),
    "bag-eval": ("bag_eval", "run a checkpoint over a rosbag2 and write outputs, metrics, sheet"),
    "extract": ("extract", "rosbag2 → dataset folder, paired and registered as the node does"),
    "replay": ("replay", "publish a rosbag2's images through rclpy with /clock"),
    "bench": ("bench", f"benchmarks: {','.join(BENCH_TARGETS)}"),
    "demo": ("demo", "end-to-end demo: synthetic bag → live sccosf_node → outputs/demo/"),
    "calibrate": ("calibrate", "thermal → RGB homography of a camera rig from a heated board"),
    "check-dataset": (
        "check_dataset",
        "decode every sample of a dataset and list the damaged ones (as train does first)",
    ),
    "labels": (
        "labels",
        "labels from CVAT / labelme exports into a dataset's labels/ (import), per-class counts",
    ),
    "export": ("export", "export a checkpoint to ONNX (metadata, parity check vs torch)"),
    "params": ("params", "the node's parameters: list them, write or check config/sccosf.yaml"),
    "web": ("web", "live web view of image topics: page, MJPEG streams, /api/status"),
}

# Subcommands that run beside a node or a player on the same cores (see runtime.passive_openmp).
SHARES_CPU = {"bag-eval", "replay", "demo"}


def _top_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sccosf",
        description="SC-CoSF RGB-thermal fusion and segmentation: offline tools and benchmarks.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_) in COMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    return p


def build_parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    module_name, help_ = COMMANDS[name]
    module = importlib.import_module(f"sccosf_ros.commands.{module_name}")
    parser = argparse.ArgumentParser(prog=f"sccosf {name}", description=help_)
    module.add_arguments(parser)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SHARES_CPU:
        passive_openmp()  # before torch loads; inherited by the node the demo starts
    if not argv or argv[0] not in COMMANDS:
        parser = _top_parser()
        if argv and not argv[0].startswith("-"):
            parser.error(f"unknown command {argv[0]!r} (choose from {', '.join(COMMANDS)})")
        parser.parse_args(argv)  # handles --help
        parser.print_help()
        return 2
    parser, module = build_parser(argv[0])
    args = parser.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except SccosfError as e:  # every user-facing error, caught here once
        prog = module.error_prog(args) if hasattr(module, "error_prog") else parser.prog
        print(f"{prog}: error: {e.message}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
