"""``sccosf check-dataset``: decode every sample of a dataset and report the ones training would
trip over (unreadable or truncated images, sizes that differ, label ids out of range, missing
files), one line each. The same check runs inside ``sccosf train`` before step 1
(``data/dataset_check.py``).

Exit codes: 0 all samples usable, 2 problems found (or the dataset cannot be opened: a
``DatasetError``, printed by ``sccosf_ros.cli.main`` as one ``error:`` line).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.data.dataset_check import SHOWN_PROBLEMS
    from sccosf_ros.data.datasets import DATASET_NAMES

    parser.add_argument("--dataset", choices=DATASET_NAMES, required=True, help="dataset format")
    parser.add_argument("--root", required=True, help="dataset folder")
    parser.add_argument(
        "--split",
        nargs="+",
        default=None,
        metavar="SPLIT",
        help="splits to check (default: every split in the folder)",
    )
    parser.add_argument(
        "--max-listed",
        type=int,
        default=SHOWN_PROBLEMS,
        metavar="N",
        help=f"bad samples listed by name (default {SHOWN_PROBLEMS}; the rest are counted)",
    )
    parser.add_argument("--workers", type=int, default=None, help="decoding threads")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sccosf_ros.data.dataset_check import check_dataset
    from sccosf_ros.data.datasets import build_dataset, dataset_class
    from sccosf_ros.data.errors import DatasetError, DatasetNotFoundError

    if not Path(args.root).is_dir():
        raise DatasetNotFoundError(f"dataset folder not found: {args.root}")
    splits = args.split or dataset_class(args.dataset, args.root).available_splits(args.root)
    if not splits:
        raise DatasetNotFoundError(
            f"{args.root} holds no {args.dataset} split (split files or folders)"
        )
    datasets = [build_dataset(args.dataset, args.root, s) for s in splits]
    report = check_dataset(datasets, progress=not args.no_progress, workers=args.workers)
    for line in report.lines(max(0, args.max_listed)):
        print(f"sccosf check-dataset: {line}", file=sys.stderr)
    if not report.ok:
        raise DatasetError(report.summary())
    print(report.summary())
    return 0
