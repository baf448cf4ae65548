"""RGB-thermal segmentation datasets in their real on-disk layouts: MFNet, FMB, synthetic, folder.

MFNet (Ha et al. 2017), as released: ``images/<name>.png`` with 4 channels R,G,B,thermal (OpenCV
reads them as B,G,R,A), ``labels/<name>.png`` with ids 0–8, split files ``train.txt``,
``val.txt``, ``test.txt`` (+ ``test_day.txt``, ``test_night.txt``); names end in D (day) or N
(night). The processed copies used by CMX/Sigma (``RGB/ Modal/ Label/``) and MRFS
(``visible/ infrared/ label/``) hold the same images split by modality; the layout is detected.

FMB (Liu et al. 2023, SegMiF): ``{train,test}/{Visible,Infrared,Label}/<name>.png``, 800×600,
15 classes; infrared PNGs may be 1- or 3-channel.

A synthetic dataset is a folder written by ``sccosf synth`` in one of these layouts plus
``sccosf_synth.json`` (its layout and per-image day/night).

``load_raw`` gives numpy arrays (uint8 RGB order); ``__getitem__`` applies the joint transform
(see transforms.py) and returns tensors for training, with the ``valid`` mask of the pixels that
are image (not crop padding).

``split`` may name several splits (``("train", "val")``: Sigma's MFNet protocol trains on both);
the dataset is their union in the given order, each image once.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sccosf_ros.data.errors import DatasetError, DatasetNotFoundError
from sccosf_ros.data.folder_dataset import FolderDataset
from sccosf_ros.data.segmentation_dataset import (
    IMAGE_EXTS,
    RawSample,
    SegmentationDataset,
    Splits,
    bgr_to_rgb,
    check_sizes,
    find_files,
    night_from_name,
    read_file,
    read_label,
    read_split_file,
    require_dir,
    split_names,
    to_gray,
    unique_names,
)
from sccosf_ros.data.synth_metadata import METADATA_FILE, read_metadata
from sccosf_ros.data.transforms import JointTransform

__all__ = [  # the readers, and what their callers import from here
    "DATASET_NAMES",
    "FMBDataset",
    "FolderDataset",
    "MFNetDataset",
    "RawSample",
    "SegmentationDataset",
    "build_dataset",
    "dataset_class",
    "night_from_name",
    "split_names",
]

DATASET_NAMES = ("mfnet", "fmb", "synthetic", "folder")
# MFNet layouts: name → (rgb folder, thermal folder, label folder); None: 4-channel images/
MFNET_LAYOUTS: dict[str, tuple[str, str | None, str]] = {
    "mfnet": ("images", None, "labels"),
    "rgb_modal": ("RGB", "Modal", "Label"),
    "visible_infrared": ("visible", "infrared", "label"),
}


class MFNetDataset(SegmentationDataset):
    """MFNet in its release layout or a processed one (``layout``: auto|mfnet|rgb_modal|
    visible_infrared); each split names a ``<split>.txt`` in the root."""

    name = "mfnet"

    def __init__(
        self,
        root: str | os.PathLike,
        split: Splits,
        transform: JointTransform | None = None,
        layout: str = "auto",
    ) -> None:
        super().__init__(root, split, transform)
        self.layout = self._detect_layout() if layout == "auto" else layout
        if self.layout not in MFNET_LAYOUTS:
            raise DatasetError(
                f"unknown MFNet layout {layout!r}: choose auto or {list(MFNET_LAYOUTS)}"
            )
        rgb_dir, th_dir, lb_dir = MFNET_LAYOUTS[self.layout]
        self.rgb_dir = self.root / rgb_dir
        self.thermal_dir = None if th_dir is None else self.root / th_dir
        self.label_dir = self.root / lb_dir
        for d, what in (
            (self.rgb_dir, "image"),
            (self.thermal_dir, "thermal"),
            (self.label_dir, "label"),
        ):
            if d is not None:
                require_dir(d, f"MFNet {what}")
        split_files = [self.root / f"{name}.txt" for name in self.splits]
        for split_file in split_files:
            if not split_file.is_file():
                raise DatasetNotFoundError(
                    f"MFNet split file not found: {split_file} (splits present: "
                    f"{', '.join(self.available_splits(self.root)) or 'none'})"
                )
        self.names = unique_names([n for f in split_files for n in read_split_file(f)])
        self._files = find_files(
            self.names,
            (self.rgb_dir, self.thermal_dir, self.label_dir),
            " + ".join(str(f) for f in split_files),
        )

    @staticmethod
    def available_splits(root: str | os.PathLike) -> list[str]:
        """The split files in ``root`` (``train``, ``val``, ``test``, ...), sorted."""
        return sorted(p.stem for p in Path(root).glob("*.txt"))

    def _detect_layout(self) -> str:
        for layout, folders in MFNET_LAYOUTS.items():
            if all((self.root / f).is_dir() for f in folders if f is not None):
                return layout
        options = "; ".join(
            "/".join(f + "/" for f in folders if f is not None)
            for folders in MFNET_LAYOUTS.values()
        )
        raise DatasetNotFoundError(
            f"{self.root} is not an MFNet dataset: expected folders {options}"
        )

    def _night_from_name(self, name: str) -> bool | None:
        return night_from_name(name)

    def paths(self, i: int) -> tuple[Path, ...]:
        return tuple(p for p in self._files[i] if p is not None)

    def load_raw(self, i: int) -> RawSample:
        name = self.names[i]
        rgb_path, th_path, lb_path = self._files[i]
        img = read_file(rgb_path)
        if th_path is None:  # 4-channel MFNet image: OpenCV gives B,G,R,A(=thermal)
            if img.ndim != 3 or img.shape[2] != 4:
                raise DatasetError(
                    f"{rgb_path}: expected a 4-channel (R,G,B,thermal) MFNet image, "
                    f"got shape {img.shape}"
                )
            rgb = np.ascontiguousarray(img[..., 2::-1])
            thermal = np.ascontiguousarray(img[..., 3])
        else:
            rgb = bgr_to_rgb(img, rgb_path)
            thermal = to_gray(read_file(th_path, True), th_path, "thermal")
        label = read_label(lb_path, self.num_classes)
        check_sizes(name, rgb, thermal, label, self.paths(i))
        return RawSample(name, rgb, thermal, label, self.night_of(name))


class FMBDataset(SegmentationDataset):
    """FMB: each split is a folder (train or test) holding Visible/, Infrared/, Label/."""

    name = "fmb"
    FOLDERS = ("Visible", "Infrared", "Label")

    def __init__(
        self, root: str | os.PathLike, split: Splits, transform: JointTransform | None = None
    ) -> None:
        super().__init__(root, split, transform)
        self.names, self._files = [], []
        for part in self.splits:
            names, files = self._read_split(part)
            self.names += names
            self._files += files

    @classmethod
    def available_splits(cls, root: str | os.PathLike) -> list[str]:
        """The split folders in ``root`` (those with a ``Visible/`` folder), sorted."""
        return sorted(p.name for p in Path(root).iterdir() if (p / cls.FOLDERS[0]).is_dir())

    def _read_split(self, split: str) -> tuple[list[str], list[tuple[Path, ...]]]:
        base = self.root / split
        if not base.is_dir():
            have = sorted(p.name for p in self.root.iterdir() if p.is_dir())
            raise DatasetNotFoundError(
                f"FMB split folder not found: {base} (expected {self.root}/{{train,test}}/"
                f"{{Visible,Infrared,Label}}; folders present: {have or 'none'})"
            )
        dirs = [base / f for f in self.FOLDERS]
        for d in dirs:
            require_dir(d, "FMB " + d.name)
        names = sorted(p.stem for p in dirs[0].iterdir() if p.suffix.lower() in IMAGE_EXTS)
        files = find_files(names, dirs, f"{dirs[0]} (every Visible image needs a pair)")
        return names, files

    def paths(self, i: int) -> tuple[Path, ...]:
        return self._files[i]

    def load_raw(self, i: int) -> RawSample:
        name = self.names[i]
        vis, ir, lb = self._files[i]
        rgb = bgr_to_rgb(read_file(vis), vis)
        thermal = to_gray(read_file(ir, True), ir, "infrared")
        label = read_label(lb, self.num_classes)
        check_sizes(name, rgb, thermal, label, self._files[i])
        return RawSample(name, rgb, thermal, label, self.night_of(name))


def build_dataset(
    name: str, root: str | os.PathLike, split: Splits, transform: JointTransform | None = None
) -> SegmentationDataset:
    """``name``: mfnet | fmb | synthetic (a folder written by ``sccosf synth``, whose
    ``sccosf_synth.json`` says which layout it has) | folder (the generic layout of
    ``folder_dataset``: ``sccosf extract``, hand-made data); ``split``: one split or several
    (their union)."""
    if name in ("mfnet", "fmb", "folder"):
        return dataset_class(name, root)(root, split, transform)
    if name == "synthetic":
        if not Path(root).is_dir():
            raise DatasetNotFoundError(f"synthetic dataset root not found: {root}")
        meta = read_metadata(root)
        if meta is None:
            raise DatasetNotFoundError(
                f"{root} has no {METADATA_FILE}: it was not written by `sccosf synth` "
                "(write one with `sccosf synth DIR`, or use mfnet/fmb for a real dataset)"
            )
        return build_dataset(meta["layout"], root, split, transform)
    raise DatasetError(f"unknown dataset {name!r}: choose one of {DATASET_NAMES}")


def dataset_class(name: str, root: str | os.PathLike) -> type[SegmentationDataset]:
    """The reader class of ``name`` (a synthetic folder: the class of its layout)."""
    if name == "synthetic":
        meta = read_metadata(root)
        if meta is None:
            raise DatasetNotFoundError(
                f"{root} has no {METADATA_FILE}: it was not written by `sccosf synth`"
            )
        name = meta["layout"]
    classes = {"mfnet": MFNetDataset, "fmb": FMBDataset, "folder": FolderDataset}
    if name not in classes:
        raise DatasetError(f"unknown dataset {name!r}: choose one of {DATASET_NAMES}")
    return classes[name]
