"""Synthetic RGB-thermal street scenes with pixel labels, in the MFNet or FMB class sets.

No real dataset ships with the package, yet tests, the demo, the ROS node checks and CPU
training all need registered RGB + thermal pairs with labels. ``render_scene`` draws one from a
seed with OpenCV shapes: a road in perspective under a sky, sidewalks with curbs, buildings and
trees, and the dataset's object classes placed on the ground plane (a pinhole camera ~1.5 m up).

The two modalities carry different information on purpose, so that a model has to use both:
- RGB carries colour and texture: cones (orange), car stops (yellow), bumps (striped), signs and
  traffic lights, sidewalk pavers versus asphalt, windows, clothing. Posters of people on walls
  look like people in RGB only.
- Thermal carries temperature: people (skin ~34 °C), engines, tyres and exhausts are warm at
  any hour; glass and metal reflect the cold sky; manhole covers over warm pipes are hot blobs
  that RGB shows as plain metal.
- At night the RGB image is dark and noisy (ambient light, street lamps, head/tail lights), so
  most objects are barely visible except in thermal, as in MFNet's night half.

Thermal is rendered as raw radiometric counts (``thermal16``, like a 14-bit microbolometer's
output) with optical blur, temporal noise and column fixed-pattern noise; ``thermal8`` is the
linear map of ``THERMAL_COUNTS`` onto 0..255, so ``ThermalNorm(mode="fixed", *THERMAL_COUNTS)``
of ``thermal16`` equals ``thermal8 / 255`` (up to rounding).

``t`` (seconds) moves the agents (cars, people, bikes, ...) along straight paths that bounce
inside their range, so frames at consecutive ``t`` form a smooth video (used for rosbags); the
static world and the textures depend on the seed only, the sensor noise on (seed, t).

``write_dataset`` writes scenes in a dataset's real on-disk layout plus ``sccosf_synth.json``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from sccosf_ros.classes import DATASET_CLASSES, colorize

LAYOUTS = ("mfnet", "fmb")
METADATA_FILE = "sccosf_synth.json"
# Raw-count range that maps linearly to thermal8 0..255 (a radiometric camera's typical window).
THERMAL_COUNTS = (7000, 9000)
# Scene temperature (°C) that maps to THERMAL_COUNTS: 40 counts per kelvin.
TEMPERATURE_RANGE_C = (-5.0, 45.0)

# Unified materials of the generator → class name in each dataset (None: unlabeled, id 0).
_MATERIAL_CLASS: dict[str, tuple[str | None, str | None]] = {
    "sky": (None, "Sky"),
    "terrain": (None, None),
    "road": (None, "Road"),
    "lane": (None, "Road"),
    "manhole": (None, "Road"),
    "sidewalk": (None, "Sidewalk"),
    "curb": ("curve", "Sidewalk"),
    "building": (None, "Building"),
    "vegetation": (None, "Vegetation"),
    "pole": (None, "Pole"),
    "lamp": (None, "Lamp"),
    "sign": (None, "Sign"),
    "person": ("person", "Person"),
    "car": ("car", "Car"),
    "truck": ("car", "Truck"),
    "bus": ("car", "Bus"),
    "motorcycle": ("bike", "Motorcycle"),
    "bicycle": ("bike", "Bicycle"),
    "car_stop": ("car_stop", None),
    "guardrail": ("guardrail", None),
    "cone": ("color_cone", None),
    "bump": ("bump", "Road"),
}
MATERIALS = tuple(_MATERIAL_CLASS)
_MAT_ID = {m: i for i, m in enumerate(MATERIALS)}
# Fine RGB grain amplitude per material (texture exists in RGB only).
_GRAIN = np.zeros(len(MATERIALS), np.float32)
for _m, _a in {"road": 0.09, "lane": 0.05, "manhole": 0.06, "sidewalk": 0.05, "curb": 0.05,
               "terrain": 0.12, "building": 0.04, "vegetation": 0.22, "sky": 0.004,
               "pole": 0.02, "guardrail": 0.02, "bump": 0.05, "person": 0.03,
               "car_stop": 0.06}.items():
    _GRAIN[_MAT_ID[_m]] = _a


def _label_lut(layout: str) -> np.ndarray:
    names = DATASET_CLASSES[layout][0]
    col = LAYOUTS.index(layout)
    lut = np.zeros(len(MATERIALS), np.uint8)
    for m, pair in _MATERIAL_CLASS.items():
        if pair[col] is not None:
            lut[_MAT_ID[m]] = names.index(pair[col])
    return lut


_LABEL_LUT = {layout: _label_lut(layout) for layout in LAYOUTS}


@dataclass
class Scene:
    """One rendered frame: ``rgb`` uint8 HxWx3 (RGB order), ``thermal16`` uint16 raw counts,
    ``thermal8`` uint8 (THERMAL_COUNTS → 0..255), ``label`` uint8 class ids, ``night``."""

    rgb: np.ndarray
    thermal16: np.ndarray
    thermal8: np.ndarray
    label: np.ndarray
    night: bool


def counts_from_celsius(temp_c: np.ndarray) -> np.ndarray:
    """Scene temperature (°C, float) → raw counts (float), linear over TEMPERATURE_RANGE_C."""
    (t0, t1), (c0, c1) = TEMPERATURE_RANGE_C, THERMAL_COUNTS
    return c0 + (np.asarray(temp_c, np.float32) - t0) * np.float32((c1 - c0) / (t1 - t0))


def thermal8_from_counts(counts: np.ndarray) -> np.ndarray:
    """Raw counts → uint8 by the linear map THERMAL_COUNTS → 0..255 (clipped)."""
    c0, c1 = THERMAL_COUNTS
    x = (np.asarray(counts, np.float32) - c0) * np.float32(255.0 / (c1 - c0))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- geometry
@dataclass
class _Camera:
    """Pinhole camera ``height`` m above a flat ground; X right, Y up, z forward (metres)."""

    h: int
    w: int
    horizon: float  # image row of the horizon
    f: float  # focal length, pixels
    height: float
    vp_x: float  # column of the vanishing point

    def project(self, x: float, y: float, z: float) -> tuple[float, float]:
        z = max(z, 0.3)
        return self.vp_x + self.f * x / z, self.horizon + self.f * (self.height - y) / z

    def scale(self, z: float) -> float:
        return self.f / max(z, 0.3)

    def z_bottom(self) -> float:
        """Depth of the ground seen at the bottom image row."""
        return self.f * self.height / max(self.h - self.horizon, 1.0)


class _Painter:
    """Draws each primitive into every channel at once: RGB albedo, light emission,
    temperature (°C) and material id, so the label is exact for what RGB and thermal show."""

    SHIFT = 2  # sub-pixel vertex precision (2 bits), so motion over t is smooth

    def __init__(self, h: int, w: int) -> None:
        self.albedo = np.zeros((h, w, 3), np.float32)
        self.emit = np.zeros((h, w, 3), np.float32)
        self.temp = np.zeros((h, w), np.float32)
        self.mat = np.zeros((h, w), np.uint8)
        self.lights: list[tuple[float, float, float, float]] = []  # u, v, radius px, strength

    def _targets(self, rgb, temp, mat, emit):
        out = [(self.albedo, tuple(float(c) for c in rgb))]
        if temp is not None:
            out.append((self.temp, float(temp)))
        if mat is not None:
            out.append((self.mat, _MAT_ID[mat]))
        if emit is not None:
            out.append((self.emit, tuple(float(c) for c in emit)))
        return out

    def poly(self, pts, rgb, temp, mat, emit=None) -> None:
        p = [np.rint(np.asarray(pts, np.float64) * (1 << self.SHIFT)).astype(np.int32)]
        for img, val in self._targets(rgb, temp, mat, emit):
            cv2.fillPoly(img, p, val, cv2.LINE_8, self.SHIFT)

    def circle(self, c, r, rgb, temp, mat, emit=None, thickness: int = -1) -> None:
        s = 1 << self.SHIFT
        center = (round(c[0] * s), round(c[1] * s))
        radius = max(round(r * s), s // 2)
        for img, val in self._targets(rgb, temp, mat, emit):
            cv2.circle(img, center, radius, val, thickness, cv2.LINE_8, self.SHIFT)

    def line(self, p0, p1, width: float, rgb, temp, mat, emit=None) -> None:
        s = 1 << self.SHIFT
        a = (round(p0[0] * s), round(p0[1] * s))
        b = (round(p1[0] * s), round(p1[1] * s))
        th = max(round(width), 1)
        for img, val in self._targets(rgb, temp, mat, emit):
            cv2.line(img, a, b, val, th, cv2.LINE_8, self.SHIFT)


class _Board:
    """A vertical plane facing the camera at depth z: draw in metres (x right, y up)."""

    def __init__(self, p: _Painter, cam: _Camera, x: float, z: float, mirror: bool = False):
        self.p, self.s = p, cam.scale(z)
        self.cu, self.vg = cam.project(x, 0.0, z)
        self.sx = -1.0 if mirror else 1.0

    def pt(self, x: float, y: float) -> tuple[float, float]:
        return self.cu + self.sx * self.s * x, self.vg - self.s * y

    def rect(self, x0, y0, x1, y1, rgb, temp, mat, emit=None) -> None:
        self.p.poly([self.pt(x0, y0), self.pt(x1, y0), self.pt(x1, y1), self.pt(x0, y1)],
                    rgb, temp, mat, emit)

    def poly(self, xy, rgb, temp, mat, emit=None) -> None:
        self.p.poly([self.pt(x, y) for x, y in xy], rgb, temp, mat, emit)

    def circle(self, x, y, r, rgb, temp, mat, emit=None, ring: float | None = None) -> None:
        th = -1 if ring is None else max(round(ring * self.s), 1)
        self.p.circle(self.pt(x, y), r * self.s, rgb, temp, mat, emit, th)

    def line(self, x0, y0, x1, y1, width, rgb, temp, mat) -> None:
        self.p.line(self.pt(x0, y0), self.pt(x1, y1), width * self.s, rgb, temp, mat)


def _side_quad(cam: _Camera, x: float, z0: float, z1: float, y0: float, y1: float):
    """Corners of a vertical plane parallel to the road (constant X) between depths z0..z1."""
    return [cam.project(x, y0, z0), cam.project(x, y0, z1),
            cam.project(x, y1, z1), cam.project(x, y1, z0)]


def _ground_quad(cam: _Camera, x0: float, x1: float, z0: float, z1: float, y: float = 0.0):
    return [cam.project(x0, y, z0), cam.project(x1, y, z0),
            cam.project(x1, y, z1), cam.project(x0, y, z1)]


def _uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """U(lo, hi), or U(lo, lo + 1) when the near limit passed the far one (odd aspect)."""
    return rng.uniform(lo, max(hi, lo + 1.0))


def _bounce(p0: float, v: float, t: float, lo: float, hi: float) -> float:
    """Position moving at speed v from p0, reflected at lo and hi (continuous in t)."""
    span = hi - lo
    if span <= 0:
        return lo
    x = (p0 - lo + v * t) % (2 * span)
    return lo + (x if x <= span else 2 * span - x)


# --------------------------------------------------------------------------- the world
@dataclass
class _Env:
    """Temperatures (°C) and lighting of one scene, day or night."""

    night: bool
    air: float
    sky_zenith: float
    road: float
    sidewalk: float
    building: float
    window: float
    vegetation: float
    metal: float
    skin: float
    cloth: float
    engine: float
    tyre: float
    exhaust: float
    body: float
    glass: float
    exposure: float
    ambient: float  # night ambient light level


@dataclass
class _Agent:
    kind: str
    x: float
    z: float
    vx: float = 0.0
    vz: float = 0.0
    x_range: tuple[float, float] = (0.0, 0.0)
    z_range: tuple[float, float] = (0.0, 0.0)
    params: dict = field(default_factory=dict)

    def at(self, t: float) -> tuple[float, float]:
        x = _bounce(self.x, self.vx, t, *self.x_range) if self.vx else self.x
        z = _bounce(self.z, self.vz, t, *self.z_range) if self.vz else self.z
        return x, z


_CAR_COLOURS = [(0.75, 0.08, 0.07), (0.1, 0.2, 0.6), (0.9, 0.9, 0.9), (0.08, 0.08, 0.09),
                (0.6, 0.62, 0.65), (0.85, 0.7, 0.1), (0.15, 0.35, 0.2), (0.45, 0.25, 0.12)]
_SHIRTS = [(0.8, 0.1, 0.1), (0.1, 0.3, 0.7), (0.9, 0.9, 0.85), (0.2, 0.5, 0.2), (0.9, 0.6, 0.1),
           (0.3, 0.3, 0.3), (0.6, 0.2, 0.6), (0.05, 0.05, 0.05)]
_TROUSERS = [(0.1, 0.12, 0.25), (0.15, 0.15, 0.15), (0.35, 0.3, 0.25), (0.2, 0.25, 0.4)]
_BUILDING_COLOURS = [(0.72, 0.66, 0.56), (0.55, 0.55, 0.56), (0.6, 0.35, 0.28),
                     (0.82, 0.8, 0.74), (0.45, 0.48, 0.5), (0.68, 0.6, 0.45)]

# How many of each agent per layout: (min, max) counts.
_COUNTS = {
    "mfnet": {"car": (1, 4), "person": (1, 4), "bicycle": (0, 2), "motorcycle": (0, 0),
              "truck": (0, 0), "bus": (0, 0), "cone": (0, 4), "car_stop": (0, 3),
              "tree": (0, 3), "streetlight": (0, 2), "traffic_light": (0, 0), "sign": (0, 0),
              "pole": (0, 1)},
    "fmb": {"car": (1, 3), "person": (1, 4), "bicycle": (0, 2), "motorcycle": (0, 1),
            "truck": (0, 1), "bus": (0, 1), "cone": (0, 1), "car_stop": (0, 0),
            "tree": (1, 4), "streetlight": (0, 2), "traffic_light": (0, 2), "sign": (0, 2),
            "pole": (1, 3)},
}


class _World:
    """Everything random about a scene, drawn from the seed in a fixed order (independent of
    ``night`` and ``t``, so the same seed shows the same street by day, by night, over time)."""

    def __init__(self, rng: np.random.Generator, h: int, w: int, layout: str) -> None:
        self.layout = layout
        self.night_draw = bool(rng.random() < 0.5)
        horizon = h * rng.uniform(0.36, 0.46)
        # focal length from the width of a 4:3 frame, so odd aspect ratios keep a sane view
        self.cam = _Camera(h, w, horizon, min(w, h * 4 / 3) * rng.uniform(0.8, 1.0),
                           rng.uniform(1.3, 1.7),
                           w * (0.5 + rng.uniform(-0.08, 0.08)))
        self.road_half = rng.uniform(3.5, 6.0)
        self.curb_w = 0.25
        self.side_w = rng.uniform(2.0, 4.0)
        self.facade = [self.road_half + self.curb_w + self.side_w + rng.uniform(0.0, 3.0)
                       for _ in range(2)]
        self.curb_paint = rng.random() < 0.4
        self.guardrail_side = int(rng.integers(0, 2)) if rng.random() < (
            0.5 if layout == "mfnet" else 0.15) else None
        self.guardrail_z = (rng.uniform(0.5, 1.0) * self.cam.z_bottom(), rng.uniform(25, 70))
        self.bump_z = rng.uniform(8, 22) if rng.random() < (
            0.45 if layout == "mfnet" else 0.0) else None
        self.lane_dash = rng.random() < 0.7
        self.manhole = (rng.uniform(-0.6, 0.6) * self.road_half, rng.uniform(7, 20)) if (
            rng.random() < 0.4) else None
        self.temps = self._temperatures(rng)
        self.buildings = [self._buildings(rng, side) for side in (0, 1)]
        self.agents = self._agents(rng)
        self.poster = (int(rng.integers(0, 2)), rng.uniform(10, 30), rng.uniform(0, 1)) if (
            rng.random() < 0.4) else None

    def side_x(self, side: int, x: float) -> float:
        return -x if side == 0 else x

    def _temperatures(self, rng: np.random.Generator) -> dict:
        return {"air_day": rng.uniform(14, 24), "air_night": rng.uniform(4, 16),
                "road_day": rng.uniform(3, 7), "exposure": rng.uniform(0.85, 1.1),
                "ambient": rng.uniform(0.05, 0.1), "lit_windows": rng.uniform(0.1, 0.4)}

    def _buildings(self, rng: np.random.Generator, side: int) -> list[dict]:
        out, z = [], self.cam.z_bottom() * rng.uniform(0.3, 1.0)
        while z < 160:
            length = rng.uniform(8, 25)
            b = {"z0": z, "z1": z + length, "height": rng.uniform(5, 28),
                 "colour": _BUILDING_COLOURS[int(rng.integers(len(_BUILDING_COLOURS)))],
                 "win_w": rng.uniform(1.0, 2.0), "win_h": rng.uniform(1.0, 1.8),
                 "lit_seed": int(rng.integers(1 << 30)), "present": rng.random() < 0.85}
            out.append(b)
            z += length + (rng.uniform(2, 12) if rng.random() < 0.3 else 0.0)
        return out

    def _agents(self, rng: np.random.Generator) -> list[_Agent]:
        rh, side_w, cb = self.road_half, self.side_w, self.curb_w
        zb = self.cam.z_bottom()
        counts = _COUNTS[self.layout]
        agents: list[_Agent] = []

        def n(kind: str) -> int:
            lo, hi = counts[kind]
            return int(rng.integers(lo, hi + 1))

        def sidewalk_x(side: int, lo: float = 0.3, hi: float = 0.9) -> float:
            return self.side_x(side, rh + cb + side_w * rng.uniform(lo, hi))

        def z_visible(x: float, z_min: float) -> float:
            """Nearest depth at which something at lateral offset x is still in view."""
            return max(z_min, zb + 1.0, self.cam.f * abs(x) / (0.4 * self.cam.w))

        for _ in range(n("car")):
            lane = rng.uniform(-0.6, 0.6) * rh
            agents.append(_Agent("car", lane, _uniform(rng, max(7, zb + 3), 45),
                                 vz=rng.uniform(-4, 4), z_range=(max(6, zb + 2), 50),
                                 params={"colour": _CAR_COLOURS[int(rng.integers(8))],
                                         "w": rng.uniform(1.65, 1.9), "h": rng.uniform(1.35, 1.6),
                                         "front": rng.random() < 0.5}))
        for kind, zlo in (("truck", 12), ("bus", 14)):
            for _ in range(n(kind)):
                agents.append(_Agent(kind, rng.uniform(-0.5, 0.5) * rh, rng.uniform(zlo, 50),
                                     vz=rng.uniform(-3, 3), z_range=(zlo, 55),
                                     params={"colour": _CAR_COLOURS[int(rng.integers(8))],
                                             "front": rng.random() < 0.5,
                                             "stripe": _SHIRTS[int(rng.integers(8))]}))
        for _ in range(n("person")):
            side = int(rng.integers(0, 2))
            look = {"shirt": _SHIRTS[int(rng.integers(8))],
                    "trousers": _TROUSERS[int(rng.integers(4))], "h": rng.uniform(1.55, 1.9),
                    "phase": rng.uniform(0, 2 * math.pi), "skin": rng.uniform(0.45, 0.9)}
            if rng.random() < 0.35:  # crossing the road (inside the view)
                z = _uniform(rng, max(6, zb + 1), 25)
                xr = min(rh + 1, 0.4 * self.cam.w * z / self.cam.f)
                agents.append(_Agent("person", rng.uniform(-xr, xr), z,
                                     vx=rng.choice([-1, 1]) * rng.uniform(0.8, 1.6),
                                     x_range=(-xr, xr), params=look))
            else:
                x = sidewalk_x(side)
                z_lo = z_visible(x, 5.0)
                agents.append(_Agent("person", x, rng.uniform(z_lo, z_lo + 25),
                                     vz=rng.choice([-1, 1]) * rng.uniform(0.7, 1.5),
                                     z_range=(z_lo, z_lo + 30), params=look))
        for kind in ("bicycle", "motorcycle"):
            for _ in range(n(kind)):
                rider = {"shirt": _SHIRTS[int(rng.integers(8))],
                         "trousers": _TROUSERS[int(rng.integers(4))], "h": rng.uniform(1.6, 1.85),
                         "phase": 0.0, "skin": rng.uniform(0.45, 0.9)}
                speed = rng.uniform(2, 5) if kind == "bicycle" else rng.uniform(4, 9)
                z = rng.uniform(8, 30)
                xr = min(rh + 3, 0.45 * self.cam.w * z / self.cam.f)
                agents.append(_Agent(kind, rng.uniform(-xr, xr), z,
                                     vx=rng.choice([-1, 1]) * speed, x_range=(-xr, xr),
                                     params={"rider": rng.random() < 0.7, "look": rider,
                                             "colour": _CAR_COLOURS[int(rng.integers(8))]}))
        for _ in range(n("cone")):
            side = int(rng.integers(0, 2))
            x = self.side_x(side, rh - rng.uniform(0.2, 1.5))
            agents.append(_Agent("cone", x, _uniform(rng, z_visible(x, 5.0), 32)))
        for _ in range(n("car_stop")):
            side = int(rng.integers(0, 2))
            x = sidewalk_x(side, 0.1, 0.6)
            agents.append(_Agent("car_stop", x, _uniform(rng, z_visible(x, 5.0), 30),
                                 params={"yellow": rng.random() < 0.6}))
        for _ in range(n("tree")):
            side = int(rng.integers(0, 2))
            agents.append(_Agent("tree", sidewalk_x(side, 0.6, 0.95), rng.uniform(8, 60),
                                 params={"trunk": rng.uniform(1.8, 3.0),
                                         "crown": rng.uniform(1.2, 2.5),
                                         "blobs": rng.uniform(-1, 1, (5, 3)).tolist()}))
        for kind in ("streetlight", "traffic_light", "sign", "pole"):
            for _ in range(n(kind)):
                side = int(rng.integers(0, 2))
                agents.append(_Agent(kind, sidewalk_x(side, 0.05, 0.3), rng.uniform(8, 45),
                                     params={"side": side, "height": rng.uniform(4.5, 8.0),
                                             "shape": int(rng.integers(0, 3)),
                                             "state": int(rng.integers(0, 3)),
                                             "colour": int(rng.integers(0, 3))}))
        return agents


def _environment(world: _World, night: bool) -> _Env:
    """Day: sun-warmed road, cold clear sky, glass reflecting the sky. Night: cooler air,
    surfaces near air temperature, people and engines as warm as by day."""
    tp = world.temps
    if night:
        air = tp["air_night"]
        return _Env(night=True, air=air, sky_zenith=air - 22, road=air + 3, sidewalk=air + 1.5,
                    building=air + 3, window=air + 7, vegetation=air - 1, metal=air - 2,
                    skin=32.0, cloth=max(air + 9, 24.0), engine=air + 30, tyre=air + 12,
                    exhaust=air + 45, body=air + 6, glass=air + 1, exposure=1.0,
                    ambient=tp["ambient"])
    air = tp["air_day"]
    return _Env(night=False, air=air, sky_zenith=air - 30, road=air + tp["road_day"],
                sidewalk=air + 4, building=air + 3, window=air - 5, vegetation=air - 2,
                metal=air - 6, skin=34.0, cloth=0.5 * (34 + air) + 4, engine=air + 30,
                tyre=air + 14, exhaust=air + 45, body=air + 8, glass=air - 4,
                exposure=tp["exposure"], ambient=1.0)


# --------------------------------------------------------------------------- drawing
def _draw_static(p: _Painter, world: _World, env: _Env) -> None:
    cam, rh, cb, sw = world.cam, world.road_half, world.curb_w, world.side_w
    h = cam.h
    hz = int(np.clip(math.ceil(cam.horizon), 0, h))
    # sky: gradient to the horizon (cold in thermal, warming towards the horizon)
    rows = np.linspace(0.0, 1.0, max(hz, 1), dtype=np.float32)[:, None]
    if env.night:
        top, bottom = np.array([0.02, 0.03, 0.08]), np.array([0.1, 0.1, 0.16])
    else:
        top, bottom = np.array([0.3, 0.5, 0.85]), np.array([0.75, 0.85, 0.95])
    p.albedo[:hz] = (top + (bottom - top) * rows)[:, None, :].astype(np.float32)
    p.temp[:hz] = (env.sky_zenith + (env.air - 4 - env.sky_zenith) * rows).astype(np.float32)
    p.mat[:hz] = _MAT_ID["sky"]
    p.albedo[hz:] = (0.36, 0.37, 0.26)
    p.temp[hz:] = env.air + (3 if not env.night else 0.5)
    p.mat[hz:] = _MAT_ID["terrain"]

    z0, z1 = 0.5, 400.0
    road_rgb = (0.3, 0.3, 0.32)
    for side in (0, 1):
        sx = world.side_x
        p.poly(_ground_quad(cam, sx(side, rh + cb), sx(side, rh + cb + sw), z0, z1),
               (0.62, 0.58, 0.54), env.sidewalk, "sidewalk")
        # paver joints: the sidewalk's RGB-only texture
        for zz in np.arange(1.0, 40.0, 0.6):
            a = cam.project(sx(side, rh + cb), 0, zz)
            b = cam.project(sx(side, rh + cb + sw), 0, zz)
            if b[1] - cam.horizon > 6:
                p.line(a, b, 1, (0.45, 0.42, 0.4), None, None)
    p.poly(_ground_quad(cam, -rh, rh, z0, z1), road_rgb, env.road, "road")
    # curbs (MFNet "curve"): top strip and the face towards the road
    for side in (0, 1):
        sx = world.side_x
        xi, xo = sx(side, rh), sx(side, rh + cb)
        p.poly(_ground_quad(cam, xi, xo, z0, z1, 0.15), (0.72, 0.72, 0.7), env.sidewalk - 1,
               "curb")
        p.poly(_side_quad(cam, xi, z0, z1, 0.0, 0.15), (0.62, 0.62, 0.6), env.sidewalk - 1,
               "curb")
        if world.curb_paint:
            for k, zz in enumerate(np.arange(1.0, 40.0, 1.0)):
                if k % 2:
                    col = (0.8, 0.1, 0.1) if side == 0 else (0.9, 0.8, 0.1)
                    p.poly(_ground_quad(cam, xi, xo, zz, zz + 1.0, 0.15), col, None, None)
                    p.poly(_side_quad(cam, xi, zz, zz + 1.0, 0.0, 0.15), col, None, None)
    # lane markings (road in both label sets)
    for side in (0, 1):
        x = world.side_x(side, rh - 0.3)
        p.poly(_ground_quad(cam, x - 0.06, x + 0.06, z0, z1), (0.85, 0.85, 0.82), env.road - 1,
               "lane")
    for zz in np.arange(2.0, 120.0, 9.0) if world.lane_dash else ():
        p.poly(_ground_quad(cam, -0.08, 0.08, zz, zz + 3.0), (0.88, 0.88, 0.8), env.road - 1,
               "lane")
    if world.manhole is not None:  # hot in thermal (warm pipes below), plain metal in RGB
        mx, mz = world.manhole
        pts = [cam.project(mx + 0.4 * math.cos(a), 0, mz + 0.4 * math.sin(a))
               for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]
        p.poly(pts, (0.2, 0.2, 0.2), max(env.road + 8, 33.0), "manhole")
    if world.bump_z is not None:  # striped speed bump across the road
        zb = world.bump_z
        xs = np.arange(-rh, rh, 0.5)
        for k, x in enumerate(xs):
            col = (0.9, 0.75, 0.05) if k % 2 == 0 else (0.08, 0.08, 0.08)
            p.poly(_ground_quad(cam, x, min(x + 0.5, rh), zb, zb + 0.5, 0.06), col,
                   env.road - 2, "bump")
            p.poly(_ground_quad(cam, x, min(x + 0.5, rh), zb - 0.15, zb, 0.0), col,
                   env.road - 2, "bump")
    # buildings along both sides, far to near
    for side in (0, 1):
        xf = world.side_x(side, world.facade[side])
        for b in reversed(world.buildings[side]):
            if not b["present"]:
                continue
            _draw_building(p, cam, world, env, side, xf, b)
    if world.guardrail_side is not None:
        side = world.guardrail_side
        x = world.side_x(side, rh + cb + 0.3)
        za, zb_ = world.guardrail_z
        for zz in np.arange(math.ceil(za), zb_, 2.0)[::-1]:
            post = _Board(p, cam, x, zz)
            post.rect(-0.06, 0.0, 0.06, 0.8, (0.55, 0.55, 0.57), env.metal, "guardrail")
        p.poly(_side_quad(cam, x, za, zb_, 0.45, 0.8), (0.82, 0.82, 0.84), env.metal,
               "guardrail")
        p.poly(_side_quad(cam, x, za, zb_, 0.6, 0.65), (0.6, 0.6, 0.62), env.metal, None)
    if world.poster is not None:  # a person printed on a wall: a person in RGB only
        side, zz, u = world.poster
        xf = world.side_x(side, world.facade[side] - 0.05)
        b = _Board(p, cam, xf, zz)
        look = {"shirt": (0.8, 0.1, 0.1), "trousers": (0.1, 0.12, 0.25), "h": 1.75,
                "phase": u * 6, "skin": 0.7}
        b.rect(-0.6, 0.3, 0.6, 2.5, (0.9, 0.9, 0.88), None, None)
        _draw_person(b, env, look, 0.0, poster=True, base=0.5)


def _draw_building(p, cam, world, env, side, xf, b) -> None:
    z0, z1, hb = b["z0"], b["z1"], b["height"]
    col = b["colour"]
    # front face towards the camera, then the facade along the road
    outer = world.side_x(side, world.facade[side] + 12.0)
    p.poly([cam.project(xf, 0, z0), cam.project(outer, 0, z0), cam.project(outer, hb, z0),
            cam.project(xf, hb, z0)], tuple(c * 0.8 for c in col), env.building - 1, "building")
    p.poly(_side_quad(cam, xf, z0, z1, 0.0, hb), col, env.building, "building")
    s_near = cam.scale(max(z0, 1.0))
    if b["win_h"] * s_near < 3:  # windows too small to see
        return
    lit = np.random.default_rng(b["lit_seed"])
    ww, wh = b["win_w"], b["win_h"]
    for y in np.arange(1.2, hb - wh, 3.2):
        for zz in np.arange(z0 + 1.0, z1 - ww, 3.5):
            on = lit.random() < world.temps["lit_windows"]
            if cam.scale(zz) * wh < 2:
                break
            if env.night and on:
                p.poly(_side_quad(cam, xf, zz, zz + ww, y, y + wh), (0.9, 0.8, 0.5),
                       env.window + 2, "building", emit=(0.5, 0.42, 0.22))
            else:
                glass = (0.05, 0.06, 0.08) if env.night else (0.35, 0.45, 0.55)
                p.poly(_side_quad(cam, xf, zz, zz + ww, y, y + wh), glass, env.window - 4,
                       "building")
    if env.night:
        u, v = cam.project(xf, hb * 0.5, 0.5 * (z0 + z1))
        p.lights.append((u, v, 0.3 * hb * cam.scale(0.5 * (z0 + z1)),
                         0.1 * world.temps["lit_windows"]))


def _draw_person(b: _Board, env: _Env, look: dict, t: float, *, poster: bool = False,
                 base: float = 0.0, seated: bool = False) -> None:
    h = look["h"]
    mat = None if poster else "person"
    cloth = env.building if poster else env.cloth
    skin_t = env.building if poster else env.skin
    sk = look["skin"]
    skin = (sk, sk * 0.75, sk * 0.6)
    swing = 0.0 if seated else 0.12 * math.sin(look["phase"] + 2 * math.pi * 1.8 * t)
    hip = base + 0.5 * h
    if not seated:
        for s in (-1, 1):  # legs
            foot = s * (0.1 + swing)
            b.poly([(s * 0.04 - 0.05, hip), (s * 0.04 + 0.07, hip), (foot + 0.05, base),
                    (foot - 0.07, base)], look["trousers"], cloth - 1, mat)
    else:
        b.poly([(-0.12, hip), (0.12, hip), (0.3, hip - 0.35), (0.15, hip - 0.4)],
               look["trousers"], cloth - 1, mat)
    sh = base + 0.82 * h
    b.poly([(-0.2, sh), (0.2, sh), (0.16, hip), (-0.16, hip)], look["shirt"], cloth, mat)
    for s in (-1, 1):  # arms and hands
        b.line(s * 0.2, sh - 0.02, s * (0.25 + 0.5 * abs(swing)), hip - 0.05, 0.08,
               look["shirt"], cloth, mat)
        b.circle(s * (0.25 + 0.5 * abs(swing)), hip - 0.07, 0.045, skin, skin_t - 2, mat)
    b.rect(-0.045, sh, 0.045, sh + 0.05, skin, skin_t, mat)  # neck
    b.circle(0.0, base + 0.93 * h, 0.11, skin, skin_t, mat)  # head
    b.rect(-0.11, base + 0.95 * h, 0.11, base + h, (0.08, 0.06, 0.05), cloth, mat)  # hair


def _draw_vehicle(p, cam, env, a: _Agent, x: float, z: float, lights: list) -> None:
    kind, pr = a.kind, a.params
    b = _Board(p, cam, x, z)
    if kind == "car":
        w, h = pr["w"], pr["h"]
    elif kind == "truck":
        w, h = 2.5, 3.4
    else:
        w, h = 2.55, 3.1
    hw = w / 2
    if not env.night:  # contact shadow: darker and cooler road
        b.rect(-hw - 0.1, -0.25, hw + 0.1, 0.02, (0.12, 0.12, 0.13), env.road - 3, None)
    col = pr["colour"]
    front = pr["front"]
    for s in (-1, 1):  # tyres: warm
        b.rect(s * hw - 0.32 * s, 0.0, s * hw - 0.02 * s, 0.55, (0.05, 0.05, 0.05), env.tyre,
               kind)
    b.rect(-hw + 0.1, 0.15, hw - 0.1, 0.35, (0.07, 0.07, 0.07), env.tyre - 4, kind)
    if kind == "car":
        b.rect(-hw, 0.3, hw, 0.95, col, env.body, kind)
        b.poly([(-hw * 0.95, 0.93), (hw * 0.95, 0.93), (hw * 0.72, h), (-hw * 0.72, h)], col,
               env.body, kind)
        b.poly([(-hw * 0.85, 0.98), (hw * 0.85, 0.98), (hw * 0.68, h - 0.07),
                (-hw * 0.68, h - 0.07)], (0.1, 0.13, 0.17), env.glass, kind)
        ly = (0.62, 0.8)
        b.rect(-0.25, 0.4, 0.25, 0.52, (0.92, 0.92, 0.9), env.body, kind)  # plate
        if front:  # radiator grille: the hot engine
            b.rect(-hw * 0.55, 0.55, hw * 0.55, 0.82, (0.15, 0.15, 0.16), env.engine, kind)
        else:
            b.circle(hw * 0.55, 0.22, 0.06, (0.1, 0.1, 0.1), env.exhaust, kind)
    else:
        body_top = h
        b.rect(-hw, 0.45, hw, body_top, col if kind == "bus" else (0.85, 0.86, 0.88),
               env.body, kind)
        if kind == "bus":
            b.rect(-hw, 1.0, hw, 1.25, pr["stripe"], env.body, kind)
            b.rect(-hw * 0.85, 1.5 if front else 1.9, hw * 0.85, h - 0.25, (0.1, 0.13, 0.17),
                   env.glass, kind)
            if front:  # destination display
                b.rect(-hw * 0.6, h - 0.22, hw * 0.6, h - 0.05, (0.3, 0.2, 0.05), env.body, kind,
                       emit=(0.9, 0.5, 0.05) if env.night else (0.3, 0.15, 0.0))
            b.rect(-hw * 0.5, 0.5, hw * 0.5, 0.9, (0.15, 0.15, 0.15), env.engine, kind)
        else:  # truck: cab in front, a ribbed cargo box seen from behind
            if front:
                b.rect(-hw * 0.9, 1.6, hw * 0.9, 2.5, (0.1, 0.13, 0.17), env.glass, kind)
                b.rect(-hw * 0.6, 0.6, hw * 0.6, 1.3, (0.15, 0.15, 0.15), env.engine, kind)
            else:
                for y in np.arange(0.9, body_top - 0.2, 0.5):
                    b.line(-hw, y, hw, y, 0.04, (0.6, 0.6, 0.62), None, None)
                b.line(0, 0.5, 0, body_top, 0.05, (0.4, 0.4, 0.4), None, None)
                b.circle(hw * 0.6, 0.35, 0.08, (0.1, 0.1, 0.1), env.exhaust, kind)
        ly = (0.55, 0.75)
    for s in (-1, 1):  # head lights (facing us) or tail lights
        x0, x1 = sorted((s * (hw - 0.08), s * (hw - 0.38)))
        if front:
            emit = (1.0, 0.95, 0.8) if env.night else None
            b.rect(x0, ly[0], x1, ly[1], (0.95, 0.95, 0.9), env.body + 8, kind, emit=emit)
            if env.night:
                u, v = b.pt(0.5 * (x0 + x1), 0.5 * (ly[0] + ly[1]))
                lights.append((u, v, 3.0 * b.s, 0.5))
        else:
            emit = (0.8, 0.05, 0.02) if env.night else None
            b.rect(x0, ly[0], x1, ly[1], (0.7, 0.05, 0.05), env.body + 4, kind, emit=emit)
            if env.night:
                u, v = b.pt(0.5 * (x0 + x1), 0.5 * (ly[0] + ly[1]))
                lights.append((u, v, 0.8 * b.s, 0.1))


def _draw_two_wheeler(p, cam, env, a: _Agent, x: float, z: float, t: float) -> None:
    kind, pr = a.kind, a.params
    b = _Board(p, cam, x, z, mirror=a.vx < 0)  # side view, facing its direction of travel
    if not env.night:
        b.rect(-0.9, -0.12, 0.9, 0.02, (0.12, 0.12, 0.13), env.road - 3, None)
    r = 0.34 if kind == "bicycle" else 0.32
    tyre_t = env.air + 1 if kind == "bicycle" else env.tyre
    frame_t = env.metal if kind == "bicycle" else env.body
    for cx in (-0.55, 0.55):
        b.circle(cx, r, r, (0.05, 0.05, 0.05), tyre_t, kind, ring=0.06)
        b.line(cx, r, cx, r, 0.05, (0.3, 0.3, 0.3), frame_t, kind)
    col = pr["colour"]
    if kind == "bicycle":
        frame = ((-0.55, r, -0.05, r), (-0.05, r, -0.2, 0.85), (-0.05, r, 0.4, 0.85),
                 (-0.2, 0.85, 0.4, 0.85), (0.4, 0.85, 0.55, r), (-0.55, r, -0.2, 0.85),
                 (0.4, 0.85, 0.45, 1.0))
        for (x0, y0, x1, y1) in frame:
            b.line(x0, y0, x1, y1, 0.04, col, frame_t, kind)
        b.rect(-0.3, 0.86, -0.1, 0.92, (0.05, 0.05, 0.05), frame_t, kind)
        seat = (-0.2, 0.9)
    else:
        b.poly([(-0.45, 0.45), (0.45, 0.45), (0.55, 0.85), (0.1, 0.95), (-0.5, 0.8)], col,
               env.body, kind)
        b.rect(-0.2, 0.25, 0.2, 0.5, (0.2, 0.2, 0.22), env.engine + 5, kind)  # engine
        b.line(-0.2, 0.3, -0.75, 0.35, 0.06, (0.5, 0.5, 0.5), env.exhaust, kind)  # exhaust
        b.line(0.45, 0.8, 0.55, 1.05, 0.04, (0.2, 0.2, 0.2), env.metal, kind)
        seat = (-0.15, 0.95)
    if pr["rider"]:
        rb = _Board(p, cam, 0.0, z)
        rb.s, rb.sx = b.s, b.sx
        rb.cu, rb.vg = b.pt(seat[0], seat[1] - 0.5 * pr["look"]["h"])
        _draw_person(rb, env, pr["look"], t, seated=True)


def _draw_roadside(p, cam, world, env, a: _Agent, x: float, z: float, lights: list) -> None:
    b = _Board(p, cam, x, z)
    pr = a.params
    if a.kind == "cone":
        b.rect(-0.2, 0.0, 0.2, 0.05, (0.05, 0.05, 0.05), env.road, "cone")
        b.poly([(-0.16, 0.05), (0.16, 0.05), (0.035, 0.72), (-0.035, 0.72)], (1.0, 0.42, 0.05),
               env.air + 2, "cone")
        b.poly([(-0.11, 0.32), (0.11, 0.32), (0.08, 0.48), (-0.08, 0.48)], (0.95, 0.95, 0.95),
               env.air + 2, "cone")
    elif a.kind == "car_stop":
        col = (0.92, 0.78, 0.1) if pr["yellow"] else (0.65, 0.65, 0.62)
        b.rect(-0.75, 0.0, 0.75, 0.18, col, env.sidewalk - 1, "car_stop")
        b.rect(-0.6, 0.06, -0.4, 0.12, (0.1, 0.1, 0.1), None, None)
        b.rect(0.4, 0.06, 0.6, 0.12, (0.1, 0.1, 0.1), None, None)
    elif a.kind == "tree":
        b.rect(-0.15, 0.0, 0.15, pr["trunk"] + 0.5, (0.3, 0.2, 0.1), env.air, "vegetation")
        cr = pr["crown"]
        for dx, dy, dr in pr["blobs"]:
            g = 0.35 + 0.1 * dr
            b.circle(0.5 * cr * dx, pr["trunk"] + cr * (1 + 0.4 * dy), cr * (0.6 + 0.15 * dr),
                     (0.12, g, 0.1), env.vegetation + 0.5 * dr, "vegetation")
    else:  # a pole, with a street lamp, traffic light or sign on it
        hp = pr["height"] if a.kind in ("streetlight", "pole") else 3.2 + 0.4 * pr["shape"]
        b.rect(-0.1, 0.0, 0.1, hp, (0.45, 0.46, 0.48), env.metal, "pole")
        toward = 1.0 if pr["side"] == 0 else -1.0  # arms reach over the road
        if a.kind == "streetlight":
            b.line(0.0, hp, toward * 1.5, hp + 0.3, 0.08, (0.45, 0.46, 0.48), env.metal, "pole")
            emit = (1.0, 0.85, 0.55) if env.night else None
            b.rect(toward * 1.5 - 0.3, hp + 0.1, toward * 1.5 + 0.3, hp + 0.35,
                   (0.8, 0.8, 0.75), env.air + (25 if env.night else 3), "pole", emit=emit)
            if env.night:
                u, v = b.pt(toward * 1.5, hp)
                lights.append((u, v, 5.0 * b.s, 0.6))
        elif a.kind == "traffic_light":
            b.rect(-0.2, hp, 0.2, hp + 1.0, (0.08, 0.08, 0.08), env.air + 3, "lamp")
            colours = ((0.9, 0.1, 0.05), (0.95, 0.7, 0.05), (0.1, 0.85, 0.3))
            for k, c in enumerate(colours):
                on = k == pr["state"]
                dim = tuple(0.15 + 0.1 * ch for ch in c)
                b.circle(0.0, hp + 0.83 - 0.33 * k, 0.12, c if on else dim,
                         env.air + (12 if on else 3), "lamp",
                         emit=tuple(0.8 * ch for ch in c) if on else None)
        elif a.kind == "sign":
            colour = ((0.1, 0.3, 0.75), (0.85, 0.1, 0.1), (0.1, 0.5, 0.25))[pr["colour"]]
            y = hp + 0.4
            if pr["shape"] == 0:
                b.circle(0.0, y, 0.38, colour, env.metal, "sign")
                b.circle(0.0, y, 0.26, (0.95, 0.95, 0.95), env.metal, "sign")
            elif pr["shape"] == 1:
                b.poly([(-0.42, y - 0.3), (0.42, y - 0.3), (0.0, y + 0.42)], (0.85, 0.1, 0.1),
                       env.metal, "sign")
                b.poly([(-0.28, y - 0.22), (0.28, y - 0.22), (0.0, y + 0.25)],
                       (0.95, 0.95, 0.95), env.metal, "sign")
            else:
                b.rect(-0.5, y - 0.35, 0.5, y + 0.35, colour, env.metal, "sign")
                b.rect(-0.35, y - 0.05, 0.35, y + 0.05, (0.95, 0.95, 0.95), env.metal, "sign")


def _low_freq(rng: np.random.Generator, h: int, w: int, cell: int = 24) -> np.ndarray:
    small = rng.standard_normal((max(h // cell, 2), max(w // cell, 2)), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def render_scene(seed: int, height: int = 480, width: int = 640, layout: str = "mfnet",
                 night: bool | None = None, t: float = 0.0) -> Scene:
    """Render one synthetic RGB-thermal street scene.

    seed: the scene (layout, objects, colours, temperatures); night: None draws day or night
    from the seed; t: seconds, moves the agents (consecutive t make a video). Same arguments,
    same pixels.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if height < 16 or width < 16:
        raise ValueError(f"scene size must be at least 16x16, got {height}x{width}")
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    rng = np.random.default_rng(seed)
    world = _World(rng, height, width, layout)
    night = world.night_draw if night is None else bool(night)
    env = _environment(world, night)
    cam = world.cam
    p = _Painter(height, width)
    _draw_static(p, world, env)

    # agents far to near, so nearer ones occlude
    placed = sorted(((a, *a.at(t)) for a in world.agents), key=lambda e: -e[2])
    for a, x, z in placed:
        if a.kind in ("car", "truck", "bus"):
            _draw_vehicle(p, cam, env, a, x, z, p.lights)
        elif a.kind in ("bicycle", "motorcycle"):
            _draw_two_wheeler(p, cam, env, a, x, z, t)
        elif a.kind == "person":
            b = _Board(p, cam, x, z)
            if not env.night:
                b.rect(-0.3, -0.08, 0.3, 0.01, (0.12, 0.12, 0.13), None, None)
            _draw_person(b, env, a.params, t)
        else:
            _draw_roadside(p, cam, world, env, a, x, z, p.lights)

    # textures and sensor effects: static textures from the world seed, noise per frame.
    # cv2.randn is ~4x faster than numpy's normal at this size; its RNG is per thread and
    # reseeded here, so results do not depend on what ran before.
    cv2.setRNGSeed(_scene_seed(seed, 1) >> 1)
    grain = np.empty((height, width), np.float32)
    cv2.randn(grain, 0.0, 1.0)
    column = np.empty((1, width), np.float32)
    cv2.randn(column, 0.0, 2.5)  # column fixed-pattern noise of the thermal sensor
    tex_rng = np.random.default_rng([seed, 1])
    mod = _GRAIN[p.mat]
    mod *= grain
    mod += 1.0
    mod *= 1.0 + 0.07 * _low_freq(tex_rng, height, width)
    cv2.setRNGSeed(_scene_seed(seed, 2 + (round(t * 1000.0) % (1 << 30))) >> 1)
    noise = np.empty((height, width, 4), np.float32)  # R, G, B and thermal sensor noise
    cv2.randn(noise, 0.0, 1.0)
    if night:
        light = np.full((max(height // 4, 1), max(width // 4, 1)), env.ambient, np.float32)
        for u, v, r, s in p.lights:
            cv2.circle(light, (round(u / 4), round(v / 4)), max(round(r / 4), 1), float(s), -1)
        light = cv2.GaussianBlur(light, (0, 0), max(width / 160.0, 1.0))
        mod *= cv2.resize(light, (width, height), interpolation=cv2.INTER_LINEAR)
        rgb = p.albedo
        rgb *= mod[..., None]
        rgb *= np.float32([0.9, 0.9, 1.05])  # bluish moonlight
        rgb += p.emit
        sigma = 0.035  # dark frames: high gain, visible noise
    else:
        yy = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
        xx = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
        mod *= env.exposure * (1.0 - 0.12 * (xx * xx + yy * yy))  # vignetting
        rgb = p.albedo
        rgb *= mod[..., None]
        p.emit *= 0.3
        rgb += p.emit
        sigma = 0.01
    rgb += noise[..., :3] * np.float32(sigma)
    np.clip(rgb, 0.0, 1.0, out=rgb)
    rgb *= 255.0
    rgb += 0.5
    rgb8 = rgb.astype(np.uint8)

    temp = p.temp
    temp += 0.6 * _low_freq(tex_rng, height, width, cell=16)
    counts = counts_from_celsius(temp)
    counts = cv2.GaussianBlur(counts, (0, 0), max(0.8 * width / 640.0, 0.5))  # optics
    counts += noise[..., 3] * np.float32(3.5)  # temporal noise, counts
    counts += column
    thermal16 = np.clip(np.rint(counts), 0, 65535).astype(np.uint16)
    label = _LABEL_LUT[layout][p.mat]
    return Scene(rgb=rgb8, thermal16=thermal16, thermal8=thermal8_from_counts(thermal16),
                 label=label, night=night)


# --------------------------------------------------------------------------- datasets on disk
def _scene_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def _split_counts(n: int, fractions: tuple[float, ...]) -> list[int]:
    counts = [max(1, round(n * f)) for f in fractions[1:]]
    return [n - sum(counts), *counts]


def _imwrite(path: Path, img: np.ndarray) -> None:
    if not cv2.imwrite(str(path), img):
        raise OSError(f"could not write {path}")


_OUTPUT_DIRS = ("images", "labels", "train", "test")
_OUTPUT_FILES = ("train.txt", "val.txt", "test.txt", "test_day.txt", "test_night.txt",
                 "preview.png", METADATA_FILE)


def _prepare_output(root: Path, overwrite: bool) -> None:
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"{root} exists and is not a folder")
    if root.is_dir() and any(root.iterdir()):
        if not (root / METADATA_FILE).is_file():
            raise FileExistsError(
                f"{root} is not empty and was not written by `sccosf synth` (no {METADATA_FILE});"
                " refusing to write into it: choose a new folder"
            )
        if not overwrite:
            raise FileExistsError(
                f"{root} already holds a synthetic dataset; pass overwrite=True (sccosf synth "
                "--overwrite) to replace it, or choose a new folder"
            )
        for d in _OUTPUT_DIRS:  # only what an earlier write_dataset made
            if (root / d).is_dir():
                shutil.rmtree(root / d)
        for f in _OUTPUT_FILES:
            (root / f).unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)


def write_dataset(out: str | os.PathLike, layout: str = "mfnet", n: int = 20, seed: int = 0,
                  height: int = 480, width: int = 640, night_fraction: float = 0.5,
                  progress: bool = True, overwrite: bool = False) -> Path:
    """Write ``n`` scenes in the real on-disk layout of ``layout`` and return the root.

    mfnet: ``images/<name>.png`` (4 channels R,G,B,thermal — stored as cv2's B,G,R,A),
    ``labels/<name>.png``, ``train/val/test.txt`` (50/25/25) and ``test_day/test_night.txt``;
    names ``00001D`` / ``00002N``. fmb: ``{train,test}/{Visible,Infrared,Label}/<name>.png``
    (80/20). Both get ``sccosf_synth.json`` (layout, seed, sizes, THERMAL_COUNTS, night flags).

    ``out`` must be empty or new; ``overwrite=True`` replaces an earlier ``sccosf synth`` output
    there (never a folder without ``sccosf_synth.json``, which may hold a real dataset).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    n_min = 3 if layout == "mfnet" else 2
    if n < n_min:
        raise ValueError(f"n must be at least {n_min} so that every {layout} split gets an image")
    if not 0.0 <= night_fraction <= 1.0:
        raise ValueError(f"night_fraction must be in [0, 1], got {night_fraction}")
    root = Path(out)
    _prepare_output(root, overwrite)
    rng = np.random.default_rng([int(seed), 7])
    n_night = round(n * night_fraction)
    night_flags = np.zeros(n, bool)
    night_flags[rng.permutation(n)[:n_night]] = True
    order = rng.permutation(n)
    if layout == "mfnet":
        c_train, c_val, _ = _split_counts(n, (0.5, 0.25, 0.25))
        split_of = {}
        for k, i in enumerate(order):
            split_of[int(i)] = "train" if k < c_train else "val" if k < c_train + c_val else "test"
        (root / "images").mkdir(exist_ok=True)
        (root / "labels").mkdir(exist_ok=True)
    else:
        c_train, _ = _split_counts(n, (0.8, 0.2))
        split_of = {int(i): "train" if k < c_train else "test" for k, i in enumerate(order)}

    names, splits = [], {}
    for i in tqdm(range(n), desc=f"synth {layout}", unit="img", disable=not progress):
        night = bool(night_flags[i])
        scene = render_scene(_scene_seed(seed, i), height, width, layout, night=night)
        bgr = scene.rgb[..., ::-1]
        split = split_of[i]
        if layout == "mfnet":
            name = f"{i + 1:05d}{'N' if night else 'D'}"
            _imwrite(root / "images" / f"{name}.png", np.dstack([bgr, scene.thermal8]))
            _imwrite(root / "labels" / f"{name}.png", scene.label)
        else:
            name = f"{i + 1:05d}"
            for sub in ("Visible", "Infrared", "Label"):
                (root / split / sub).mkdir(parents=True, exist_ok=True)
            _imwrite(root / split / "Visible" / f"{name}.png", np.ascontiguousarray(bgr))
            _imwrite(root / split / "Infrared" / f"{name}.png", scene.thermal8)
            _imwrite(root / split / "Label" / f"{name}.png", scene.label)
        names.append((name, night))
        splits.setdefault(split, []).append(name)
    splits = {k: sorted(v) for k, v in splits.items()}

    if layout == "mfnet":
        for split in ("train", "val", "test"):
            (root / f"{split}.txt").write_text("".join(f"{s}\n" for s in splits.get(split, [])))
        night_of = dict(names)
        test = splits.get("test", [])
        (root / "test_day.txt").write_text("".join(f"{s}\n" for s in test if not night_of[s]))
        (root / "test_night.txt").write_text("".join(f"{s}\n" for s in test if night_of[s]))
    meta = {
        "format": "sccosf_synth", "version": 1, "layout": layout, "seed": int(seed), "n": n,
        "height": height, "width": width, "night_fraction": night_fraction,
        "thermal_counts": list(THERMAL_COUNTS), "temperature_range_c": list(TEMPERATURE_RANGE_C),
        "class_names": list(DATASET_CLASSES[layout][0]),
        "splits": {k: len(v) for k, v in sorted(splits.items())},
        "night": {name: night for name, night in names},
    }
    (root / METADATA_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    return root


def read_metadata(root: str | os.PathLike) -> dict | None:
    """The ``sccosf_synth.json`` of a synthetic dataset folder, or None if there is none."""
    path = Path(root) / METADATA_FILE
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a readable sccosf synth metadata file: {e}") from e
    if not isinstance(meta, dict) or meta.get("layout") not in LAYOUTS:
        raise ValueError(f"{path}: expected a JSON object with 'layout' in {LAYOUTS}")
    return meta


def preview_grid(samples, palette, out: str | os.PathLike, tile_width: int = 320) -> Path:
    """Write a PNG with one row per sample: RGB | thermal (inferno) | label colours.

    samples: iterable of objects with ``rgb``, ``thermal`` (uint8 HxW) and ``label``.
    """
    rows = []
    for s in samples:
        h, w = s.label.shape
        th = max(round(h * tile_width / w), 1)
        size = (tile_width, th)
        therm = cv2.applyColorMap(s.thermal, cv2.COLORMAP_INFERNO)[..., ::-1]
        tiles = [cv2.resize(s.rgb, size, interpolation=cv2.INTER_AREA),
                 cv2.resize(therm, size, interpolation=cv2.INTER_AREA),
                 cv2.resize(colorize(s.label, palette), size, interpolation=cv2.INTER_NEAREST)]
        sep = np.full((th, 4, 3), 255, np.uint8)
        rows.append(np.hstack([tiles[0], sep, tiles[1], sep, tiles[2]]))
        rows.append(np.full((4, rows[-1].shape[1], 3), 255, np.uint8))
    if not rows:
        raise ValueError("no samples for the preview")
    grid = np.vstack(rows[:-1])
    path = Path(out)
    _imwrite(path, np.ascontiguousarray(grid[..., ::-1]))
    return path
