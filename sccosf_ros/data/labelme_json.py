"""labelme annotation files (one JSON per image) drawn as class-id arrays through classes.yaml.

labelme saves, beside each image, ``NAME.json``::

    {"version": "5.5.0", "flags": {}, "imagePath": "NAME.jpg",
     "imageData": "<base64 of the image>" or null (labelme --nodata),
     "imageHeight": 480, "imageWidth": 640,
     "shapes": [{"label": "pallet", "points": [[x, y], ...], "group_id": null,
                 "shape_type": "polygon", "flags": {}}, ...]}

Areas are drawn in file order, so a later shape lies on top of an earlier one (labelme's own
``shapes_to_label`` does the same): ``polygon`` (filled, its outline included), ``rectangle``
(two opposite corners, both included), ``circle`` (centre, then a point on the rim) and
``mask`` (a base64 PNG placed at its box's top-left corner). ``line``, ``linestrip`` and
``point`` shapes enclose no area and are counted, not drawn. Pixels no area covers are unlabelled
(classes.yaml's ignore value). A ``_background_`` or ``background`` label paints the class named
background, or the ignore value where classes.yaml has none (it erases what lies below).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

import cv2
import numpy as np

from sccosf_ros.class_set import ClassSet
from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.image_file import decode_image

AREAS = ("polygon", "rectangle", "circle", "mask")
NOT_AREAS = ("line", "linestrip", "point")
POINTS_NEEDED = {"rectangle": 2, "circle": 2, "mask": 2}  # polygon: at least 3
BACKGROUND_LABELS = ("_background_", "background")


@dataclass(frozen=True)
class LabelmeShape:
    """One area of a labelme file: its label, kind, points (x, y in pixels) and, for ``mask``,
    the bitmap."""

    index: int  # position in the file's ``shapes`` (error messages name it)
    label: str
    shape_type: str
    points: np.ndarray
    bitmap: np.ndarray | None = None


def _image_data_size(value: Any, where: str) -> tuple[int, int] | None:
    """(height, width) of the embedded image, or None for labelme's ``--nodata`` files."""
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise DatasetError(f"{where}: imageData is not base64 (nor null)") from None
    return decode_image(raw, f"{where} (imageData)").shape[:2]


def _points(shape: dict, kind: str, where: str) -> np.ndarray:
    points = shape.get("points")
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.empty((0, 0))
    if arr.ndim != 2 or arr.shape[1] != 2 or not np.isfinite(arr).all():
        got = repr(points)[:60]
        raise DatasetError(f"{where}: points must be a list of [x, y] numbers, got {got}")
    needed = POINTS_NEEDED.get(kind)
    if (needed is not None and len(arr) != needed) or (kind == "polygon" and len(arr) < 3):
        wanted = f"{needed} points" if needed else "at least 3 points"
        raise DatasetError(f"{where}: a {kind} needs {wanted}, it has {len(arr)}")
    return arr


def _bitmap(shape: dict, where: str) -> np.ndarray:
    data = shape.get("mask")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise DatasetError(f"{where}: a mask shape needs its bitmap as base64 PNG") from None
    image = decode_image(raw, f"{where} mask")
    return (image if image.ndim == 2 else image[..., 0]) > 0


def _shape(shape: Any, index: int, path: Path) -> LabelmeShape | None:
    """One entry of ``shapes`` checked; None for the kinds that enclose no area."""
    if not isinstance(shape, dict) or not isinstance(shape.get("label"), str):
        raise DatasetError(f"{path}: shape #{index} needs a 'label' string")
    kind = shape.get("shape_type") or "polygon"
    where = f"{path}: shape #{index} ({shape['label']!r}, {kind})"
    if kind in NOT_AREAS:
        return None
    if kind not in AREAS:
        raise DatasetError(f"{where}: unknown shape_type; labelme writes {AREAS + NOT_AREAS}")
    points = _points(shape, kind, where)
    bitmap = _bitmap(shape, where) if kind == "mask" else None
    return LabelmeShape(index, shape["label"], kind, points, bitmap)


def _dimension(data: dict, key: str, path: Path) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DatasetError(f"{path}: {key} must be a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class LabelmeFile:
    """A parsed labelme file: which image it labels, that image's size, its areas."""

    path: Path
    image_path: str | None
    size: tuple[int, int] | None  # (height, width) the file states, or its imageData has
    shapes: tuple[LabelmeShape, ...]
    not_areas: int  # line / linestrip / point shapes, not drawn

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def names(self) -> list[str]:
        """Stems to match against the dataset's images: imagePath's first, then the JSON's."""
        stems = [PureWindowsPath(self.image_path).stem] if self.image_path else []
        return [*stems, *([self.path.stem] if self.path.stem not in stems else [])]

    def class_ids(self, classes: ClassSet, size: tuple[int, int] | None = None) -> np.ndarray:
        """The areas drawn as class ids on an image of ``size`` (height, width), which must be
        the size the file states; pixels no area covers get the ignore value."""
        if size is not None and self.size is not None and tuple(size) != self.size:
            raise DatasetError(
                f"{self.path}: imageHeight × imageWidth is {self.size[0]}×{self.size[1]} but "
                f"the dataset's image is {size[0]}×{size[1]}; label the image the dataset holds"
            )
        size = size or self.size
        if size is None:
            raise DatasetError(f"{self.path}: no imageHeight/imageWidth and no imageData")
        canvas = np.full(size, classes.ignore_index, dtype=np.uint8)
        for shape in self.shapes:
            draw_shape(canvas, shape, class_for_label(shape, classes, self.path))
        return canvas


def class_for_label(shape: LabelmeShape, classes: ClassSet, path: Path) -> int:
    """The class id of a shape's label; an unknown one is an error naming the file and label."""
    found = classes.id_of(shape.label)
    if found is not None:
        return found
    if shape.label.lower() in BACKGROUND_LABELS:
        background = classes.id_of("background")
        return classes.ignore_index if background is None else background
    raise DatasetError(
        f"{path}: label {shape.label!r} (shape #{shape.index}) is not in classes.yaml "
        f"({', '.join(classes.names)}); add the class or rename the shape in labelme"
    )


def draw_shape(canvas: np.ndarray, shape: LabelmeShape, value: int) -> None:
    """Paint one area into ``canvas`` (in place) with ``value``."""
    pts = shape.points
    if shape.shape_type == "polygon":
        cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], int(value))
    elif shape.shape_type == "rectangle":
        (x0, y0), (x1, y1) = np.round(pts.min(axis=0)), np.round(pts.max(axis=0))
        cv2.rectangle(canvas, (int(x0), int(y0)), (int(x1), int(y1)), int(value), thickness=-1)
    elif shape.shape_type == "circle":
        radius = math.dist(pts[0], pts[1])
        centre = (round(pts[0][0]), round(pts[0][1]))
        cv2.circle(canvas, centre, round(radius), int(value), thickness=-1)
    else:  # mask: the bitmap's top-left pixel sits at the box's first corner (labelme's)
        _paste(canvas, shape.bitmap, int(pts[0][0]), int(pts[0][1]), value)


def _paste(canvas: np.ndarray, bitmap: np.ndarray, x0: int, y0: int, value: int) -> None:
    """Set ``canvas`` to ``value`` where ``bitmap``, placed at (x0, y0), is set (clipped)."""
    h, w = canvas.shape
    ys = slice(max(0, y0), min(h, y0 + bitmap.shape[0]))
    xs = slice(max(0, x0), min(w, x0 + bitmap.shape[1]))
    if ys.start < ys.stop and xs.start < xs.stop:
        part = bitmap[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
        canvas[ys, xs][part] = value


def read_labelme(path: str | Path) -> LabelmeFile:
    """Parse and check one labelme JSON file; a damaged one is one error naming it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise DatasetError(f"{path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise DatasetError(f"{path}: not a labelme file (no 'shapes' list)")
    image_path = data.get("imagePath")
    height, width = _dimension(data, "imageHeight", path), _dimension(data, "imageWidth", path)
    stated = (height, width) if height and width else None
    embedded = _image_data_size(data.get("imageData"), str(path))
    if stated and embedded and stated != embedded:
        raise DatasetError(
            f"{path}: imageHeight × imageWidth is {height}×{width} but imageData is "
            f"{embedded[0]}×{embedded[1]}"
        )
    shapes = [_shape(s, i, path) for i, s in enumerate(data["shapes"])]
    areas = tuple(s for s in shapes if s is not None)
    return LabelmeFile(
        path,
        image_path if isinstance(image_path, str) and image_path else None,
        stated or embedded,
        areas,
        len(shapes) - len(areas),
    )


def find_labelme_files(path: str | Path) -> list[Path]:
    """The ``.json`` files of a labelme folder (searched recursively), or the one file given."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise DatasetError(f"{p}: no such file or folder")
    return sorted(q for q in p.rglob("*.json") if q.is_file())
