"""What a generic dataset's ``labels/`` holds: pixels and images per class, images labelled.

A quick look before fine-tuning: a class with a handful of pixels will not be learnt, and a
label value that is neither a class id nor classes.yaml's ignore value means the labels were
made for another class set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sccosf_ros.class_set import ClassSet
from sccosf_ros.data.dataset_labels import LABELS_DIR, image_size, rgb_images
from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.image_file import read_image
from sccosf_ros.tables import markdown_table


@dataclass
class LabelStats:
    """Per-class pixel and image counts over the labels of a dataset's images."""

    classes: ClassSet
    images: int = 0
    labelled: int = 0
    ignored: int = 0
    pixels: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=np.int64))
    images_with: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=np.int64))
    strays: dict[int, list[str]] = field(default_factory=dict)  # value → label files

    def add(self, name: str, label: np.ndarray) -> None:
        counts = np.bincount(label.ravel(), minlength=256)
        self.labelled += 1
        self.pixels += counts
        self.images_with += counts > 0
        self.ignored += int(counts[self.classes.ignore_index])
        for value in np.flatnonzero(counts).tolist():
            if value >= self.classes.num_classes and value != self.classes.ignore_index:
                self.strays.setdefault(value, []).append(name)

    def table(self) -> list[str]:
        """A Markdown table: class, id, pixels, share of labelled pixels, images it is in."""
        k = self.classes.num_classes
        total = max(1, int(self.pixels[:k].sum()))
        rows = [
            [
                name,
                str(i),
                str(int(self.pixels[i])),
                f"{self.pixels[i] / total:.1%}",
                str(int(self.images_with[i])),
            ]
            for i, name in enumerate(self.classes.names)
        ]
        rows.append(
            [
                "(unlabelled)",
                str(self.classes.ignore_index),
                str(self.ignored),
                "",
                str(int(self.images_with[self.classes.ignore_index])),
            ]
        )
        return markdown_table(["class", "id", "pixels", "share", "images"], rows)

    def summary(self) -> str:
        return f"{self.labelled} of {self.images} images labelled"

    def stray_lines(self) -> list[str]:
        return [
            f"label value {v} is no class of classes.yaml (ids 0-{self.classes.num_classes - 1},"
            f" ignore {self.classes.ignore_index}) in {len(names)} file(s), e.g. {names[0]}"
            for v, names in sorted(self.strays.items())
        ]


def label_stats(
    dataset: Path, classes: ClassSet, names: Iterable[str] | None = None
) -> LabelStats:
    """Count the labels of ``dataset``'s rgb/ images (all of them, or ``names``); a label of
    another size than its image is an error naming both."""
    stats = LabelStats(classes)
    images = rgb_images(dataset)
    for name in names if names is not None else images:
        stats.images += 1
        path = dataset / LABELS_DIR / f"{name}.png"
        if not path.is_file():
            continue
        label = read_image(path)
        if label.ndim != 2 or label.dtype != np.uint8:
            raise DatasetError(f"{path}: a label must be an 8-bit single-channel PNG")
        size = image_size(images[name])
        if label.shape != size:
            raise DatasetError(
                f"{path} is {label.shape[0]}×{label.shape[1]} (h×w) but {images[name]} is "
                f"{size[0]}×{size[1]}"
            )
        stats.add(path.name, label)
    return stats
