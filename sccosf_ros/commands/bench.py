"""``sccosf bench {model,scan,train,node,web,runtime,gpu,adapt}``: benchmarks printing figures and
ratios per run.

Each target lives in ``sccosf_ros/bench/<target>.py`` with ``add_arguments`` and ``run``; a
``BenchError`` (a ``SccosfError``) from one is printed by ``sccosf_ros.cli.main`` as its one
``sccosf bench <target>: error: ...`` line, exit code 2.
"""

from __future__ import annotations

import argparse
import importlib

TARGETS = {
    "model": "params, FLOPs and CPU latency per preset (and the selective scan)",
    "scan": "selective scan: torch path vs mambapy pscan vs sequential reference (and triton "
    "/ mamba_ssm on CUDA)",
    "train": "training throughput (images/s) of the nano preset",
    "node": "ROS path overhead per pair and end-to-end latency at 10 and 30 Hz",
    "web": "the node's processed-pair rate with 0 vs N web-view clients, and its RSS with a "
    "client that stops reading",
    "runtime": "per-pair latency, peak RSS and parity of every inference backend vs torch",
    "gpu": "the GPU check (make gpu-check): scan kernels, training, inference, node -> report",
    "adapt": "fine-tune the shipped model on a recording of an unseen scene style and compare "
    "both on a held-out recording of it (mIoU, fusion metrics, report, grid)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, help_ in TARGETS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        importlib.import_module(f"sccosf_ros.bench.{name}").add_arguments(p)


def error_prog(args: argparse.Namespace) -> str:
    """The name on an error line: the target, not just ``sccosf bench``."""
    return f"sccosf bench {args.target}"


def run(args: argparse.Namespace) -> int:
    return int(importlib.import_module(f"sccosf_ros.bench.{args.target}").run(args) or 0)
