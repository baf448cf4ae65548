"""A thermal camera's stream over time, as its driver publishes it: the image in the camera's
units and size, telemetry rows below it, and flat-field-correction (FFC) bursts.

Every unit shows the same scene temperature: the renderer's raw counts are read back as °C
(``celsius_from_counts``, 40 counts per kelvin), resized to the camera's sensor, then written as
the camera's values (centikelvin, decikelvin, °C floats, raw counts, or 8-bit AGC). So the same
scene published as centikelvin and as °C differs only by rounding.

FFC: uncooled cores close a shutter every few minutes for ~0.4 s. ``ffc_schedule`` marks the
frames captured in ``[k·period, k·period + duration)`` (k ≥ 1): the first half of each burst
repeats the last frame before it (the driver re-sends a frozen frame), the rest show the closed
shutter (near-uniform, ``SHUTTER_C`` with a little noise). Telemetry rows change every frame (they
carry a frame counter), so a frozen frame equals the previous one only once they are cropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from sccosf_ros.synthetic.camera_models import ThermalCamera
from sccosf_ros.synthetic.sensor import celsius_from_counts, counts_from_celsius

FFC_FROZEN = "frozen"
FFC_SHUTTER = "shutter"
SHUTTER_C = 28.0  # the shutter flag's temperature
SHUTTER_NOISE_K = 0.05  # temporal noise on a closed-shutter frame
AGC_PERCENTILES = (1.0, 99.0)  # what an AGC stretches onto 0..255
AGC_MIN_SPAN_K = 10.0  # its largest gain: a uniform scene stays grey, not amplified noise
KELVIN_0C = 273.15
# The renderer's own thermal camera (bag default): raw counts at the RGB size.
DEFAULT_CAMERA = ThermalCamera("default", "mono16", "counts", None)


def ffc_schedule(times: list[float], period: float, duration: float) -> list[str | None]:
    """Per capture time: None (a good frame), FFC_FROZEN or FFC_SHUTTER; period 0 = no FFC."""
    kinds: list[str | None] = [None] * len(times)
    if period <= 0:
        return kinds
    bursts: dict[int, list[int]] = {}
    for i, t in enumerate(times):
        k = math.floor(t / period)
        if k >= 1 and t - k * period < duration:
            bursts.setdefault(k, []).append(i)
    for frames in bursts.values():
        n_frozen = (len(frames) + 1) // 2
        for j, i in enumerate(frames):
            kinds[i] = FFC_FROZEN if j < n_frozen else FFC_SHUTTER
    return kinds


def _agc(temp_c: np.ndarray) -> np.ndarray:
    """8-bit AGC: the frame's 1st..99th percentile onto 0..255, at most 255 / 10 K of gain."""
    lo, hi = np.percentile(temp_c, AGC_PERCENTILES)
    if hi - lo < AGC_MIN_SPAN_K:
        mid = 0.5 * (lo + hi)
        lo, hi = mid - 0.5 * AGC_MIN_SPAN_K, mid + 0.5 * AGC_MIN_SPAN_K
    x = (temp_c - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def in_units(camera: ThermalCamera, temp_c: np.ndarray) -> np.ndarray:
    """Temperatures (°C) as ``camera`` publishes them."""
    units = camera.units
    if units == "counts":
        return np.clip(np.rint(counts_from_celsius(temp_c)), 0, 65535).astype(np.uint16)
    if units in ("centikelvin", "decikelvin"):
        per_k = 100.0 if units == "centikelvin" else 10.0
        kelvin = (temp_c.astype(np.float64) + KELVIN_0C) * per_k
        return np.clip(np.rint(kelvin), 0, 65535).astype(np.uint16)
    if units == "celsius":
        return temp_c.astype(np.float32)
    if units == "agc":
        return _agc(temp_c)
    raise ValueError(f"unknown thermal camera units {units!r}")


def camera_image(camera: ThermalCamera, counts: np.ndarray) -> np.ndarray:
    """The scene's raw counts (RGB size) as ``camera``'s image, without telemetry rows."""
    size = camera.size or counts.shape
    if camera.units == "counts" and tuple(size) == counts.shape:
        return counts  # the renderer's own output, untouched
    temp = celsius_from_counts(counts)
    if tuple(size) != temp.shape:
        shrink = size[0] * size[1] < temp.size
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        temp = cv2.resize(temp, (size[1], size[0]), interpolation=interp)
    return in_units(camera, temp)


class ThermalStream:
    """One camera's frames in capture order (FFC frames need the frame before them)."""

    def __init__(self, camera: ThermalCamera | None, seed: int, scene_size: tuple[int, int]):
        self.camera = camera or DEFAULT_CAMERA
        self.seed = seed
        self.size = tuple(self.camera.size or scene_size)
        self._last: np.ndarray | None = None  # the last good image, for frozen FFC frames

    @property
    def encoding(self) -> str:
        return self.camera.encoding

    def frame(self, index: int, counts: Callable[[], np.ndarray], ffc: str | None) -> np.ndarray:
        """Frame ``index`` (0, 1, ... in capture order): the camera's image of ``counts()``
        (rendered only when needed), or an FFC frame, with the telemetry rows below it."""
        if ffc == FFC_FROZEN and self._last is not None:
            image = self._last
        elif ffc is not None:
            image = self._shutter(index)
        else:
            image = self._last = camera_image(self.camera, counts())
        return self._with_telemetry(image, index, ffc is not None)

    def _shutter(self, index: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 7, index])
        temp = SHUTTER_C + SHUTTER_NOISE_K * rng.standard_normal(self.size, dtype=np.float32)
        return in_units(self.camera, temp)

    def _with_telemetry(self, image: np.ndarray, index: int, in_ffc: bool) -> np.ndarray:
        """``image`` with the camera's telemetry rows appended: words anywhere in 0..65535, a
        frame counter and an FFC flag, as a raw Boson sends them (garbage to the image)."""
        rows = self.camera.telemetry_rows
        if rows == 0:
            return image
        rng = np.random.default_rng([self.seed, 11, index])
        words = rng.integers(0, 65536, (rows, image.shape[1]))
        words[0, :4] = (0x4253, index & 0xFFFF, index >> 16, 0xFFFF if in_ffc else 0)
        return np.vstack([image, words.astype(image.dtype)])
