"""Label imports into a generic dataset's ``labels/`` folder (docs/own-data.md, the layout).

Converted labels (CVAT masks, labelme files: anything with ``names``, ``where`` and
``class_ids(classes, size)``) are matched to ``rgb/NAME.png`` by stem, checked against that
image's size, and written as 8-bit class-id PNGs, all or nothing: every label goes to a hidden
temporary name first and only when all of them converted are they renamed into place, so a
corrupt file or an unknown label met halfway leaves ``labels/`` as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from sccosf_ros.class_set import ClassSet
from sccosf_ros.data.errors import DatasetError, DatasetNotFoundError

RGB_DIR = "rgb"
LABELS_DIR = "labels"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class LabelSource(Protocol):
    """One annotated image of an export: the stems it may match and its class ids."""

    @property
    def where(self) -> str: ...

    @property
    def names(self) -> list[str]: ...

    def class_ids(self, classes: ClassSet, size: tuple[int, int] | None = None) -> np.ndarray: ...


def rgb_images(dataset: Path) -> dict[str, Path]:
    """NAME → ``rgb/NAME.png`` of a generic dataset."""
    folder = dataset / RGB_DIR
    if not folder.is_dir():
        raise DatasetNotFoundError(f"{folder}: no such folder; a dataset keeps its images in rgb/")
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) from the image file's header, without decoding its pixels."""
    try:
        with Image.open(path) as im:
            return im.size[1], im.size[0]
    except (UnidentifiedImageError, OSError) as e:
        raise DatasetError(f"cannot read image {path}: {e}") from None


@dataclass
class ImportReport:
    """What an import did: labels converted, exports with no image, images left alone."""

    converted: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # where
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (NAME, why)
    dry_run: bool = False

    def lines(self, max_listed: int = 10) -> list[str]:
        out = [f"unmatched: {w} (no rgb/ image of that name)" for w in self.unmatched[:max_listed]]
        out += [f"skipped: {n}: {why}" for n, why in self.skipped[:max_listed]]
        hidden = max(0, len(self.unmatched) - max_listed) + max(0, len(self.skipped) - max_listed)
        return out + ([f"... and {hidden} more"] if hidden else [])

    def summary(self, labels_dir: Path) -> str:
        verb = "would convert" if self.dry_run else "converted"
        return (
            f"{verb} {len(self.converted)} label(s) into {labels_dir}; "
            f"unmatched {len(self.unmatched)}, skipped {len(self.skipped)}"
        )


class StagedLabels:
    """Label PNGs written under temporary names and renamed into place together on success;
    on an error every staged file is removed."""

    def __init__(self, folder: Path, dry_run: bool = False) -> None:
        self.folder = folder
        self.dry_run = dry_run
        self._staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> StagedLabels:
        return self

    def add(self, name: str, ids: np.ndarray) -> None:
        ok, png = cv2.imencode(".png", np.ascontiguousarray(ids, dtype=np.uint8))
        if not ok:
            raise DatasetError(f"cannot encode the label of {name} as PNG")
        if self.dry_run:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{name}.png"
        tmp = self.folder / f".{name}.png.{os.getpid()}.partial"
        tmp.write_bytes(png.tobytes())
        self._staged.append((tmp, final))

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        if exc_type is None:
            for tmp, final in self._staged:
                os.replace(tmp, final)
        else:
            for tmp, _ in self._staged:
                tmp.unlink(missing_ok=True)
        self._staged.clear()


def _match(source: LabelSource, images: dict[str, Path]) -> str | None:
    return next((n for n in source.names if n in images), None)


def import_labels(
    sources: Iterable[LabelSource],
    dataset: Path,
    classes: ClassSet,
    *,
    overwrite: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Convert every source whose image is in ``dataset/rgb`` into ``dataset/labels``."""
    images = rgb_images(dataset)
    labels = dataset / LABELS_DIR
    report = ImportReport(dry_run=dry_run)
    seen: dict[str, str] = {}
    with StagedLabels(labels, dry_run) as staged:
        for source in sources:
            name = _match(source, images)
            if name is None:
                report.unmatched.append(source.where)
                continue
            if name in seen:
                raise DatasetError(f"{source.where} and {seen[name]} both label rgb/{name}")
            seen[name] = source.where
            if (labels / f"{name}.png").exists() and not overwrite:
                report.skipped.append((name, "labels/ has it already (--overwrite replaces)"))
                continue
            size = image_size(images[name])
            ids = source.class_ids(classes, size)
            if ids.shape != size:
                raise DatasetError(
                    f"{source.where}: the label is {ids.shape[0]}×{ids.shape[1]} (h×w) but "
                    f"{images[name]} is {size[0]}×{size[1]}"
                )
            if (ids == classes.ignore_index).all():
                report.skipped.append((name, f"{source.where} labels no pixel"))
                continue
            staged.add(name, ids)
            report.converted.append(name)
    return report
