"""``sccosf synth OUT``: write a synthetic RGB-thermal dataset in the MFNet or FMB layout.

The folder reads back with ``--dataset synthetic --root OUT`` (train/eval) or as a plain
mfnet/fmb dataset; ``OUT/preview.png`` shows a few samples (RGB | thermal | label).
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_SIZE = {"mfnet": (480, 640), "fmb": (600, 800)}  # (H, W) of the real releases


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
        default=0.5,
        help="share of night scenes, 0..1 (default: 0.5)",
    )
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


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.data.datasets import build_dataset
    from sccosf_ros.synthetic import DatasetSettings, SyntheticError, preview_grid, write_dataset

    h, w = args.size if args.size else DEFAULT_SIZE[args.layout]
    # bad input raises a SccosfError (SyntheticError, DatasetExistsError): cli.main prints it
    if h < 16 or w < 16:
        raise SyntheticError(f"--size must be at least 16 16, got {h} {w}")
    if args.n < 3:
        raise SyntheticError("--n must be at least 3 (every split needs an image)")
    if not 0.0 <= args.night_fraction <= 1.0:
        raise SyntheticError(f"--night-fraction must be in [0, 1], got {args.night_fraction}")
    settings = DatasetSettings(
        layout=args.layout,
        n=args.n,
        seed=args.seed,
        height=h,
        width=w,
        night_fraction=args.night_fraction,
    )
    root = write_dataset(
        args.out, settings, progress=not args.no_progress, overwrite=args.overwrite
    )
    splits = ("train", "val", "test") if args.layout == "mfnet" else ("train", "test")
    counts = {split: len(build_dataset("synthetic", root, split)) for split in splits}
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(
        f"wrote {args.n} synthetic {args.layout} images ({h}x{w}, seed {args.seed}) to {root}: "
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
