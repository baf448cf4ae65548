"""Shutter / flat-field correction (FFC) frames: thermal frames that show no scene.

Uncooled thermal cores recalibrate every one to a few minutes: the shutter closes for ~0.3-0.5 s
and the driver publishes either *frozen* frames (bit-identical to the previous one) or the
*closed shutter* (one temperature: a near-uniform frame). Fused, they turn the thermal half of
the input into garbage and the people in it vanish. ``ShutterCheck.check`` tells such a frame at
admission, before pairing, so the pairer takes the next good frame instead.

- frozen (``thermal.ffc.frozen``): the frame's pixels (after ``thermal.crop``) equal the
  previous thermal frame's; a strided sample is compared first, so a changed frame costs
  almost nothing.
  Off by default: a still image published in a loop (image_publisher, tests, demos) is
  bit-identical too; the camera presets turn it on.
- closed shutter (``thermal.ffc.min_spread``, kelvin, 0 = off): the robust range p99 - p1 of
  the (cropped) frame, on a strided sample, is below ``min_spread`` kelvin. Values are read as
  kelvin by ``kelvin_per_unit``: the thermal units (centikelvin 0.01, decikelvin 0.1, kelvin and
  celsius 1, counts with ``thermal.scale``); values without stated units by their type: 16-bit
  counts 0.01 K (the resolution of radiometric FLIR cores; raw cores are coarser, so this
  errs towards keeping frames), float 1 K (32FC1 drivers publish °C or K), 8-bit 0.05 K per
  level (AGC stretches any real scene over most of 0..255: 0.5 K = 10 levels). A dark, low-
  contrast night scene still spans several kelvin; a closed shutter spans its noise (~0.2 K).
  Frames under 256 pixels (8x8 arrays) are not judged.

A run of consecutive skipped frames is one FFC *event*; ``ShutterCheck`` says which frame
starts one, so the statistics count events and their interval as well as frames.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from sccosf_ros.thermal import UNITS, ThermalNorm

# Roughly this many pixels are looked at for the spread (a strided sample: cheap at 640x512).
_SAMPLE_PIXELS = 16384
# Smaller frames are never judged uniform: an 8x8 or 1x1 array (small sensors, tests) can be
# one temperature without a shutter.
_MIN_PIXELS = 256
# Kelvin per value for frames without stated units, by dtype kind (see the module docstring).
_KELVIN_PER_LEVEL_8BIT = 0.05
_KELVIN_PER_COUNT_16BIT = 0.01


@dataclass(frozen=True)
class ShutterFrame:
    """Why a thermal frame was skipped, and whether it starts a new FFC event."""

    reason: str  # "frozen" | "uniform"
    detail: str  # for the warning: what was measured
    new_event: bool


def kelvin_per_unit(dtype: np.dtype, norm: ThermalNorm | None) -> float:
    """How many kelvin one step of a ``dtype`` thermal value is under ``norm``'s units."""
    known = UNITS.get(getattr(norm, "units", "counts"))
    if known is not None:
        return abs(known[0])
    scale = float(getattr(norm, "scale", 0.0) or 0.0)
    if scale:
        return abs(scale)
    if dtype == np.uint8:
        return _KELVIN_PER_LEVEL_8BIT
    if dtype.kind == "f":
        return 1.0
    return _KELVIN_PER_COUNT_16BIT


def robust_spread(thermal: np.ndarray) -> float | None:
    """p99 - p1 of a strided sample of a decoded (H, W) frame; None when no value is finite."""
    stride = max(1, int((thermal.size / _SAMPLE_PIXELS) ** 0.5))
    sample = thermal[::stride, ::stride].reshape(-1)
    if sample.dtype.kind == "f":
        sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return None
    sample = sample.astype(np.float64)
    full = float(sample.max() - sample.min())
    if full == 0.0:
        return 0.0
    lo, hi = np.percentile(sample, (1.0, 99.0))
    return float(hi - lo)


def same_frame(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """True when two decoded (cropped) thermal frames hold the same pixels; a strided sample is
    compared first, so a changed frame costs almost nothing. Pixels, not message bytes: rows
    cropped away (a Boson's telemetry lines carry a frame counter) must not hide a freeze."""
    if a is None or b is None or a.shape != b.shape or a.dtype != b.dtype:
        return False
    step = max(1, int((a.size / _SAMPLE_PIXELS) ** 0.5))
    if not np.array_equal(a[::step, ::step], b[::step, ::step]):
        return False
    return bool(np.array_equal(a, b))


def _decoded(msg: Any, decode: Any) -> np.ndarray | None:
    """The (cropped) frame, or None when it does not decode (the pipeline's own checks say why)."""
    try:
        return decode(msg)
    except ValueError:
        return None


class ShutterCheck:
    """Frozen / closed-shutter detection over one thermal stream (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._previous: np.ndarray | None = None  # the last thermal frame (decoded, cropped)
        self._in_event = False  # the previous frame was skipped

    def check(
        self,
        msg: Any,
        *,
        frozen: bool,
        min_spread_k: float,
        decode: Any,
        norm: ThermalNorm | None,
    ) -> ShutterFrame | None:
        """A ``ShutterFrame`` when ``msg`` (a well-formed thermal message) is a shutter frame,
        else None. ``decode(msg)`` gives the (cropped) frame for the spread; ValueError from it
        leaves the frame to the pipeline's own checks."""
        if not frozen and min_spread_k <= 0.0:
            return None
        thermal = _decoded(msg, decode)
        with self._lock:
            previous, self._previous = self._previous, thermal if frozen else None
            result = None
            if frozen and same_frame(thermal, previous):
                result = ("frozen", "identical to the previous thermal frame")
            elif min_spread_k > 0.0 and thermal is not None:
                result = _uniform(thermal, min_spread_k, norm)
            if result is None:
                self._in_event = False
                return None
            new_event = not self._in_event
            self._in_event = True
            return ShutterFrame(result[0], result[1], new_event)


def _uniform(
    thermal: np.ndarray, min_spread_k: float, norm: ThermalNorm | None
) -> tuple[str, str] | None:
    if thermal.size < _MIN_PIXELS:
        return None
    spread = robust_spread(thermal)
    if spread is None:
        return None
    kelvin = spread * kelvin_per_unit(thermal.dtype, norm)
    if kelvin >= min_spread_k:
        return None
    return (
        "uniform",
        f"near-uniform (p99 - p1 = {spread:.4g} values, {kelvin:.3g} K < thermal.ffc."
        f"min_spread {min_spread_k:g} K): shutter closed",
    )
