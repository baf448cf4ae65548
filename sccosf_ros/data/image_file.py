"""Read one image file of a dataset: the bytes first, then OpenCV decodes them, quietly.

OpenCV's PNG and JPEG decoders report damage by printing from C straight to the process's
stderr (``libpng error: Read Error``, ``Corrupt JPEG data: …``), outside Python and before any
error reaches us: a user would see a stray line beside sccosf's own one-line message. So the
decode runs with file descriptor 2 pointed at a temporary file, and what the decoder said becomes
part of the ``DatasetError`` that names the file. Reading the bytes ourselves also tells a
missing or unreadable file (the OS's reason) apart from a corrupt one.

``read_rgb`` and ``read_thermal`` give the two sides of a pair as the model takes them; every
command that reads image files (``predict``, ``eval --rgb/--thermal``, ``calibrate --rgb``) goes
through them, so a 16-bit, grey, BGRA, missing or corrupt file means the same everywhere.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from sccosf_ros.data.errors import DatasetError

_FD_LOCK = threading.Lock()  # fd 2 is the process's: one redirection at a time


@contextlib.contextmanager
def _c_stderr_captured(said: list[str]) -> Iterator[None]:
    """Send what C code writes to fd 2 into a temporary file; its text lands in ``said``."""
    with _FD_LOCK, tempfile.TemporaryFile() as sink:
        with contextlib.suppress(Exception):
            sys.stderr.flush()  # Python's buffered text goes out before the switch
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all (a closed stderr): nothing can leak
            yield
            return
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            said.append(sink.read(2000).decode("utf-8", "replace"))


def _decoder_said(text: str) -> str:
    """The decoder's messages on one line, without libpng's own prefix."""
    lines = [" ".join(ln.replace("libpng error:", "").split()) for ln in text.splitlines()]
    return "; ".join(ln for ln in lines if ln)[:200]


def read_image(path: Path) -> np.ndarray:
    """The image at ``path`` as OpenCV decodes it (``IMREAD_UNCHANGED``: BGR/BGRA/grey, any
    depth); DatasetError naming the file when it is missing, unreadable or corrupt."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DatasetError(f"cannot read image {path}: {e.strerror or e}") from e
    return decode_image(data, path)


def decode_image(data: bytes | np.ndarray, where: str | Path) -> np.ndarray:
    """Encoded image bytes (a file's, a zip member's, base64-decoded) decoded as ``read_image``
    does; DatasetError naming ``where`` when they are empty or not a readable image."""
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes | bytearray) else data
    said: list[str] = []
    img = None
    if buf.size:
        with _c_stderr_captured(said):
            img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if img is None:
        if not buf.size:
            raise DatasetError(f"cannot read image {where}: the file is empty")
        reason = _decoder_said("".join(said))
        raise DatasetError(
            f"cannot read image {where}: the file is corrupt, truncated or not an image"
            + (f" (decoder: {reason})" if reason else "")
        )
    return img


def _to_uint8(img: np.ndarray) -> np.ndarray:
    """16-bit (or float 0–1) pictures → 8 bits; the RGB side of a pair is a picture."""
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return np.round(img / 257.0).astype(np.uint8)
    return np.clip(np.round(img.astype(np.float64) * 255), 0, 255).astype(np.uint8)


def read_rgb(path: Path) -> np.ndarray:
    """An RGB file as (H, W, 3) uint8 RGB (grey, BGRA and 16-bit files converted)."""
    img = _to_uint8(read_image(path))
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    code = cv2.COLOR_BGRA2RGB if img.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(img, code)


def read_thermal(path: Path) -> np.ndarray:
    """A thermal file as (H, W), bit depth kept (a 3-channel grey JPEG becomes one plane)."""
    img = read_image(path)
    if img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_BGR2GRAY)
    return img
