"""CVAT "Segmentation mask 1.1" exports read as class-id arrays through a dataset's classes.yaml.

CVAT (through Datumaro's Pascal VOC writer) exports a ``.zip`` holding::

    labelmap.txt                      # "# label:color_rgb:parts:actions", then "name:r,g,b::"
    SegmentationClass/NAME.png        # one colour per label; unlabelled pixels are background
    SegmentationObject/NAME.png       # instances (not needed for semantic labels)
    ImageSets/Segmentation/default.txt

The class masks are colour PNGs: RGB, or palette ("P") PNGs as the VOC convention writes them;
OpenCV expands a palette to its colours, so both read the same way. A single-channel mask holds
label indices in labelmap order instead. Each colour goes to its labelmap name and that name to
the class of the same name in classes.yaml (case-insensitive); the export's ``background`` goes
to a class named background if there is one, else to the ignore value. A colour the labelmap does
not list, or a label that classes.yaml does not have, is one error naming the mask and the value.
The zip may also be extracted (a folder), or re-zipped with a top folder: the export's root is
where ``labelmap.txt`` is.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from sccosf_ros.class_set import ClassSet
from sccosf_ros.data.errors import DatasetError, DatasetNotFoundError
from sccosf_ros.data.image_file import decode_image

LABELMAP = "labelmap.txt"
MASK_DIR = "SegmentationClass"
BACKGROUND = "background"

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class LabelmapEntry:
    """One ``labelmap.txt`` line: a label name and its mask colour."""

    name: str
    color: RGB


def _parse_color(text: str) -> RGB | None:
    parts = text.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        return None
    r, g, b = (int(p) for p in parts)
    return (r, g, b) if max(r, g, b) <= 255 else None


def parse_labelmap(text: str, where: str) -> list[LabelmapEntry]:
    """The labels of a ``labelmap.txt`` (``name:r,g,b:parts:actions`` lines, ``#`` comments)."""
    entries: list[LabelmapEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        color = _parse_color(fields[1]) if len(fields) > 1 else None
        if not fields[0] or color is None:
            raise DatasetError(
                f"{where} line {number}: cannot parse {line[:80]!r}: expected name:r,g,b:: "
                "(a label name, then its colour as three integers 0-255)"
            )
        if any(e.name == fields[0] for e in entries):
            raise DatasetError(f"{where} line {number}: label {fields[0]!r} is listed twice")
        entries.append(LabelmapEntry(fields[0], color))
    if not entries:
        raise DatasetError(f"{where}: lists no labels")
    return entries


def _class_of(name: str, classes: ClassSet) -> int | None:
    """The class id of an export's label name; background falls back to the ignore value."""
    found = classes.id_of(name)
    if found is None and name.lower() == BACKGROUND:
        return classes.ignore_index
    return found


def _key(color: RGB) -> int:
    return (color[0] << 16) | (color[1] << 8) | color[2]


@dataclass(frozen=True)
class ColourTable:
    """Mask colour → class id for one labelmap and class set; labels classes.yaml lacks kept
    apart so that a mask using one is an error naming it (an unused one is harmless)."""

    ids: dict[int, int]
    missing: dict[int, str]

    @classmethod
    def build(cls, labelmap: list[LabelmapEntry], classes: ClassSet, where: str) -> ColourTable:
        ids: dict[int, int] = {}
        missing: dict[int, str] = {}
        names: dict[int, str] = {}
        for entry in labelmap:
            key, class_id = _key(entry.color), _class_of(entry.name, classes)
            if key in names and ids.get(key) != class_id:
                raise DatasetError(
                    f"{where}: labels {names[key]!r} and {entry.name!r} share the colour "
                    f"{entry.color} but are different classes; give one another colour in CVAT"
                )
            names[key] = entry.name
            if class_id is None:
                missing[key] = entry.name
            else:
                ids[key] = class_id
        return cls(ids, missing)


def _color_text(key: int) -> str:
    return f"({key >> 16}, {(key >> 8) & 255}, {key & 255})"


def colour_mask_to_ids(bgr: np.ndarray, table: ColourTable, where: str) -> np.ndarray:
    """A colour mask (OpenCV's BGR order, alpha dropped) as class ids, or an error naming the
    first colour that is not a known label. One comparison per label colour: a labelmap has a
    few dozen labels at most, and this is ~10x faster than sorting the pixels' colours."""
    b, g, r = (bgr[..., i].astype(np.int32) for i in range(3))
    keys = (r << 16) | (g << 8) | b
    out = np.empty(keys.shape, dtype=np.uint8)
    matched = np.zeros(keys.shape, dtype=bool)
    for key, class_id in table.ids.items():
        hit = keys == key
        out[hit] = class_id
        matched |= hit
    if not matched.all():
        key = int(keys[~matched][0])
        if key in table.missing:
            raise DatasetError(
                f"{where}: colour {_color_text(key)} is label {table.missing[key]!r}, which "
                "classes.yaml does not have; add that class or relabel it in CVAT"
            )
        raise DatasetError(
            f"{where}: colour {_color_text(key)} ({int((keys == key).sum())} px) is no label "
            f"of {LABELMAP}; export the masks and labelmap.txt together"
        )
    return out


def index_mask_to_ids(
    index: np.ndarray, labelmap: list[LabelmapEntry], classes: ClassSet, where: str
) -> np.ndarray:
    """A single-channel mask of labelmap indices as class ids."""
    lut = np.full(256, -1, dtype=np.int32)
    for value in np.unique(index).tolist():
        if value >= len(labelmap):
            raise DatasetError(
                f"{where}: value {value} is no label of {LABELMAP} (it lists {len(labelmap)})"
            )
        name = labelmap[value].name
        class_id = _class_of(name, classes)
        if class_id is None:
            raise DatasetError(
                f"{where}: value {value} is label {name!r}, which classes.yaml does not have; "
                "add that class or relabel it in CVAT"
            )
        lut[value] = class_id
    return lut[index].astype(np.uint8)


@dataclass(frozen=True)
class CvatMask:
    """One class mask of an export, named after its image (``names``: stems to match)."""

    export: CvatExport
    member: str

    @property
    def where(self) -> str:
        return self.export.where(self.member)

    @property
    def names(self) -> list[str]:
        return [PurePosixPath(self.member).stem]

    def class_ids(self, classes: ClassSet, size: tuple[int, int] | None = None) -> np.ndarray:
        """The mask as class ids (``size``, height × width, is checked by the caller)."""
        return self.export.class_ids(self.member, classes)


class _ZipFiles:
    """The members of a zip, read on demand; a damaged member is an error naming it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise DatasetError(f"{path}: not a readable zip file ({e})") from None
        self.files = [i.filename for i in self._zip.infolist() if not i.is_dir()]

    def where(self, member: str) -> str:
        return f"{self.path}:{member}"

    def read(self, member: str) -> bytes:
        try:
            return self._zip.read(member)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
            raise DatasetError(f"{self.where(member)}: damaged inside the zip ({e})") from None

    def close(self) -> None:
        self._zip.close()


class _FolderFiles:
    """The files under an extracted export, by their relative POSIX paths."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())

    def where(self, member: str) -> str:
        return str(self.path / member)

    def read(self, member: str) -> bytes:
        try:
            return (self.path / member).read_bytes()
        except OSError as e:
            raise DatasetError(f"{self.where(member)}: {e.strerror or e}") from None

    def close(self) -> None:
        pass


class CvatExport:
    """An opened export (a zip or its extracted folder): the labelmap and the class masks."""

    def __init__(self, files: _ZipFiles | _FolderFiles) -> None:
        self.source = files.path
        self._files = files
        found = sorted((f for f in files.files if PurePosixPath(f).name == LABELMAP), key=len)
        if not found:
            raise DatasetNotFoundError(
                f"{self.source}: no {LABELMAP}; is this a CVAT 'Segmentation mask 1.1' export?"
            )
        self._labelmap_where = files.where(found[0])
        self.labelmap = parse_labelmap(self._text(found[0]), self._labelmap_where)
        mask_dir = PurePosixPath(found[0]).parent / MASK_DIR
        self.masks = [
            f
            for f in files.files
            if f.lower().endswith(".png") and PurePosixPath(f).is_relative_to(mask_dir)
        ]
        self._tables: dict[ClassSet, ColourTable] = {}

    def __enter__(self) -> CvatExport:
        return self

    def __exit__(self, *exc: object) -> None:
        self._files.close()

    def _text(self, member: str) -> str:
        try:
            return self._files.read(member).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DatasetError(f"{self._files.where(member)}: not UTF-8 text") from None

    def where(self, member: str) -> str:
        return self._files.where(member)

    def items(self) -> Iterator[CvatMask]:
        for member in self.masks:
            yield CvatMask(self, member)

    def _table(self, classes: ClassSet) -> ColourTable:
        if classes not in self._tables:
            self._tables[classes] = ColourTable.build(self.labelmap, classes, self._labelmap_where)
        return self._tables[classes]

    def class_ids(self, member: str, classes: ClassSet) -> np.ndarray:
        """The class mask ``member`` as class ids through ``classes``."""
        where = self.where(member)
        image = decode_image(self._files.read(member), where)
        if image.dtype != np.uint8:
            raise DatasetError(f"{where}: a {image.dtype} mask; CVAT masks are 8-bit PNGs")
        if image.ndim == 2:
            return index_mask_to_ids(image, self.labelmap, classes, where)
        return colour_mask_to_ids(image[..., :3], self._table(classes), where)


def open_cvat_export(path: str | Path) -> CvatExport:
    """Open a CVAT "Segmentation mask 1.1" export: the ``.zip`` CVAT gives, or its folder."""
    p = Path(path)
    if p.is_dir():
        return CvatExport(_FolderFiles(p))
    if p.is_file():
        return CvatExport(_ZipFiles(p))
    raise DatasetNotFoundError(f"{p}: no such file or folder")
