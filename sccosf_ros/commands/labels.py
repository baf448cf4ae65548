"""``sccosf labels``: labels from annotation tools into a generic dataset, and what they hold.

``sccosf labels import --format cvat|labelme INPUT --dataset DATASET`` converts a CVAT
"Segmentation mask 1.1" export (the .zip or its folder) or a folder of labelme JSON files into
``DATASET/labels/NAME.png`` (class ids through ``DATASET/classes.yaml``), matched to
``DATASET/rgb/NAME.png`` by stem, all or nothing. ``sccosf labels stats --dataset DATASET``
counts pixels and images per class. docs/own-data.md "Labelling with CVAT or labelme".
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sccosf_ros.class_set import ClassSet

FORMATS = ("cvat", "labelme")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import",
        help="convert a CVAT or labelme export into DATASET/labels/",
        description="convert a CVAT 'Segmentation mask 1.1' export or labelme JSON files into "
        "DATASET/labels/NAME.png class-id PNGs through DATASET/classes.yaml",
    )
    imp.add_argument("--format", choices=FORMATS, required=True, help="the tool that exported")
    imp.add_argument(
        "input", metavar="INPUT", help="CVAT: the .zip or its folder; labelme: a folder or a .json"
    )
    imp.add_argument("--dataset", required=True, help="dataset folder (rgb/, classes.yaml)")
    imp.add_argument("--overwrite", action="store_true", help="replace existing labels/NAME.png")
    imp.add_argument("--dry-run", action="store_true", help="convert and check, write nothing")
    imp.add_argument("--max-listed", type=int, default=10, metavar="N", help="names listed")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")
    stats = sub.add_parser(
        "stats",
        help="pixels and images per class in DATASET/labels/",
        description="pixels and images per class in DATASET/labels/, images labelled",
    )
    stats.add_argument("--dataset", required=True, help="dataset folder (rgb/, classes.yaml)")
    stats.add_argument("--out", default=None, help="also write the table to this Markdown file")
    stats.add_argument(
        "--sheet", default=None, metavar="PNG", help="write a contact sheet: RGB | label | overlay"
    )
    stats.add_argument(
        "--rows", type=int, default=8, metavar="N", help="labelled images on the sheet (default 8)"
    )
    stats.add_argument("--no-progress", action="store_true", help="no progress bar")


def error_prog(args: argparse.Namespace) -> str:
    return f"sccosf labels {args.action}"


def _sources(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[Iterator, int]:
    """The annotated images of the export, lazily, and how many there are."""
    if args.format == "cvat":
        from sccosf_ros.data.cvat_masks import open_cvat_export

        export = stack.enter_context(open_cvat_export(args.input))
        return export.items(), len(export.masks)
    from sccosf_ros.data.labelme_json import find_labelme_files, read_labelme

    files = find_labelme_files(args.input)
    return (read_labelme(f) for f in files), len(files)


def _import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sccosf_ros.class_set import read_class_set
    from sccosf_ros.data.dataset_labels import LABELS_DIR, import_labels
    from sccosf_ros.data.errors import DatasetError

    dataset = Path(args.dataset)
    classes = read_class_set(dataset)
    with contextlib.ExitStack() as stack:
        sources, total = _sources(args, stack)
        if total == 0:
            what = "SegmentationClass/*.png masks" if args.format == "cvat" else ".json files"
            raise DatasetError(f"{args.input}: holds no {what}")
        bar = tqdm(sources, total=total, desc="labels", unit="img", disable=args.no_progress)
        report = import_labels(
            bar, dataset, classes, overwrite=args.overwrite, dry_run=args.dry_run
        )
    for line in report.lines(max(0, args.max_listed)):
        print(f"sccosf labels import: {line}", file=sys.stderr)
    if not report.converted and not report.skipped:
        raise DatasetError(
            f"none of the {total} labelled images of {args.input} is in {dataset}/rgb "
            "(names must match by stem)"
        )
    print(report.summary(dataset / LABELS_DIR))
    return 0


def _stats(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sccosf_ros.class_set import read_class_set
    from sccosf_ros.data.dataset_labels import LABELS_DIR, rgb_images
    from sccosf_ros.data.errors import DatasetError
    from sccosf_ros.data.label_stats import label_stats

    dataset = Path(args.dataset)
    classes = read_class_set(dataset)
    names = list(rgb_images(dataset))
    bar = tqdm(names, desc="labels", unit="img", disable=args.no_progress)
    stats = label_stats(dataset, classes, bar)
    lines = [stats.summary(), "", *stats.table()]
    for line in stats.stray_lines():
        print(f"sccosf labels stats: {line}", file=sys.stderr)
    print("\n".join(lines))
    if args.out:
        _write_text(Path(args.out), f"# Labels of {dataset}\n\n" + "\n".join(lines) + "\n")
    if args.sheet and stats.labelled and not stats.strays:
        with_labels = [n for n in names if (dataset / LABELS_DIR / f"{n}.png").is_file()]
        _write_sheet(dataset, classes, with_labels[: max(1, args.rows)], args.sheet)
    if stats.strays:
        values = ", ".join(str(v) for v in sorted(stats.strays))
        raise DatasetError(
            f"labels/ holds value(s) {values} that are neither a class id nor the ignore value "
            f"of {dataset}/classes.yaml: made for another class set?"
        )
    return 0


def _write_text(path: Path, text: str) -> None:
    from sccosf_ros.errors import SccosfError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise SccosfError(f"could not write {path}: {e.strerror or e}") from None


def _write_sheet(dataset: Path, classes: ClassSet, names: list[str], out: str) -> None:
    """RGB | label colours | label over RGB for each of ``names`` (classes.yaml's colours)."""
    import cv2
    import numpy as np

    from sccosf_ros.bag.contact_sheet import contact_sheet, save_png
    from sccosf_ros.classes import IGNORE_INDEX, colorize, overlay
    from sccosf_ros.data.dataset_labels import LABELS_DIR, rgb_images
    from sccosf_ros.data.image_file import read_image

    images = rgb_images(dataset)
    rows = []
    for name in names:
        rgb = cv2.cvtColor(read_image(images[name])[..., :3], cv2.COLOR_BGR2RGB)
        label = read_image(dataset / LABELS_DIR / f"{name}.png")
        label = np.where(label == classes.ignore_index, IGNORE_INDEX, label).astype(np.uint8)
        rows.append([rgb, colorize(label, classes.palette), overlay(rgb, label, classes.palette)])
    columns = ["RGB", "label", "label over RGB"]
    print(f"contact sheet: {save_png(out, contact_sheet(rows, columns, names))}")


def run(args: argparse.Namespace) -> int:
    return _import(args) if args.action == "import" else _stats(args)
