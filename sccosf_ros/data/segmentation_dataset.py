"""What every dataset reader shares: ``SegmentationDataset`` (names, classes, tensors with the
joint transform) and the reading of its files (images, label ids, split files), with errors
that name the file and what is wrong.
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
from sccosf_ros.data.synth_metadata import read_metadata
from sccosf_ros.data.transforms import JointTransform
from sccosf_ros.day_night import NIGHT, day_night, mfnet_day_night
from sccosf_ros.thermal import ThermalNorm

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


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


def read_file(path: Path, sixteen_bit: bool = False) -> np.ndarray:
    """An 8-bit image (or 8/16-bit for ``sixteen_bit``: thermal counts or centikelvin)."""
    img = read_image(path)
    if img.dtype != np.uint8 and not (sixteen_bit and img.dtype == np.uint16):
        bits = "8- or 16-bit" if sixteen_bit else "8-bit"
        raise DatasetError(f"{path}: expected an {bits} image, got {img.dtype}")
    return img


def to_gray(img: np.ndarray, path: Path, what: str) -> np.ndarray:
    """1-, 3- or 4-channel PNG → HxW. Equal channels (a grey image saved as BGR) are exact."""
    if img.ndim == 2:
        return img
    if img.ndim == 3 and img.shape[2] in (3, 4):
        bgr = img[..., :3]
        if np.array_equal(bgr[..., 0], bgr[..., 1]) and np.array_equal(bgr[..., 0], bgr[..., 2]):
            return np.ascontiguousarray(bgr[..., 0])
        return cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2GRAY)
    raise DatasetError(f"{path}: expected a 1- or 3-channel {what} image, got shape {img.shape}")


def read_label(path: Path, num_classes: int, ignore: int = IGNORE_INDEX) -> np.ndarray:
    """A class-id label image; the file's ``ignore`` value (a classes.yaml's ignore_index)
    becomes 255 (``IGNORE_INDEX``), any other value must be a class id."""
    img = read_file(path)
    if img.ndim == 3:
        b = img[..., 0]
        if not (np.array_equal(b, img[..., 1]) and np.array_equal(b, img[..., 2])):
            raise DatasetError(
                f"{path}: expected a single-channel class-id label image, got a colour image "
                f"(shape {img.shape}); use the id masks, not the colourized ones"
            )
        img = np.ascontiguousarray(b)
    bad = (img >= num_classes) & (img != ignore)
    if bad.any():
        values = sorted(int(v) for v in np.unique(img[bad]))[:8]
        raise DatasetError(
            f"{path}: label values {values} are out of range: expected class ids "
            f"0..{num_classes - 1} or {ignore} (ignore)"
        )
    if ignore != IGNORE_INDEX:
        img = np.where(img == ignore, np.uint8(IGNORE_INDEX), img).astype(np.uint8)
    return img


def check_sizes(
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


def require_dir(path: Path, what: str) -> None:
    if not path.is_dir():
        raise DatasetNotFoundError(f"{what} folder not found: {path}")


def find_image(folder: Path, name: str) -> Path | None:
    p = folder / f"{name}.png"
    if p.is_file():
        return p
    for ext in IMAGE_EXTS[1:]:
        p = folder / f"{name}{ext}"
        if p.is_file():
            return p
    return None


def find_files(
    names: list[str], folders: Sequence[Path | None], where: str
) -> list[tuple[Path | None, ...]]:
    """Each sample's file in each folder (None for an absent folder); one error lists all gaps."""
    files: list[tuple[Path | None, ...]] = []
    missing: list[Path] = []
    for n in names:
        found: list[Path | None] = []
        for d in folders:
            p = None if d is None else find_image(d, n)
            if d is not None and p is None:
                missing.append(d / f"{n}.png")
            found.append(p)
        files.append(tuple(found))
    if missing:
        raise missing_error(missing, where)
    return files


def missing_error(missing: list[Path], where: str) -> DatasetNotFoundError:
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


def unique_names(items: list) -> list:
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
        # a fixed class set by reader name (a folder dataset reads its own classes.yaml)
        fixed = DATASET_CLASSES.get(self.name, ((), ()))
        self.class_names, self.palette = (list(x) for x in fixed)
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


def bgr_to_rgb(img: np.ndarray, path: Path) -> np.ndarray:
    if img.ndim == 2:  # a grey visible image
        return np.ascontiguousarray(np.repeat(img[..., None], 3, axis=2))
    if img.ndim == 3 and img.shape[2] in (3, 4):
        return np.ascontiguousarray(img[..., 2::-1])
    raise DatasetError(f"{path}: expected a 3-channel colour image, got shape {img.shape}")


def read_split_file(path: Path) -> list[str]:
    """The sample names of a split file: one per line (first word), a path or a file name
    with an image extension reduced to its stem; blank lines and ``#`` comments skipped."""
    names = []
    for line in path.read_text().splitlines():
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        item = os.path.basename(item.split()[0])
        stem, ext = os.path.splitext(item)
        names.append(stem if ext.lower() in IMAGE_EXTS else item)
    return names
