"""``sccosf calibrate``: thermal → RGB homography from a heated calibration board; writes the
node parameter file ``registration.homography`` needs (see ``sccosf_ros.calibration``).

    sccosf calibrate --rgb rgb/ --thermal thermal/ --pattern 9x6 --out rig.yaml
    sccosf calibrate --bag rig_bag --rgb-topic /cam/image_raw --thermal-topic /flir/image_raw \\
        --pattern 9x6 --out rig.yaml
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.calibration.board import BOARDS

    src = parser.add_argument_group("image pairs (two folders, or a bag)")
    src.add_argument("--rgb", type=Path, help="folder of RGB images")
    src.add_argument(
        "--thermal",
        type=Path,
        help="folder of thermal images (8/16-bit), paired with --rgb by file name",
    )
    src.add_argument("--bag", type=Path, help="rosbag2 (directory or .db3/.mcap file)")
    src.add_argument("--rgb-topic", help="RGB topic in --bag (Image or CompressedImage)")
    src.add_argument("--thermal-topic", help="thermal topic in --bag (Image or CompressedImage)")
    src.add_argument(
        "--slop",
        type=float,
        default=0.02,
        help="largest RGB/thermal stamp difference of a bag pair in s (default 0.02: a moving "
        "board must be seen at the same moment)",
    )
    src.add_argument(
        "--interval",
        type=float,
        default=0.5,
        help="seconds between the bag pairs looked at (default 0.5)",
    )
    src.add_argument(
        "--thermal-crop",
        type=int,
        nargs=4,
        default=(0, 0, 0, 0),
        metavar=("TOP", "BOTTOM", "LEFT", "RIGHT"),
        help="pixels cut off each thermal image first, as the node's thermal.crop (e.g. 0 2 0 0 "
        "for a raw Boson's telemetry rows); written to --out with the homography",
    )
    parser.add_argument(
        "--pattern",
        required=True,
        help="COLSxROWS of inner corners (checkerboard) or circles, e.g. 9x6",
    )
    parser.add_argument("--board", choices=BOARDS, default="checkerboard", help="board kind")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="node parameter file to write (e.g. rig.yaml); <out>_overlay.png and "
        "<out>_calibration.json are written beside it",
    )
    parser.add_argument(
        "--min-pairs",
        type=int,
        default=3,
        help="pairs with the board found in both images needed (default 3)",
    )
    parser.add_argument(
        "--ransac-px",
        type=float,
        default=3.0,
        help="RANSAC inlier threshold in RGB pixels (default 3; at least one thermal pixel's "
        "worth, which beside a small thermal core is more)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _warn(message: str) -> None:
    print(f"sccosf calibrate: warning: {message}", file=sys.stderr)


def _frames(args: argparse.Namespace):
    """The pair source the arguments name, its description, and the parameters it implies."""
    from sccosf_ros.calibration.errors import CalibrationError
    from sccosf_ros.calibration.frames import BagFrames, FolderFrames

    folders = args.rgb is not None or args.thermal is not None
    if folders == (args.bag is not None):
        raise CalibrationError(
            "give either --rgb DIR --thermal DIR or --bag BAG (with its topics)"
        )
    if folders:
        if args.rgb is None or args.thermal is None:
            raise CalibrationError("--rgb and --thermal go together: two folders of image pairs")
        return FolderFrames(args.rgb, args.thermal, _warn), f"{args.rgb} + {args.thermal}", {}
    if not args.rgb_topic or not args.thermal_topic:
        raise CalibrationError("--bag needs --rgb-topic and --thermal-topic")
    if not args.slop > 0 or args.interval < 0:
        raise CalibrationError("--slop must be > 0 and --interval >= 0 seconds")
    frames = BagFrames(
        args.bag, args.rgb_topic, args.thermal_topic, args.slop, args.interval, _warn
    )

    def transports() -> dict[str, str]:  # known once the bag has been read
        return {f"{k}_transport": v for k, v in frames.transports.items()}

    return frames, str(args.bag), transports


def _print_pair(p) -> None:  # noqa: ANN001 - a PairResult
    def yes(b: bool) -> str:
        return "yes" if b else "no"

    def num(v: float | None) -> str:
        return f"{v:.3f}" if v is not None else "-"

    board = p.thermal_board
    size = f"{board.width_px:.0f}x{board.height_px:.0f}" if board and p.thermal_found else "-"
    if p.too_small:
        note = (
            f"   skipped: board too small in thermal ({board}, squares of about "
            f"{board.square_px:.1f} px)"
        )
    elif not p.used:
        note = "   skipped: no board found"
    elif board is not None and board.too_small:
        note = f"   small in thermal: squares of {board.square_px:.1f} px"
    else:
        note = ""
    print(
        f"  {p.name:<20} {yes(p.rgb_found):<5} {yes(p.thermal_found):<8} "
        f"{num(p.error_px):<9} {num(p.error_thermal_px):<10} {size:<8}{note}"
    )


def _print_pairs(pairs: list) -> None:
    if not pairs:
        return
    print(
        f"  {'pair':<20} {'RGB':<5} {'thermal':<8} {'error px':<9} {'thermal px':<10} "
        "board in thermal"
    )
    for p in pairs:
        _print_pair(p)
    sys.stdout.flush()  # before the error line on stderr


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.calibration.board import parse_pattern
    from sccosf_ros.calibration.calibrate import calibrate
    from sccosf_ros.calibration.errors import CalibrationError

    # bad input (options, folders, bag, no board) raises a SccosfError: cli.main prints it
    spec = parse_pattern(args.pattern, args.board)
    if args.min_pairs < 1:
        raise CalibrationError("--min-pairs must be >= 1")
    if min(args.thermal_crop) < 0:
        raise CalibrationError("--thermal-crop takes 4 pixel counts >= 0: TOP BOTTOM LEFT RIGHT")
    frames, source, extra = _frames(args)
    try:
        result = calibrate(
            frames,
            spec,
            args.out,
            min_pairs=args.min_pairs,
            ransac_px=args.ransac_px,
            extra_params=extra,
            source=source,
            progress=not args.quiet,
            thermal_crop=tuple(args.thermal_crop),
        )
    except CalibrationError as e:
        _print_pairs(e.pairs)  # which pairs failed, and why (too small), above the error
        raise
    _print_pairs(result.pairs)
    fit = result.fit
    skipped = sum(not p.used for p in result.pairs)
    (th, tw), (rh, rw) = result.thermal_size, result.rgb_size
    print(
        f"mean reprojection error {fit.mean_error:.3f} px ({rw}x{rh} RGB), "
        f"{fit.mean_error_thermal:.3f} thermal px ({tw}x{th}) over {len(fit.pair_errors)} pairs "
        f"({fit.inliers}/{fit.points} corners inliers; {skipped} pair(s) skipped)"
    )
    print("registration.homography: [" + ", ".join(f"{v:.6g}" for v in fit.H.ravel()) + "]")
    print(f"parameter file: {result.params_file}")
    print(f"overlay:        {result.overlay_file}  (thermal edges over RGB, before | after)")
    print(f"report:         {result.report_file}")
    return 0
