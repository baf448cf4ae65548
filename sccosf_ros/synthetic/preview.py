"""A preview picture of a dataset: one row per sample, RGB | thermal (inferno) | label colours."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from sccosf_ros.classes import colorize
from sccosf_ros.synthetic.dataset_writer import imwrite

_SEPARATOR = 4  # px of white between tiles and rows


class PreviewSample(Protocol):
    """What a preview row needs (a dataset's ``RawSample`` has it)."""

    rgb: np.ndarray  # uint8 HxWx3, RGB order
    thermal: np.ndarray  # uint8 HxW
    label: np.ndarray  # uint8 HxW class ids


def _row(s: PreviewSample, palette: Sequence[Sequence[int]], tile_width: int) -> np.ndarray:
    h, w = s.label.shape
    th = max(round(h * tile_width / w), 1)
    size = (tile_width, th)
    therm = cv2.applyColorMap(s.thermal, cv2.COLORMAP_INFERNO)[..., ::-1]
    tiles = [
        cv2.resize(s.rgb, size, interpolation=cv2.INTER_AREA),
        cv2.resize(therm, size, interpolation=cv2.INTER_AREA),
        cv2.resize(colorize(s.label, palette), size, interpolation=cv2.INTER_NEAREST),
    ]
    sep = np.full((th, _SEPARATOR, 3), 255, np.uint8)
    return np.hstack([tiles[0], sep, tiles[1], sep, tiles[2]])


def preview_grid(
    samples: Iterable[PreviewSample],
    palette: Sequence[Sequence[int]],
    out: str | os.PathLike,
    tile_width: int = 320,
) -> Path:
    """Write a PNG with one row per sample: RGB | thermal (inferno) | label colours."""
    rows = [_row(s, palette, tile_width) for s in samples]
    if not rows:
        raise ValueError("no samples for the preview")
    sep = np.full((_SEPARATOR, rows[0].shape[1], 3), 255, np.uint8)
    grid = np.vstack([part for row in rows for part in (sep, row)][1:])
    path = Path(out)
    imwrite(path, np.ascontiguousarray(grid[..., ::-1]))
    return path
