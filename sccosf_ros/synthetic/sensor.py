"""The cameras' side of a synthetic frame: textures, exposure, noise, radiometric counts.

RGB: per-material grain and a slow texture modulate the albedo; by day a vignetted exposure,
by night ambient light plus the scene's lamps, bluish moonlight and high-gain noise. Thermal is
rendered as raw radiometric counts (like a 14-bit microbolometer's output) with optical blur,
temporal noise and column fixed-pattern noise; ``thermal8`` is the linear map of
``THERMAL_COUNTS`` onto 0..255, so ``ThermalNorm(mode="fixed", *THERMAL_COUNTS)`` of the counts
equals ``thermal8 / 255`` (up to rounding).

Noise that belongs to the scene (grain, column pattern, textures) comes from the seed only;
temporal noise from (seed, t).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sccosf_ros.synthetic.materials import GRAIN
from sccosf_ros.synthetic.painter import Light
from sccosf_ros.synthetic.scene import Environment, scene_seed
from sccosf_ros.synthetic.settings import TEMPERATURE_RANGE_C, THERMAL_COUNTS
from sccosf_ros.synthetic.style import Lighting, ThermalLook

_PLAIN_LIGHT = Lighting()


def counts_from_celsius(temp_c: np.ndarray) -> np.ndarray:
    """Scene temperature (°C, float) → raw counts (float), linear over TEMPERATURE_RANGE_C."""
    (t0, t1), (c0, c1) = TEMPERATURE_RANGE_C, THERMAL_COUNTS
    return c0 + (np.asarray(temp_c, np.float32) - t0) * np.float32((c1 - c0) / (t1 - t0))


def celsius_from_counts(counts: np.ndarray) -> np.ndarray:
    """Raw counts → scene temperature (°C, float32): the inverse of ``counts_from_celsius``."""
    (t0, t1), (c0, c1) = TEMPERATURE_RANGE_C, THERMAL_COUNTS
    return t0 + (np.asarray(counts, np.float32) - c0) * np.float32((t1 - t0) / (c1 - c0))


def thermal8_from_counts(counts: np.ndarray) -> np.ndarray:
    """Raw counts → uint8 by the linear map THERMAL_COUNTS → 0..255 (clipped)."""
    c0, c1 = THERMAL_COUNTS
    x = (np.asarray(counts, np.float32) - c0) * np.float32(255.0 / (c1 - c0))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _low_freq(rng: np.random.Generator, h: int, w: int, cell: int = 24) -> np.ndarray:
    """Smooth N(0, ~1) field varying over ``cell`` pixels."""
    small = rng.standard_normal((max(h // cell, 2), max(w // cell, 2)), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _seed_cv2(seed: int) -> None:
    # cv2.randn is ~4x faster than numpy's normal at this size; its RNG is per thread and
    # reseeded before each use, so results do not depend on what ran before.
    cv2.setRNGSeed(seed >> 1)


@dataclass
class FixedPattern:
    """The scene's own noise: RGB grain, thermal column pattern and a texture generator
    (drawn twice, in this order: RGB texture, then thermal texture)."""

    grain: np.ndarray  # (h, w) N(0, 1)
    column: np.ndarray  # (1, w) N(0, 2.5) counts
    texture_rng: np.random.Generator


def fixed_pattern(seed: int, h: int, w: int) -> FixedPattern:
    _seed_cv2(scene_seed(seed, 1))
    grain = np.empty((h, w), np.float32)
    cv2.randn(grain, 0.0, 1.0)
    column = np.empty((1, w), np.float32)
    cv2.randn(column, 0.0, 2.5)  # column fixed-pattern noise of the thermal sensor
    return FixedPattern(grain, column, np.random.default_rng([seed, 1]))


def temporal_noise(seed: int, t: float, h: int, w: int) -> np.ndarray:
    """(h, w, 4): R, G, B and thermal sensor noise of the frame at time ``t``.

    cv2.randn takes scalar mean/stddev as (v, 0, 0, 0), so only channel 0 (R) is N(0, 1) and
    the other three are 0. Kept as is: the shipped data and checkpoint were made this way."""
    _seed_cv2(scene_seed(seed, 2 + (round(t * 1000.0) % (1 << 30))))
    noise = np.empty((h, w, 4), np.float32)
    cv2.randn(noise, 0.0, 1.0)
    return noise


def surface_texture(mat: np.ndarray, fixed: FixedPattern) -> np.ndarray:
    """Per-pixel albedo factor: material grain times a slow texture (RGB only)."""
    h, w = mat.shape
    mod = GRAIN[mat]
    mod *= fixed.grain
    mod += 1.0
    mod *= 1.0 + 0.07 * _low_freq(fixed.texture_rng, h, w)
    return mod


def _night_light(lights: list[Light], ambient: float, h: int, w: int) -> np.ndarray:
    """Illumination at night: ambient plus a blurred disc around every lamp (quarter res)."""
    light = np.full((max(h // 4, 1), max(w // 4, 1)), ambient, np.float32)
    for u, v, r, s in lights:
        cv2.circle(light, (round(u / 4), round(v / 4)), max(round(r / 4), 1), float(s), -1)
    light = cv2.GaussianBlur(light, (0, 0), max(w / 160.0, 1.0))
    return cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)


def expose_rgb(
    albedo: np.ndarray,
    emit: np.ndarray,
    mod: np.ndarray,
    lights: list[Light],
    env: Environment,
    noise: np.ndarray,
    lighting: Lighting = _PLAIN_LIGHT,
) -> np.ndarray:
    """The RGB camera's uint8 image. Works in place on ``albedo``, ``emit`` and ``mod``.

    ``lighting`` (a style's): exposure, light colour and a low sun by day, ambient by night."""
    h, w = mod.shape
    if env.night:
        mod *= _night_light(lights, env.ambient * lighting.night_ambient, h, w)
        rgb = albedo
        rgb *= mod[..., None]
        rgb *= np.float32([0.9, 0.9, 1.05])  # bluish moonlight
        rgb += emit
        sigma = 0.035  # dark frames: high gain, visible noise
    else:
        yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        mod *= env.exposure * (1.0 - 0.12 * (xx * xx + yy * yy))  # vignetting
        rgb = albedo
        rgb *= mod[..., None]
        if lighting != _PLAIN_LIGHT:  # the default look keeps its arithmetic (pinned frames)
            _style_light(rgb, lighting, xx)
        emit *= 0.3
        rgb += emit
        sigma = 0.01
    rgb += noise[..., :3] * np.float32(sigma)
    np.clip(rgb, 0.0, 1.0, out=rgb)
    rgb *= 255.0
    rgb += 0.5
    return rgb.astype(np.uint8)


def _style_light(rgb: np.ndarray, lighting: Lighting, xx: np.ndarray) -> None:
    """A style's daylight on the exposed albedo, in place: exposure times light colour, and a
    low sun brightening the side it shines from (``sun_side``) by up to ``sun_strength``."""
    gain = lighting.exposure * (1.0 + lighting.sun_strength * lighting.sun_side * xx)
    rgb *= gain[..., None].astype(np.float32) * np.float32(lighting.tint)


def thermal_counts(
    temp: np.ndarray, fixed: FixedPattern, noise: np.ndarray, look: ThermalLook | None = None
) -> np.ndarray:
    """The thermal camera's uint16 raw counts. Works in place on ``temp``. ``look`` (a
    style's) scales the optical blur and adds temporal noise."""
    look = look or ThermalLook()
    h, w = temp.shape
    temp += 0.6 * _low_freq(fixed.texture_rng, h, w, cell=16)
    counts = counts_from_celsius(temp)
    sigma = max(0.8 * w / 640.0, 0.5) * look.blur
    counts = cv2.GaussianBlur(counts, (0, 0), sigma)  # optics
    counts += noise[..., 3] * np.float32(3.5)  # temporal noise, counts (0: see temporal_noise)
    if look.noise > 0:  # the frame's R noise, shifted so it does not line up with RGB's
        counts += np.roll(noise[..., 0], (h // 3, w // 3), (0, 1)) * np.float32(look.noise)
    counts += fixed.column
    return np.clip(np.rint(counts), 0, 65535).astype(np.uint16)
