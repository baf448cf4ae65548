"""``sccosf demo`` (``make demo``): synthetic RGB-thermal bag → live ``sccosf_node`` → recorded
outputs, contact sheet, preview GIF and metrics under ``outputs/demo/``
(see ``sccosf_ros.demo``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sccosf_ros.backends.cli_args import add_backend_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("outputs/demo"),
        help="output folder (default outputs/demo)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint (default: $SCCOSF_CHECKPOINT or the shipped "
        "models/sccosf_nano_synthetic.pt)",
    )
    parser.add_argument(
        "--duration", type=float, default=12.0, help="seconds of synthetic recording (default 12)"
    )
    parser.add_argument(
        "--size",
        type=int,
        nargs=2,
        metavar=("H", "W"),
        default=(240, 320),
        help="frame size (default 240 320)",
    )
    parser.add_argument("--rgb-rate", type=float, default=10.0, help="RGB Hz (default 10)")
    parser.add_argument("--thermal-rate", type=float, default=8.7, help="thermal Hz (default 8.7)")
    parser.add_argument(
        "--storage",
        choices=("mcap", "sqlite3"),
        default="mcap",
        help="rosbag2 storage of the bags (default mcap)",
    )
    parser.add_argument("--rate", type=float, default=1.0, help="replay speed (default 1.0)")
    parser.add_argument(
        "--night", action="store_true", help="a night scene (dark, noisy RGB; thermal still sees)"
    )
    parser.add_argument("--seed", type=int, default=0, help="scene seed")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads for the node and bag-eval (0 = torch default)",
    )
    add_backend_arguments(parser)
    parser.add_argument(
        "--no-bag-eval", action="store_true", help="skip the offline bag-eval comparison"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.demo import DemoConfig, run_demo

    cfg = DemoConfig(
        out=args.out,
        checkpoint=args.checkpoint,
        duration=args.duration,
        height=args.size[0],
        width=args.size[1],
        rgb_rate=args.rgb_rate,
        thermal_rate=args.thermal_rate,
        storage=args.storage,
        rate=args.rate,
        seed=args.seed,
        night=args.night,
        device=args.device,
        threads=args.threads,
        backend=args.backend,
        cache_dir=args.cache_dir,
        run_bag_eval=not args.no_bag_eval,
        progress=not args.quiet,
    )
    run_demo(cfg)  # errors reach cli.main (SccosfError: one line, exit 2)
    return 0
