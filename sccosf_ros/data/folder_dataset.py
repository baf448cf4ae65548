"""A team's own data in the generic folder layout (``folder_layout``): ``--dataset folder``.

The class set comes from the folder's ``classes.yaml`` (names, colours; its ``ignore_index`` is
mapped to 255 inside the package), so a checkpoint trained on it carries that class set. Labels
are optional per sample: a sample without ``labels/NAME.png`` is all ignore (255), so only the
fusion loss learns from it. Thermal is normalised exactly as the node normalised it when the
data was recorded: ``dataset.yaml``'s ``thermal_norm`` (the node's ``ThermalNorm``, the same
function the node calls), after the PNG values are turned back into what the node saw
(``ThermalPng``). A hand-made folder without ``dataset.yaml`` (8-bit thermal) uses the
normalisation the caller sets (training: its ``--thermal-norm``; default ``auto``: uint8/255).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sccosf_ros.class_set import CLASSES_FILE, ClassSetError, read_class_set
from sccosf_ros.classes import IGNORE_INDEX
from sccosf_ros.data.errors import DatasetError, DatasetNotFoundError
from sccosf_ros.data.folder_layout import (
    DATASET_FILE,
    LABEL_DIR,
    RGB_DIR,
    SPLIT_DIR,
    THERMAL_DIR,
    ThermalPng,
    read_dataset_yaml,
)
from sccosf_ros.data.segmentation_dataset import (
    RawSample,
    SegmentationDataset,
    Splits,
    bgr_to_rgb,
    check_sizes,
    find_files,
    find_image,
    read_file,
    read_label,
    read_split_file,
    require_dir,
    to_gray,
    unique_names,
)
from sccosf_ros.data.transforms import JointTransform
from sccosf_ros.thermal import ThermalNorm


def recorded_thermal_norm(root: str | os.PathLike) -> ThermalNorm | None:
    """The thermal normalisation the node used when the folder was extracted (dataset.yaml),
    or None (a hand-made folder, or a node normalisation that was not known)."""
    meta = read_dataset_yaml(root)
    d = None if meta is None else meta.get("thermal_norm")
    if d is None:
        return None
    try:
        return ThermalNorm.from_dict(d)
    except (TypeError, ValueError) as e:
        raise DatasetError(f"{Path(root) / DATASET_FILE}: thermal_norm: {e}") from None


class FolderDataset(SegmentationDataset):
    """``rgb/``, ``thermal/``, optional ``labels/``, ``splits/<split>.txt``, ``classes.yaml``."""

    name = "folder"

    def __init__(
        self,
        root: str | os.PathLike,
        split: Splits,
        transform: JointTransform | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        """``names``: read these samples instead of the split files' (``split`` then only
        names the selection, e.g. ``"contact sheet"``)."""
        super().__init__(root, split, transform)
        try:
            self.class_set = read_class_set(self.root / CLASSES_FILE)
        except ClassSetError as e:
            raise DatasetNotFoundError(str(e)) from None
        self.class_names = list(self.class_set.names)
        self.palette = [tuple(c) for c in self.class_set.palette]
        self.num_classes = self.class_set.num_classes
        meta = read_dataset_yaml(self.root) or {}
        self.thermal_png = ThermalPng.from_dict(
            meta.get("thermal_png"), str(self.root / DATASET_FILE)
        )
        norm = recorded_thermal_norm(self.root)
        if norm is not None:
            self.thermal_norm = norm
        self.rgb_dir, self.thermal_dir = self.root / RGB_DIR, self.root / THERMAL_DIR
        self.label_dir = self.root / LABEL_DIR
        require_dir(self.rgb_dir, "folder dataset RGB")
        require_dir(self.thermal_dir, "folder dataset thermal")
        if names is not None:
            self.names = list(names)
            self._files = find_files(self.names, (self.rgb_dir, self.thermal_dir), str(self.root))
            return
        files = [self.root / SPLIT_DIR / f"{s}.txt" for s in self.splits]
        for f in files:
            if not f.is_file():
                raise DatasetNotFoundError(
                    f"split file not found: {f} (splits present: "
                    f"{', '.join(self.available_splits(self.root)) or 'none'})"
                )
        self.names = unique_names([n for f in files for n in read_split_file(f)])
        where = " + ".join(str(f) for f in files)
        self._files = find_files(self.names, (self.rgb_dir, self.thermal_dir), where)

    @staticmethod
    def available_splits(root: str | os.PathLike) -> list[str]:
        """The split files in ``root/splits`` (``train``, ``val``, ``test``, ...), sorted."""
        return sorted(p.stem for p in (Path(root) / SPLIT_DIR).glob("*.txt"))

    def label_path(self, i: int) -> Path | None:
        """The sample's label file, or None when it has none (every pixel ignored)."""
        return find_image(self.label_dir, self.names[i]) if self.label_dir.is_dir() else None

    def paths(self, i: int) -> tuple[Path, ...]:
        label = self.label_path(i)
        return self._files[i] + ((label,) if label is not None else ())

    def load_raw(self, i: int) -> RawSample:
        name = self.names[i]
        rgb_path, th_path = self._files[i]
        rgb = bgr_to_rgb(read_file(rgb_path), rgb_path)
        thermal = self.thermal_png.decode(to_gray(read_file(th_path, True), th_path, "thermal"))
        label_path = self.label_path(i)
        if label_path is None:
            label = np.full(rgb.shape[:2], IGNORE_INDEX, np.uint8)
        else:
            label = read_label(label_path, self.num_classes, self.class_set.ignore_index)
        check_sizes(name, rgb, thermal, label, self.paths(i))
        return RawSample(name, rgb, thermal, label, self.night_of(name))
