"""RGB-thermal segmentation datasets in their real on-disk layouts: MFNet, FMB, synthetic.

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from sccosf_ros.classes import DATASET_CLASSES, IGNORE_INDEX
from sccosf_ros.data.errors import DatasetError, DatasetNotFoundError
from sccosf_ros.data.image_file import read_image
from sccosf_ros.data.synth_metadata import METADATA_FILE, read_metadata
from sccosf_ros.data.transforms import JointTransform
from sccosf_ros.day_night import NIGHT, day_night, mfnet_day_night
from sccosf_ros.thermal import ThermalNorm

DATASET_NAMES = ("mfnet", "fmb", "synthetic")
_IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
# MFNet layouts: name → (rgb folder, thermal folder, label folder); None: 4-channel images/
MFNET_LAYOUTS: dict[str, tuple[str, str | None, str]] = {
    "mfnet": ("images", None, "labels"),
    "rgb_modal": ("RGB", "Modal", "Label"),
    "visible_infrared": ("visible", "infrared", "label"),
}


@dataclass
class RawSample:
    """One sample as stored: ``rgb`` uint8 HxWx3 (RGB order), ``thermal`` uint8 (or uint16
    raw counts / centikelvin) HxW,
    ``label`` uint8 HxW class ids (255 ignore), ``night`` True/False, or None if unknown."""

    name: str
    rgb: np.ndarray
    thermal: np.ndarray
    label: np.ndarray
    night: bool | None


def night_from_name(name: str) -> bool | None:
    """MFNet names end in D (day) or N (night): ``00001D`` → False, ``01234N`` → True."""
    split = mfnet_day_night(name)
    return None if split is None else split == NIGHT


def _read(path: Path, sixteen_bit: bool = False) -> np.ndarray:
    """An 8-bit image (or 8/16-bit for ``sixteen_bit``: thermal counts or centikelvin)."""
    img = read_image(path)
    if img.dtype != np.uint8 and not (sixteen_bit and img.dtype == np.uint16):
        bits = "8- or 16-bit" if sixteen_bit else "8-bit"
        raise DatasetError(f"{path}: expected an {bits} image, got {img.dtype}")
    return img


def _to_gray(img: np.ndarray, path: Path, what: str) -> np.ndarray:
    """1-, 3- or 4-channel PNG → HxW. Equal channels (a grey image saved as BGR) are exact."""
    if img.ndim == 2:
        return img
    if img.ndim == 3 and img.shape[2] in (3, 4):
        bgr = img[..., :3]
        if np.array_equal(bgr[..., 0], bgr[..., 1]) and np.array_equal(bgr[..., 0], bgr[..., 2]):
            return np.ascontiguousarray(bgr[..., 0])
        return cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2GRAY)
    raise DatasetError(f"{path}: expected a 1- or 3-channel {what} image, got shape {img.shape}")


def _read_label(path: Path, num_classes: int) -> np.ndarray:
    img = _read(path)
    if img.ndim == 3:
        b = img[..., 0]
        if not (np.array_equal(b, img[..., 1]) and np.array_equal(b, img[..., 2])):
            raise DatasetError(
                f"{path}: expected a single-channel class-id label image, got a colour image "
                f"(shape {img.shape}); use the id masks, not the colourized ones"
            )
        img = np.ascontiguousarray(b)
    bad = (img >= num_classes) & (img != IGNORE_INDEX)
    if bad.any():
        values = sorted(int(v) for v in np.unique(img[bad]))[:8]
        raise DatasetError(
            f"{path}: label values {values} are out of range: expected class ids "
            f"0..{num_classes - 1} or {IGNORE_INDEX} (ignore)"
        )
    return img


def _check_sizes(
    name: str, rgb: np.ndarray, thermal: np.ndarray, label: np.ndarray, paths: tuple[Path, ...]
) -> None:
    shapes = {"rgb": rgb.shape[:2], "thermal": thermal.shape[:2], "label": label.shape[:2]}
    if len(set(shapes.values())) != 1:
        sizes = ", ".join(f"{k} {v[0]}x{v[1]}" for k, v in shapes.items())
        raise DatasetError(
            f"sample {name!r}: image sizes differ ({sizes}, HxW) in "
            f"{', '.join(str(p) for p in paths)}; RGB, thermal and label must be registered "
            "and of equal size"
        )


def _require_dir(path: Path, what: str) -> None:
    if not path.is_dir():
        raise DatasetNotFoundError(f"{what} folder not found: {path}")


def _find_image(folder: Path, name: str) -> Path | None:
    p = folder / f"{name}.png"
    if p.is_file():
        return p
    for ext in _IMAGE_EXTS[1:]:
        p = folder / f"{name}{ext}"
        if p.is_file():
            return p
    return None


def _find_files(
    names: list[str], folders: Sequence[Path | None], where: str
) -> list[tuple[Path | None, ...]]:
    """Each sample's file in each folder (None for an absent folder); one error lists all gaps."""
    files: list[tuple[Path | None, ...]] = []
    missing: list[Path] = []
    for n in names:
        found: list[Path | None] = []
        for d in folders:
            p = None if d is None else _find_image(d, n)
            if d is not None and p is None:
                missing.append(d / f"{n}.png")
            found.append(p)
        files.append(tuple(found))
    if missing:
        raise _missing_error(missing, where)
    return files


def _missing_error(missing: list[Path], where: str) -> DatasetNotFoundError:
    shown = ", ".join(str(p) for p in missing[:5])
    more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
    return DatasetNotFoundError(
        f"{len(missing)} file(s) named in {where} are missing: {shown}{more}"
    )


Splits = str | Sequence[str]


def split_names(split: Splits) -> tuple[str, ...]:
    """``"train"`` → ``("train",)``; ``["train", "val"]`` → ``("train", "val")``."""
    names = (split,) if isinstance(split, str) else tuple(str(s) for s in split)
    if not names or not all(names):
        raise DatasetError(f"no split named (got {split!r})")
    return names


def _unique(items: list) -> list:
    """Items in first-seen order, each once (a name listed in two split files is one image)."""
    return list(dict.fromkeys(items))


class SegmentationDataset(Dataset):
    """Shared behaviour: names, class names and palette, tensors with the joint transform."""

    name: str = ""

    def __init__(
        self, root: str | os.PathLike, split: Splits, transform: JointTransform | None = None
    ) -> None:
        self.root = Path(root)
        self.splits = split_names(split)
        self.split = "+".join(self.splits)
        self.transform = transform
        # raw thermal → [0, 1] (training sets it from TrainConfig; auto: uint8 / 255)
        self.thermal_norm = ThermalNorm()
        if not self.root.is_dir():
            raise DatasetNotFoundError(
                f"{type(self).__name__}: dataset root not found: {self.root}"
            )
        self.class_names, self.palette = (list(x) for x in DATASET_CLASSES[self.name])
        self.num_classes = len(self.class_names)
        self.meta = read_metadata(self.root)  # present for folders written by `sccosf synth`
        self.synthetic = self.meta is not None
        self.names: list[str] = []

    def __len__(self) -> int:
        return len(self.names)

    def night_of(self, name: str) -> bool | None:
        if self.meta is not None and name in self.meta.get("night", {}):
            return bool(self.meta["night"][name])
        return self._night_from_name(name)

    def _night_from_name(self, name: str) -> bool | None:
        return None

    def split_of(self, name: str) -> str | None:
        """The image's day/night split ("day", "night", None), for ``SegmentationEvaluator``."""
        return day_night(self.night_of(name))

    def paths(self, i: int) -> tuple[Path, ...]:
        """The files sample ``i`` is read from (for messages about a file that fails)."""
        raise NotImplementedError

    def load_raw(self, i: int) -> RawSample:
        raise NotImplementedError

    def __getitem__(self, i: int) -> dict:
        s = self.load_raw(i)
        rgb, thermal, label = s.rgb, s.thermal, s.label
        valid = None
        if self.transform is not None:
            rgb, thermal, label, *rest = self.transform(rgb, thermal, label)
            valid = rest[0] if rest else None
        rgb_t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div_(255.0)
        th_t = torch.from_numpy(self.thermal_norm(np.ascontiguousarray(thermal)))[None]
        lb_t = torch.from_numpy(np.ascontiguousarray(label)).long()
        valid_t = (
            torch.ones(lb_t.shape, dtype=torch.bool)
            if valid is None
            else torch.from_numpy(np.ascontiguousarray(valid)).bool()
        )
        return {
            "rgb": rgb_t,
            "thermal": th_t,
            "label": lb_t,
            "valid": valid_t,
            "name": s.name,
            "night": s.night,
        }

    def __repr__(self) -> str:
        kind = "synthetic " if self.synthetic else ""
        return f"{type(self).__name__}({kind}{self.root}, split={self.split!r}, n={len(self)})"


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
                _require_dir(d, f"MFNet {what}")
        split_files = [self.root / f"{name}.txt" for name in self.splits]
        for split_file in split_files:
            if not split_file.is_file():
                raise DatasetNotFoundError(
                    f"MFNet split file not found: {split_file} (splits present: "
                    f"{', '.join(self.available_splits(self.root)) or 'none'})"
                )
        self.names = _unique([n for f in split_files for n in self._read_split(f)])
        self._files = _find_files(
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

    @staticmethod
    def _read_split(path: Path) -> list[str]:
        names = []
        for line in path.read_text().splitlines():
            item = line.strip()
            if not item or item.startswith("#"):
                continue
            item = os.path.basename(item.split()[0])
            stem, ext = os.path.splitext(item)
            names.append(stem if ext.lower() in _IMAGE_EXTS else item)
        return names

    def _night_from_name(self, name: str) -> bool | None:
        return night_from_name(name)

    def paths(self, i: int) -> tuple[Path, ...]:
        return tuple(p for p in self._files[i] if p is not None)

    def load_raw(self, i: int) -> RawSample:
        name = self.names[i]
        rgb_path, th_path, lb_path = self._files[i]
        img = _read(rgb_path)
        if th_path is None:  # 4-channel MFNet image: OpenCV gives B,G,R,A(=thermal)
            if img.ndim != 3 or img.shape[2] != 4:
                raise DatasetError(
                    f"{rgb_path}: expected a 4-channel (R,G,B,thermal) MFNet image, "
                    f"got shape {img.shape}"
                )
            rgb = np.ascontiguousarray(img[..., 2::-1])
            thermal = np.ascontiguousarray(img[..., 3])
        else:
            rgb = _bgr_to_rgb(img, rgb_path)
            thermal = _to_gray(_read(th_path, True), th_path, "thermal")
        label = _read_label(lb_path, self.num_classes)
        _check_sizes(name, rgb, thermal, label, self.paths(i))
        return RawSample(name, rgb, thermal, label, self.night_of(name))


def _bgr_to_rgb(img: np.ndarray, path: Path) -> np.ndarray:
    if img.ndim == 2:  # a grey visible image
        return np.ascontiguousarray(np.repeat(img[..., None], 3, axis=2))
    if img.ndim == 3 and img.shape[2] in (3, 4):
        return np.ascontiguousarray(img[..., 2::-1])
    raise DatasetError(f"{path}: expected a 3-channel colour image, got shape {img.shape}")


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
            _require_dir(d, "FMB " + d.name)
        names = sorted(p.stem for p in dirs[0].iterdir() if p.suffix.lower() in _IMAGE_EXTS)
        files = _find_files(names, dirs, f"{dirs[0]} (every Visible image needs a pair)")
        return names, files

    def paths(self, i: int) -> tuple[Path, ...]:
        return self._files[i]

    def load_raw(self, i: int) -> RawSample:
        name = self.names[i]
        vis, ir, lb = self._files[i]
        rgb = _bgr_to_rgb(_read(vis), vis)
        thermal = _to_gray(_read(ir, True), ir, "infrared")
        label = _read_label(lb, self.num_classes)
        _check_sizes(name, rgb, thermal, label, self._files[i])
        return RawSample(name, rgb, thermal, label, self.night_of(name))


def build_dataset(
    name: str, root: str | os.PathLike, split: Splits, transform: JointTransform | None = None
) -> SegmentationDataset:
    """``name``: mfnet | fmb | synthetic (a folder written by ``sccosf synth``, whose
    ``sccosf_synth.json`` says which layout it has); ``split``: one split or several (their
    union)."""
    if name == "mfnet":
        return MFNetDataset(root, split, transform)
    if name == "fmb":
        return FMBDataset(root, split, transform)
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
    classes = {"mfnet": MFNetDataset, "fmb": FMBDataset}
    if name not in classes:
        raise DatasetError(f"unknown dataset {name!r}: choose one of {DATASET_NAMES}")
    return classes[name]
