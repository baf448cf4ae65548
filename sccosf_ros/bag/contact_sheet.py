"""Pictures of a run a person can look at: a contact sheet (PNG) and an animated preview (GIF).

A contact sheet has one row per sampled frame and one column per view (RGB | thermal | fused |
segmentation colour, and ground truth when there is one), each tile titled, rows titled with the
frame's stamp. The preview GIF shows the same views side by side as a short video.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from sccosf_ros.errors import SccosfError

TITLE_H = 22  # pixels of the title strip above each tile / row


class PictureWriteError(SccosfError, OSError):
    """A picture that could not be written (folder not writable, disk full)."""


def thermal_preview(thermal01: np.ndarray) -> np.ndarray:
    """(H, W) float thermal in [0, 1] → (H, W, 3) uint8 RGB with the inferno colormap."""
    gray = np.clip(np.asarray(thermal01, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(gray, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)


def _as_rgb(img: np.ndarray) -> np.ndarray:
    a = np.asarray(img)
    if a.dtype != np.uint8:
        raise TypeError(f"tiles must be uint8 images, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return a[..., :3]


def _fit(img: np.ndarray, width: int) -> np.ndarray:
    h, w = img.shape[:2]
    if w == width:
        return img
    height = max(1, round(h * width / w))
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def _title(strip_w: int, text: str) -> np.ndarray:
    strip = np.full((TITLE_H, strip_w, 3), 32, np.uint8)
    cv2.putText(
        strip,
        text,
        (4, TITLE_H - 7),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        (235, 235, 235),
        1,
        cv2.LINE_AA,
    )
    return strip


def side_by_side(
    tiles: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    tile_width: int = 240,
    gap: int = 2,
) -> np.ndarray:
    """Tiles resized to one width, placed left to right (titled when ``titles`` is given)."""
    if not tiles:
        raise ValueError("no tiles to draw")
    fitted = [_fit(_as_rgb(t), tile_width) for t in tiles]
    h = max(t.shape[0] for t in fitted)
    cols = []
    for i, t in enumerate(fitted):
        if t.shape[0] < h:
            t = np.pad(t, ((0, h - t.shape[0]), (0, 0), (0, 0)))
        if titles is not None:
            t = np.concatenate([_title(tile_width, titles[i]), t], axis=0)
        cols.append(t)
        if i < len(fitted) - 1:
            cols.append(np.full((cols[-1].shape[0], gap, 3), 255, np.uint8))
    return np.concatenate(cols, axis=1)


def contact_sheet(
    rows: Sequence[Sequence[np.ndarray]],
    columns: Sequence[str],
    row_titles: Sequence[str] | None = None,
    tile_width: int = 240,
    gap: int = 2,
) -> np.ndarray:
    """Rows of tiles → one RGB image; column names head every row, ``row_titles`` label rows."""
    if not rows:
        raise ValueError("a contact sheet needs at least one row")
    parts = []
    for i, row in enumerate(rows):
        if len(row) != len(columns):
            raise ValueError(f"row {i} has {len(row)} tiles for {len(columns)} columns")
        img = side_by_side(row, columns, tile_width, gap)
        if row_titles is not None:
            img = np.concatenate([_title(img.shape[1], row_titles[i]), img], axis=0)
        parts.append(img)
        parts.append(np.full((gap * 2, img.shape[1], 3), 255, np.uint8))
    return np.concatenate(parts[:-1], axis=0)


def save_png(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """A PNG of an RGB uint8 image (its folder created); ``PictureWriteError`` on failure."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PictureWriteError(f"could not write {str(path)!r}: {e}") from None
    if not cv2.imwrite(str(path), cv2.cvtColor(_as_rgb(rgb), cv2.COLOR_RGB2BGR)):
        raise PictureWriteError(f"could not write {str(path)!r}")
    return path


def save_gif(path: str | os.PathLike, frames: Sequence[np.ndarray], fps: float = 5.0) -> Path:
    """An animated GIF (Pillow, looping) of RGB uint8 frames of equal size."""
    from PIL import Image

    if not frames:
        raise ValueError("no frames for the preview")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(_as_rgb(f)) for f in frames]
    duration_ms = max(20, round(1000.0 / max(fps, 0.1)))
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=duration_ms, loop=0, optimize=False
    )
    return path
