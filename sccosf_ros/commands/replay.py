"""``sccosf replay``: publish a rosbag2's messages through rclpy with their recorded timing and
``/clock`` (like ``ros2 bag play --clock``), see ``sccosf_ros.bag.replay``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sccosf_ros.errors import SccosfError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.arg_types import non_negative_float, positive_int
    from sccosf_ros.pipeline.params import RELIABILITIES

    parser.add_argument("bag", type=Path, help="rosbag2 directory (or a .db3/.mcap file)")
    parser.add_argument("--rate", type=float, default=1.0, help="playback speed factor")
    parser.add_argument(
        "--clock",
        action="store_true",
        help="publish /clock with the bag's time (for use_sim_time nodes)",
    )
    parser.add_argument(
        "--clock-hz",
        type=float,
        default=100.0,
        help="/clock rate between messages (default 100 Hz)",
    )
    parser.add_argument("--loop", action="store_true", help="play again until Ctrl-C")
    parser.add_argument(
        "--topics",
        nargs="+",
        default=None,
        help="only these topics (default: every topic rclpy can publish)",
    )
    parser.add_argument(
        "--qos",
        choices=RELIABILITIES,
        default="reliable",
        help="publisher reliability (reliable also reaches best-effort subscribers)",
    )
    parser.add_argument("--depth", type=positive_int, default=10, help="publisher history depth")
    parser.add_argument(
        "--start-delay",
        type=non_negative_float,
        default=0.0,
        help="seconds to wait after creating publishers (discovery)",
    )
    parser.add_argument(
        "--wait-subscribers",
        type=non_negative_float,
        default=0.0,
        help="wait up to S seconds for a subscriber on each image topic (label topics left "
        "out), or on each of --topics",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.bag.replay import ReplayConfig, run_replay

    cfg = ReplayConfig(
        bag=args.bag,
        rate=args.rate,
        clock=args.clock,
        clock_hz=args.clock_hz,
        loop=args.loop,
        topics=args.topics,
        qos=args.qos,
        depth=args.depth,
        start_delay=args.start_delay,
        wait_subscribers=args.wait_subscribers,
        progress=not args.quiet,
    )
    stats = run_replay(cfg)  # bad input raises a SccosfError: cli.main prints it
    n = sum(stats.published.values())
    if stats.error is not None:  # a bag that broke part-way: not bad input, exit code 1
        raise SccosfError(f"{stats.error}; published {n} messages before it", exit_code=1)
    if stats.damaged is not None:  # the rest of the bag was played: not bad input either
        raise SccosfError(f"{stats.damaged}; published the other {n} messages", exit_code=1)
    print(
        f"published {n} messages on {len(stats.published)} topic(s) in {stats.wall_s:.1f} s"
        f" (bag span {stats.bag_span_s:.1f} s, rate {cfg.rate}); /clock messages: "
        f"{stats.clock_messages}" + ("; interrupted" if stats.interrupted else "")
    )
    for topic, count in sorted(stats.published.items()):
        print(f"  {topic}: {count}")
    return 130 if stats.interrupted else 0
