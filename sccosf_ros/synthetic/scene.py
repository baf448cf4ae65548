"""The description of one synthetic street: layout, buildings, agents, decoys, day and night.

``World`` draws everything random about a scene from its seed, in a fixed order that does not
depend on ``night`` or ``t``: the same seed shows the same street by day, by night and over
time. The order of the draws is part of the data's identity (the shipped demo checkpoint and
its figures were made from it), so code here must keep every ``rng`` call where it is.

Agents (cars, people, bikes, roadside objects) move along straight paths that bounce inside
their range (``Agent.at``), so frames at consecutive ``t`` form a smooth video.

Decoys make one modality lie: a person printed on a wall (``World.poster``) is a person in RGB
only; a manhole cover over warm pipes (``World.manhole``) is a hot blob that RGB shows as plain
metal. ``Environment`` holds the temperatures and light of the scene by day or by night.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sccosf_ros.synthetic.geometry import Camera
from sccosf_ros.synthetic.settings import SceneSettings
from sccosf_ros.synthetic.style import Colour

SHIRTS: list[Colour] = [
    (0.8, 0.1, 0.1),
    (0.1, 0.3, 0.7),
    (0.9, 0.9, 0.85),
    (0.2, 0.5, 0.2),
    (0.9, 0.6, 0.1),
    (0.3, 0.3, 0.3),
    (0.6, 0.2, 0.6),
    (0.05, 0.05, 0.05),
]
TROUSERS: list[Colour] = [
    (0.1, 0.12, 0.25),
    (0.15, 0.15, 0.15),
    (0.35, 0.3, 0.25),
    (0.2, 0.25, 0.4),
]
# How many of each agent per layout: (min, max) counts. Listed in the order they are drawn.
AGENT_COUNTS: dict[str, dict[str, tuple[int, int]]] = {
    "mfnet": {
        "car": (1, 4),
        "person": (1, 4),
        "bicycle": (0, 2),
        "motorcycle": (0, 0),
        "truck": (0, 0),
        "bus": (0, 0),
        "cone": (0, 4),
        "car_stop": (0, 3),
        "tree": (0, 3),
        "streetlight": (0, 2),
        "traffic_light": (0, 0),
        "sign": (0, 0),
        "pole": (0, 1),
    },
    "fmb": {
        "car": (1, 3),
        "person": (1, 4),
        "bicycle": (0, 2),
        "motorcycle": (0, 1),
        "truck": (0, 1),
        "bus": (0, 1),
        "cone": (0, 1),
        "car_stop": (0, 0),
        "tree": (1, 4),
        "streetlight": (0, 2),
        "traffic_light": (0, 2),
        "sign": (0, 2),
        "pole": (1, 3),
    },
}
# Pole-mounted kinds: a bare pole, or a pole carrying a lamp, a traffic light or a sign.
POLE_KINDS = ("streetlight", "traffic_light", "sign", "pole")


def scene_seed(seed: int, index: int) -> int:
    """A well-mixed 32-bit seed for item ``index`` of a run seeded with ``seed``."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def _uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """U(lo, hi), or U(lo, lo + 1) when the near limit passed the far one (odd aspect)."""
    return rng.uniform(lo, max(hi, lo + 1.0))


def bounce(p0: float, v: float, t: float, lo: float, hi: float) -> float:
    """Position moving at speed v from p0, reflected at lo and hi (continuous in t)."""
    span = hi - lo
    if span <= 0:
        return lo
    x = (p0 - lo + v * t) % (2 * span)
    return lo + (x if x <= span else 2 * span - x)


# --------------------------------------------------------------------------- looks of agents
@dataclass(frozen=True)
class PersonLook:
    shirt: Colour
    trousers: Colour
    height: float  # metres
    phase: float  # of the walking cycle, radians
    skin: float  # skin brightness


@dataclass(frozen=True)
class VehicleLook:
    """A car (own width and height), truck or bus (fixed size, ``stripe`` colour)."""

    colour: Colour
    front: bool  # seen from the front (hot grille, head lights) or from behind
    width: float = 0.0
    height: float = 0.0
    stripe: Colour | None = None


@dataclass(frozen=True)
class TwoWheelerLook:
    rider: bool
    person: PersonLook
    colour: Colour


@dataclass(frozen=True)
class CarStopLook:
    yellow: bool


@dataclass(frozen=True)
class TreeLook:
    trunk: float  # metres
    crown: float  # metres
    blobs: list[list[float]]  # (dx, dy, dr) in -1..1 per crown blob


@dataclass(frozen=True)
class PoleLook:
    side: int  # 0 left, 1 right of the road
    height: float
    shape: int  # sign shape, or traffic light height
    state: int  # traffic light: red, amber, green
    colour: int  # sign colour


Look = PersonLook | VehicleLook | TwoWheelerLook | CarStopLook | TreeLook | PoleLook | None


@dataclass
class Agent:
    """Something standing or moving on the ground plane at (x, z)."""

    kind: str
    x: float
    z: float
    vx: float = 0.0
    vz: float = 0.0
    x_range: tuple[float, float] = (0.0, 0.0)
    z_range: tuple[float, float] = (0.0, 0.0)
    look: Look = None

    def at(self, t: float) -> tuple[float, float]:
        x = bounce(self.x, self.vx, t, *self.x_range) if self.vx else self.x
        z = bounce(self.z, self.vz, t, *self.z_range) if self.vz else self.z
        return x, z


@dataclass(frozen=True)
class Building:
    z0: float
    z1: float
    height: float
    colour: Colour
    win_w: float
    win_h: float
    lit_seed: int  # which windows are lit at night
    present: bool  # False: a gap in the row


@dataclass(frozen=True)
class Climate:
    """The seed's weather, from which day and night temperatures follow."""

    air_day: float
    air_night: float
    road_day: float  # sun warming of the road over the air
    exposure: float
    ambient: float  # night ambient light level
    lit_windows: float  # share of windows lit at night


@dataclass(frozen=True)
class Poster:
    side: int
    z: float
    phase: float


# --------------------------------------------------------------------------- the world
class World:
    """Everything random about a scene, drawn from the seed in a fixed order (independent of
    ``night`` and ``t``, so the same seed shows the same street by day, by night, over time)."""

    def __init__(self, rng: np.random.Generator, settings: SceneSettings) -> None:
        h, w, layout = settings.height, settings.width, settings.layout
        style = self.style = settings.style
        self.layout = layout
        self.night_draw = bool(rng.random() < style.lighting.night_fraction)
        horizon = h * rng.uniform(*style.camera.horizon)
        # focal length from the width of a 4:3 frame, so odd aspect ratios keep a sane view
        self.cam = Camera(
            h,
            w,
            horizon,
            min(w, h * 4 / 3) * rng.uniform(*style.camera.focal_range()),
            rng.uniform(*style.camera.height),
            w * (0.5 + rng.uniform(-0.08, 0.08)),
        )
        self.road_half = rng.uniform(*style.objects.road_half)
        self.curb_w = 0.25
        self.side_w = rng.uniform(2.0, 4.0)
        self.facade = [
            self.road_half + self.curb_w + self.side_w + rng.uniform(0.0, 3.0) for _ in range(2)
        ]
        self.curb_paint = rng.random() < 0.4
        self.guardrail_side = (
            int(rng.integers(0, 2)) if rng.random() < self._guardrail_share() else None
        )
        self.guardrail_z = (rng.uniform(0.5, 1.0) * self.cam.z_bottom(), rng.uniform(25, 70))
        self.bump_z = (
            rng.uniform(8, 22) if rng.random() < (0.45 if layout == "mfnet" else 0.0) else None
        )
        self.lane_dash = rng.random() < 0.7
        self.manhole = (
            (rng.uniform(-0.6, 0.6) * self.road_half, rng.uniform(7, 20))
            if (rng.random() < 0.4)
            else None
        )
        self.climate = Climate(
            air_day=rng.uniform(*style.thermal.air_day),
            air_night=rng.uniform(*style.thermal.air_night),
            road_day=rng.uniform(3, 7),
            exposure=rng.uniform(0.85, 1.1),
            ambient=rng.uniform(0.05, 0.1),
            lit_windows=rng.uniform(0.1, 0.4),
        )
        self.buildings = [self._buildings(rng) for _ in (0, 1)]
        self.agents = self._agents(rng)
        self.poster = (
            Poster(int(rng.integers(0, 2)), rng.uniform(10, 30), rng.uniform(0, 1))
            if (rng.random() < 0.4)
            else None
        )

    def _guardrail_share(self) -> float:
        share = self.style.objects.guardrail
        return (0.5 if self.layout == "mfnet" else 0.15) if share is None else share

    def _vehicle_colour(self, rng: np.random.Generator) -> Colour:
        colours = self.style.palette.vehicles
        return colours[int(rng.integers(len(colours)))]

    def side_x(self, side: int, x: float) -> float:
        """Lateral offset ``x`` on the left (side 0) or right (side 1) of the road."""
        return -x if side == 0 else x

    def _buildings(self, rng: np.random.Generator) -> list[Building]:
        out, z = [], self.cam.z_bottom() * rng.uniform(0.3, 1.0)
        colours, mix = self.style.palette.buildings, self.style.objects
        while z < 160:
            length = rng.uniform(8, 25)
            out.append(
                Building(
                    z0=z,
                    z1=z + length,
                    height=rng.uniform(*mix.building_height),
                    colour=colours[int(rng.integers(len(colours)))],
                    win_w=rng.uniform(1.0, 2.0),
                    win_h=rng.uniform(1.0, 1.8),
                    lit_seed=int(rng.integers(1 << 30)),
                    present=rng.random() < mix.buildings,
                )
            )
            z += length + (rng.uniform(2, 12) if rng.random() < 0.3 else 0.0)
        return out

    # ------------------------------------------------------------------ agents, kind by kind
    def _agents(self, rng: np.random.Generator) -> list[Agent]:
        counts = self.style.agent_counts(AGENT_COUNTS[self.layout])

        def n(kind: str) -> int:
            lo, hi = counts[kind]
            return int(rng.integers(lo, hi + 1))

        agents = [self._car(rng) for _ in range(n("car"))]
        for kind, z_lo in (("truck", 12), ("bus", 14)):
            agents += [self._big_vehicle(rng, kind, z_lo) for _ in range(n(kind))]
        agents += [self._person(rng) for _ in range(n("person"))]
        for kind in ("bicycle", "motorcycle"):
            agents += [self._two_wheeler(rng, kind) for _ in range(n(kind))]
        agents += [self._cone(rng) for _ in range(n("cone"))]
        agents += [self._car_stop(rng) for _ in range(n("car_stop"))]
        agents += [self._tree(rng) for _ in range(n("tree"))]
        for kind in POLE_KINDS:
            agents += [self._pole(rng, kind) for _ in range(n(kind))]
        return agents

    def _sidewalk_x(
        self, rng: np.random.Generator, side: int, lo: float = 0.3, hi: float = 0.9
    ) -> float:
        return self.side_x(side, self.road_half + self.curb_w + self.side_w * rng.uniform(lo, hi))

    def _z_visible(self, x: float, z_min: float) -> float:
        """Nearest depth at which something at lateral offset x is still in view."""
        return max(z_min, self.cam.z_bottom() + 1.0, self.cam.f * abs(x) / (0.4 * self.cam.w))

    def _crossing_half_width(self, z: float, margin: float, share: float) -> float:
        """Half the lateral range of an agent crossing the view at depth z."""
        return min(self.road_half + margin, share * self.cam.w * z / self.cam.f)

    def _car(self, rng: np.random.Generator) -> Agent:
        zb = self.cam.z_bottom()
        lane = rng.uniform(-0.6, 0.6) * self.road_half
        return Agent(
            "car",
            lane,
            _uniform(rng, max(7, zb + 3), 45),
            vz=rng.uniform(-4, 4),
            z_range=(max(6, zb + 2), 50),
            look=VehicleLook(
                colour=self._vehicle_colour(rng),
                width=rng.uniform(1.65, 1.9),
                height=rng.uniform(1.35, 1.6),
                front=rng.random() < 0.5,
            ),
        )

    def _big_vehicle(self, rng: np.random.Generator, kind: str, z_lo: float) -> Agent:
        return Agent(
            kind,
            rng.uniform(-0.5, 0.5) * self.road_half,
            rng.uniform(z_lo, 50),
            vz=rng.uniform(-3, 3),
            z_range=(z_lo, 55),
            look=VehicleLook(
                colour=self._vehicle_colour(rng),
                front=rng.random() < 0.5,
                stripe=SHIRTS[int(rng.integers(8))],
            ),
        )

    def _person(self, rng: np.random.Generator) -> Agent:
        side = int(rng.integers(0, 2))
        look = PersonLook(
            shirt=SHIRTS[int(rng.integers(8))],
            trousers=TROUSERS[int(rng.integers(4))],
            height=rng.uniform(1.55, 1.9),
            phase=rng.uniform(0, 2 * math.pi),
            skin=rng.uniform(0.45, 0.9),
        )
        if rng.random() < 0.35:  # crossing the road (inside the view)
            z = _uniform(rng, max(6, self.cam.z_bottom() + 1), 25)
            xr = self._crossing_half_width(z, 1, 0.4)
            return Agent(
                "person",
                rng.uniform(-xr, xr),
                z,
                vx=rng.choice([-1, 1]) * rng.uniform(0.8, 1.6),
                x_range=(-xr, xr),
                look=look,
            )
        x = self._sidewalk_x(rng, side)
        z_lo = self._z_visible(x, 5.0)
        return Agent(
            "person",
            x,
            rng.uniform(z_lo, z_lo + 25),
            vz=rng.choice([-1, 1]) * rng.uniform(0.7, 1.5),
            z_range=(z_lo, z_lo + 30),
            look=look,
        )

    def _two_wheeler(self, rng: np.random.Generator, kind: str) -> Agent:
        rider = PersonLook(
            shirt=SHIRTS[int(rng.integers(8))],
            trousers=TROUSERS[int(rng.integers(4))],
            height=rng.uniform(1.6, 1.85),
            phase=0.0,
            skin=rng.uniform(0.45, 0.9),
        )
        speed = rng.uniform(2, 5) if kind == "bicycle" else rng.uniform(4, 9)
        z = rng.uniform(8, 30)
        xr = self._crossing_half_width(z, 3, 0.45)
        return Agent(
            kind,
            rng.uniform(-xr, xr),
            z,
            vx=rng.choice([-1, 1]) * speed,
            x_range=(-xr, xr),
            look=TwoWheelerLook(
                rider=rng.random() < 0.7, person=rider, colour=self._vehicle_colour(rng)
            ),
        )

    def _cone(self, rng: np.random.Generator) -> Agent:
        side = int(rng.integers(0, 2))
        x = self.side_x(side, self.road_half - rng.uniform(0.2, 1.5))
        return Agent("cone", x, _uniform(rng, self._z_visible(x, 5.0), 32))

    def _car_stop(self, rng: np.random.Generator) -> Agent:
        side = int(rng.integers(0, 2))
        x = self._sidewalk_x(rng, side, 0.1, 0.6)
        return Agent(
            "car_stop",
            x,
            _uniform(rng, self._z_visible(x, 5.0), 30),
            look=CarStopLook(yellow=rng.random() < 0.6),
        )

    def _tree(self, rng: np.random.Generator) -> Agent:
        side = int(rng.integers(0, 2))
        return Agent(
            "tree",
            self._sidewalk_x(rng, side, 0.6, 0.95),
            rng.uniform(8, 60),
            look=TreeLook(
                trunk=rng.uniform(1.8, 3.0),
                crown=rng.uniform(1.2, 2.5),
                blobs=rng.uniform(-1, 1, (5, 3)).tolist(),
            ),
        )

    def _pole(self, rng: np.random.Generator, kind: str) -> Agent:
        side = int(rng.integers(0, 2))
        return Agent(
            kind,
            self._sidewalk_x(rng, side, 0.05, 0.3),
            rng.uniform(8, 45),
            look=PoleLook(
                side=side,
                height=rng.uniform(4.5, 8.0),
                shape=int(rng.integers(0, 3)),
                state=int(rng.integers(0, 3)),
                colour=int(rng.integers(0, 3)),
            ),
        )


# --------------------------------------------------------------------------- day and night
@dataclass(frozen=True)
class Environment:
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


def environment(climate: Climate, night: bool) -> Environment:
    """Day: sun-warmed road, cold clear sky, glass reflecting the sky. Night: cooler air,
    surfaces near air temperature, people and engines as warm as by day."""
    if night:
        air = climate.air_night
        return Environment(
            night=True,
            air=air,
            sky_zenith=air - 22,
            road=air + 3,
            sidewalk=air + 1.5,
            building=air + 3,
            window=air + 7,
            vegetation=air - 1,
            metal=air - 2,
            skin=32.0,
            cloth=max(air + 9, 24.0),
            engine=air + 30,
            tyre=air + 12,
            exhaust=air + 45,
            body=air + 6,
            glass=air + 1,
            exposure=1.0,
            ambient=climate.ambient,
        )
    air = climate.air_day
    return Environment(
        night=False,
        air=air,
        sky_zenith=air - 30,
        road=air + climate.road_day,
        sidewalk=air + 4,
        building=air + 3,
        window=air - 5,
        vegetation=air - 2,
        metal=air - 6,
        skin=34.0,
        cloth=0.5 * (34 + air) + 4,
        engine=air + 30,
        tyre=air + 14,
        exhaust=air + 45,
        body=air + 8,
        glass=air - 4,
        exposure=climate.exposure,
        ambient=1.0,
    )
