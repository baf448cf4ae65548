"""``sccosf synth OUT``: write a synthetic RGB-thermal dataset in the MFNet or FMB layout, or
with ``--bag`` a rosbag2 recording of an unsynchronized camera pair.

The folder reads back with ``--dataset synthetic --root OUT`` (train/eval) or as a plain
mfnet/fmb dataset; ``OUT/preview.png`` shows a few samples (RGB | thermal | label). A bag plays
like a rig's recording (``sccosf bag-eval``, ``sccosf extract``). ``--style NAME|FILE.yaml``
picks the scenes' look (``synthetic/style.py``: palette, lighting, camera, objects, thermal);
``--classes classes.yaml`` records the bag's labels in a custom class set
(``synthetic/class_map.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_SIZE = {"mfnet": (480, 640), "fmb": (600, 800)}  # (H, W) of the real releases
BAG_SIZE = (240, 320)  # (H, W) of a recording's frames unless --size says otherwise


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="output folder (new or empty)")
    parser.add_argument(
        "--layout",
        choices=("mfnet", "fmb"),
        default="mfnet",
        help="on-disk layout and class set (default: mfnet)",
    )
    parser.add_argument("--n", type=int, default=20, help="number of images (default: 20)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--size",
        type=int,
        nargs=2,
        metavar=("H", "W"),
        default=None,
        help="image size; default 480 640 (mfnet) or 600 800 (fmb)",
    )
    parser.add_argument(
        "--night-fraction",
        type=float,
        default=None,
        help="share of night scenes, 0..1 (default: the style's, 0.5 for default)",
    )
    parser.add_argument(
        "--style",
        default=None,
        metavar="NAME|FILE.yaml",
        help="the scenes' look: default, industrial, suburb-dusk, or a style file "
        "(default: default)",
    )
    _bag_arguments(parser)
    parser.add_argument(
        "--preview",
        type=int,
        default=4,
        help="samples in OUT/preview.png (0: no preview; default: 4)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an earlier `sccosf synth` output in OUT"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _bag_arguments(parser: argparse.ArgumentParser) -> None:
    bag = parser.add_argument_group("recording (--bag)")
    bag.add_argument(
        "--bag", action="store_true", help="write a rosbag2 recording to OUT instead of a dataset"
    )
    bag.add_argument("--duration", type=float, default=10.0, help="seconds (default: 10)")
    bag.add_argument("--rgb-rate", type=float, default=10.0, help="RGB Hz (default: 10)")
    bag.add_argument("--thermal-rate", type=float, default=8.7, help="thermal Hz (default: 8.7)")
    bag.add_argument("--night", action="store_true", help="record the street at night")
    bag.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    bag.add_argument(
        "--classes",
        type=Path,
        default=None,
        metavar="classes.yaml",
        help="label topic in this class set; its classes list the synthetic classes they take "
        "(`synthetic: [car, bike]`)",
    )


def _write_bag(args: argparse.Namespace, style: object) -> int:
    from sccosf_ros.synthetic import BagSettings, write_synthetic_bag
    from sccosf_ros.synthetic.class_map import read_class_map

    h, w = args.size if args.size else BAG_SIZE
    cmap = read_class_map(args.classes, args.layout) if args.classes else None
    settings = BagSettings(
        storage=args.storage,
        duration=args.duration,
        rgb_rate=args.rgb_rate,
        thermal_rate=args.thermal_rate,
        height=h,
        width=w,
        seed=args.seed,
        layout=args.layout,
        night=args.night,
        show_progress=not args.no_progress,
        style=style,
        label_map=cmap.table if cmap else None,
    )
    bag = write_synthetic_bag(args.out, settings)
    print(
        f"wrote {bag.path} ({settings.storage}): {len(bag.rgb_stamps)} RGB, "
        f"{len(bag.thermal_stamps)} thermal, {len(bag.label_stamps)} label frames, {h}x{w}, "
        f"style {settings.style.name}, seed {args.seed}"
    )
    classes = f" ({', '.join(cmap.classes.names)})" if cmap else ""
    print(
        f"topics: {settings.rgb_topic}, {settings.thermal_topic}, {settings.label_topic}{classes}"
    )
    return 0


def _check_bag_flags(args: argparse.Namespace) -> None:
    from sccosf_ros.synthetic import SyntheticError

    if args.bag and args.night_fraction is not None:
        raise SyntheticError("--night-fraction is for datasets; a recording is --night or not")
    if not args.bag and (args.classes is not None or args.night):
        raise SyntheticError("--classes and --night are for recordings: add --bag")
    if args.bag and args.out.exists():
        raise SyntheticError(f"{args.out} exists: a recording goes into a new folder")


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.synthetic.style import load_style

    _check_bag_flags(args)
    style = load_style(args.style)
    if args.bag:
        return _write_bag(args, style)
    return _write_dataset(args, style)


def _write_dataset(args: argparse.Namespace, style: object) -> int:
    from sccosf_ros.data.datasets import build_dataset
    from sccosf_ros.synthetic import DatasetSettings, SyntheticError, preview_grid, write_dataset

    h, w = args.size if args.size else DEFAULT_SIZE[args.layout]
    # bad input raises a SccosfError (SyntheticError, DatasetExistsError): cli.main prints it
    if h < 16 or w < 16:
        raise SyntheticError(f"--size must be at least 16 16, got {h} {w}")
    if args.n < 3:
        raise SyntheticError("--n must be at least 3 (every split needs an image)")
    nf = style.lighting.night_fraction if args.night_fraction is None else args.night_fraction
    if not 0.0 <= nf <= 1.0:
        raise SyntheticError(f"--night-fraction must be in [0, 1], got {nf}")
    settings = DatasetSettings(
        layout=args.layout,
        n=args.n,
        seed=args.seed,
        height=h,
        width=w,
        night_fraction=nf,
        style=style,
    )
    root = write_dataset(
        args.out, settings, progress=not args.no_progress, overwrite=args.overwrite
    )
    splits = ("train", "val", "test") if args.layout == "mfnet" else ("train", "test")
    counts = {split: len(build_dataset("synthetic", root, split)) for split in splits}
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(
        f"wrote {args.n} synthetic {args.layout} images ({h}x{w}, seed {args.seed}, style "
        f"{style.name}) to {root}: "
        f"{summary}"
    )
    if args.preview > 0:
        ds = build_dataset("synthetic", root, "train")
        # alternate day and night samples so the preview shows both
        day = [i for i, n in enumerate(ds.names) if not ds.night_of(n)]
        night = [i for i, n in enumerate(ds.names) if ds.night_of(n)]
        picks = [i for pair in zip(day, night) for i in pair]
        picks += [i for i in day + night if i not in picks]
        samples = [ds.load_raw(i) for i in picks[: args.preview]]
        path = preview_grid(samples, ds.palette, root / "preview.png")
        print(f"preview (RGB | thermal | label): {path}")
    print(f"use it: sccosf train --dataset synthetic --root {root} ...")
    return 0
