"""``sccosf web --topics T [T ...]``: the node's live web view as a standalone viewer of any
image topics (a running robot, or a bag played with ``sccosf replay``); see
``sccosf_ros.ros.web.viewer``. Defaults are the node's ``web.*`` parameters."""

from __future__ import annotations

import argparse

from sccosf_ros.pipeline.param_table import SPECS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--topics",
        nargs="+",
        required=True,
        help="image topics to show (sensor_msgs/Image; names ending in /compressed: "
        "CompressedImage), e.g. /sccosf/overlay /camera/color/image_raw",
    )
    for opt, key, kind in (
        ("--port", "web.port", int),
        ("--bind", "web.bind", str),
        ("--max-fps", "web.max_fps", float),
        ("--quality", "web.quality", int),
        ("--max-clients", "web.max_clients", int),
    ):
        spec = SPECS[key]
        parser.add_argument(
            opt, type=kind, default=spec.default, help=f"{spec.description} ({spec.default})"
        )
    parser.add_argument(
        "--diagnostics", default="/diagnostics", help="diagnostics topic (/diagnostics)"
    )
    parser.add_argument(
        "--label-info",
        default="/sccosf/label_info",
        help="the node's label_info topic, for the class legend (/sccosf/label_info)",
    )


def run(args: argparse.Namespace) -> int:
    # The server and the rclpy viewer are imported here, so `sccosf --help` loads no ROS.
    from sccosf_ros.ros.web.server import WebConfig
    from sccosf_ros.ros.web.viewer import ViewerConfig, run_viewer

    web = WebConfig(
        port=args.port,
        bind=args.bind,
        max_fps=args.max_fps,
        quality=args.quality,
        max_clients=args.max_clients,
    )
    web.check()  # WebError: one line, exit code 2
    return run_viewer(
        ViewerConfig(
            topics=tuple(args.topics),
            web=web,
            diagnostics=args.diagnostics,
            label_info=args.label_info,
        )
    )
