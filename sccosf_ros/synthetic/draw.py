"""Drawing a ``World`` with a ``Painter``: the static street, then the agents far to near.

Every primitive carries its RGB albedo, temperature and material, so what each modality shows
is decided here: colour and texture (cones, car stops, signs, pavers) live in RGB; warmth
(skin, engines, tyres, exhausts, manholes) lives in thermal. The drawing order is part of the
data's identity: nearer things overwrite farther ones.
"""

from __future__ import annotations

import math

import numpy as np

from sccosf_ros.synthetic.geometry import Camera, ground_quad, side_quad
from sccosf_ros.synthetic.materials import MATERIAL_ID
from sccosf_ros.synthetic.painter import Board, Painter
from sccosf_ros.synthetic.scene import (
    Agent,
    Building,
    CarStopLook,
    Colour,
    Environment,
    PersonLook,
    PoleLook,
    TreeLook,
    TwoWheelerLook,
    VehicleLook,
    World,
)

_Z_NEAR, _Z_FAR = 0.5, 400.0  # depth range of the ground strips
_SHADOW = (0.12, 0.12, 0.13)
_METAL_GREY = (0.45, 0.46, 0.48)
_GLASS = (0.1, 0.13, 0.17)
_BLACK = (0.1, 0.1, 0.1)


# --------------------------------------------------------------------------- the static street
def draw_street(p: Painter, world: World, env: Environment) -> None:
    """Sky, ground, sidewalks, road and its markings, buildings and the fixed decoys."""
    _sky_and_terrain(p, world, env)
    _sidewalks(p, world, env)
    cam, rh = world.cam, world.road_half
    p.poly(ground_quad(cam, -rh, rh, _Z_NEAR, _Z_FAR), world.style.palette.road, env.road, "road")
    _curbs(p, world, env)
    _lane_markings(p, world, env)
    if world.manhole is not None:
        _manhole(p, world, env)
    if world.bump_z is not None:
        _speed_bump(p, world, env)
    for side in (0, 1):  # buildings along both sides, far to near
        xf = world.side_x(side, world.facade[side])
        for b in reversed(world.buildings[side]):
            if b.present:
                _building(p, world, env, side, xf, b)
    if world.guardrail_side is not None:
        _guardrail(p, world, env)
    if world.poster is not None:
        _poster(p, world, env)


def _sky_and_terrain(p: Painter, world: World, env: Environment) -> None:
    """Sky as a gradient to the horizon (cold in thermal, warming towards it), ground below."""
    cam, palette = world.cam, world.style.palette
    hz = int(np.clip(math.ceil(cam.horizon), 0, cam.h))
    rows = np.linspace(0.0, 1.0, max(hz, 1), dtype=np.float32)[:, None]
    top, bottom = (np.array(c) for c in (palette.sky_night if env.night else palette.sky_day))
    p.albedo[:hz] = (top + (bottom - top) * rows)[:, None, :].astype(np.float32)
    p.temp[:hz] = (env.sky_zenith + (env.air - 4 - env.sky_zenith) * rows).astype(np.float32)
    p.mat[:hz] = MATERIAL_ID["sky"]
    p.albedo[hz:] = palette.terrain
    p.temp[hz:] = env.air + (3 if not env.night else 0.5)
    p.mat[hz:] = MATERIAL_ID["terrain"]


def _sidewalks(p: Painter, world: World, env: Environment) -> None:
    cam, rh, cb, sw, sx = world.cam, world.road_half, world.curb_w, world.side_w, world.side_x
    for side in (0, 1):
        p.poly(
            ground_quad(cam, sx(side, rh + cb), sx(side, rh + cb + sw), _Z_NEAR, _Z_FAR),
            world.style.palette.sidewalk,
            env.sidewalk,
            "sidewalk",
        )
        # paver joints: the sidewalk's RGB-only texture
        for zz in np.arange(1.0, 40.0, 0.6):
            a = cam.project(sx(side, rh + cb), 0, zz)
            b = cam.project(sx(side, rh + cb + sw), 0, zz)
            if b[1] - cam.horizon > 6:
                p.line(a, b, 1, (0.45, 0.42, 0.4), None, None)


def _curbs(p: Painter, world: World, env: Environment) -> None:
    """MFNet's "curve": the curb's top strip and its face towards the road, maybe painted."""
    cam, rh, cb = world.cam, world.road_half, world.curb_w
    for side in (0, 1):
        xi, xo = world.side_x(side, rh), world.side_x(side, rh + cb)
        p.poly(
            ground_quad(cam, xi, xo, _Z_NEAR, _Z_FAR, 0.15),
            (0.72, 0.72, 0.7),
            env.sidewalk - 1,
            "curb",
        )
        p.poly(
            side_quad(cam, xi, _Z_NEAR, _Z_FAR, 0.0, 0.15),
            (0.62, 0.62, 0.6),
            env.sidewalk - 1,
            "curb",
        )
        if not world.curb_paint:
            continue
        col = (0.8, 0.1, 0.1) if side == 0 else (0.9, 0.8, 0.1)
        for zz in np.arange(1.0, 40.0, 1.0)[1::2]:  # every other metre
            p.poly(ground_quad(cam, xi, xo, zz, zz + 1.0, 0.15), col, None, None)
            p.poly(side_quad(cam, xi, zz, zz + 1.0, 0.0, 0.15), col, None, None)


def _lane_markings(p: Painter, world: World, env: Environment) -> None:
    """Edge lines and the dashed centre line (road in both label sets)."""
    cam = world.cam
    for side in (0, 1):
        x = world.side_x(side, world.road_half - 0.3)
        p.poly(
            ground_quad(cam, x - 0.06, x + 0.06, _Z_NEAR, _Z_FAR),
            (0.85, 0.85, 0.82),
            env.road - 1,
            "lane",
        )
    for zz in np.arange(2.0, 120.0, 9.0) if world.lane_dash else ():
        p.poly(
            ground_quad(cam, -0.08, 0.08, zz, zz + 3.0), (0.88, 0.88, 0.8), env.road - 1, "lane"
        )


def _manhole(p: Painter, world: World, env: Environment) -> None:
    """A decoy: hot in thermal (warm pipes below), plain metal in RGB."""
    mx, mz = world.manhole
    pts = [
        world.cam.project(mx + 0.4 * math.cos(a), 0, mz + 0.4 * math.sin(a))
        for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)
    ]
    p.poly(pts, (0.2, 0.2, 0.2), max(env.road + 8, 33.0), "manhole")


def _speed_bump(p: Painter, world: World, env: Environment) -> None:
    """A yellow-black striped bump across the road: its top and its front face."""
    cam, rh, zb = world.cam, world.road_half, world.bump_z
    for k, x in enumerate(np.arange(-rh, rh, 0.5)):
        col = (0.9, 0.75, 0.05) if k % 2 == 0 else (0.08, 0.08, 0.08)
        p.poly(
            ground_quad(cam, x, min(x + 0.5, rh), zb, zb + 0.5, 0.06), col, env.road - 2, "bump"
        )
        p.poly(
            ground_quad(cam, x, min(x + 0.5, rh), zb - 0.15, zb, 0.0), col, env.road - 2, "bump"
        )


def _building(
    p: Painter, world: World, env: Environment, side: int, xf: float, b: Building
) -> None:
    """Front face towards the camera, the facade along the road, then its windows."""
    cam = world.cam
    z0, z1, hb = b.z0, b.z1, b.height
    col = b.colour
    outer = world.side_x(side, world.facade[side] + 12.0)
    p.poly(
        [
            cam.project(xf, 0, z0),
            cam.project(outer, 0, z0),
            cam.project(outer, hb, z0),
            cam.project(xf, hb, z0),
        ],
        tuple(c * 0.8 for c in col),
        env.building - 1,
        "building",
    )
    p.poly(side_quad(cam, xf, z0, z1, 0.0, hb), col, env.building, "building")
    if b.win_h * cam.scale(max(z0, 1.0)) < 3:  # windows too small to see
        return
    _windows(p, world, env, xf, b)
    if env.night:
        u, v = cam.project(xf, hb * 0.5, 0.5 * (z0 + z1))
        p.lights.append(
            (u, v, 0.3 * hb * cam.scale(0.5 * (z0 + z1)), 0.1 * world.climate.lit_windows)
        )


def _windows(p: Painter, world: World, env: Environment, xf: float, b: Building) -> None:
    """Glass reflecting the cold sky by day; at night a share of them lit (warm, emitting)."""
    cam = world.cam
    lit = np.random.default_rng(b.lit_seed)
    ww, wh = b.win_w, b.win_h
    for y in np.arange(1.2, b.height - wh, 3.2):
        for zz in np.arange(b.z0 + 1.0, b.z1 - ww, 3.5):
            on = lit.random() < world.climate.lit_windows
            if cam.scale(zz) * wh < 2:
                break
            quad = side_quad(cam, xf, zz, zz + ww, y, y + wh)
            if env.night and on:
                p.poly(quad, (0.9, 0.8, 0.5), env.window + 2, "building", emit=(0.5, 0.42, 0.22))
            else:
                glass = (0.05, 0.06, 0.08) if env.night else (0.35, 0.45, 0.55)
                p.poly(quad, glass, env.window - 4, "building")


def _guardrail(p: Painter, world: World, env: Environment) -> None:
    cam = world.cam
    x = world.side_x(world.guardrail_side, world.road_half + world.curb_w + 0.3)
    za, zb = world.guardrail_z
    for zz in np.arange(math.ceil(za), zb, 2.0)[::-1]:  # posts far to near
        post = Board(p, cam, x, zz)
        post.rect(-0.06, 0.0, 0.06, 0.8, (0.55, 0.55, 0.57), env.metal, "guardrail")
    p.poly(side_quad(cam, x, za, zb, 0.45, 0.8), (0.82, 0.82, 0.84), env.metal, "guardrail")
    p.poly(side_quad(cam, x, za, zb, 0.6, 0.65), (0.6, 0.6, 0.62), env.metal, None)


def _poster(p: Painter, world: World, env: Environment) -> None:
    """A decoy: a person printed on a wall, a person in RGB only (wall temperature)."""
    poster = world.poster
    xf = world.side_x(poster.side, world.facade[poster.side] - 0.05)
    b = Board(p, world.cam, xf, poster.z)
    look = PersonLook(
        shirt=(0.8, 0.1, 0.1),
        trousers=(0.1, 0.12, 0.25),
        height=1.75,
        phase=poster.phase * 6,
        skin=0.7,
    )
    b.rect(-0.6, 0.3, 0.6, 2.5, (0.9, 0.9, 0.88), None, None)
    draw_person(b, env, look, 0.0, poster=True, base=0.5)


# --------------------------------------------------------------------------- agents
def draw_agents(p: Painter, world: World, env: Environment, t: float) -> None:
    """Every agent at time ``t``, far to near, so nearer ones occlude."""
    placed = sorted(((a, *a.at(t)) for a in world.agents), key=lambda e: -e[2])
    for a, x, z in placed:
        if a.kind in ("car", "truck", "bus"):
            draw_vehicle(p, world.cam, env, a.kind, a.look, x, z)
        elif a.kind in ("bicycle", "motorcycle"):
            draw_two_wheeler(p, world.cam, env, a, x, z, t)
        elif a.kind == "person":
            b = Board(p, world.cam, x, z)
            if not env.night:
                b.rect(-0.3, -0.08, 0.3, 0.01, _SHADOW, None, None)
            draw_person(b, env, a.look, t)
        else:
            draw_roadside(p, world, env, a, x, z)


def draw_person(
    b: Board,
    env: Environment,
    look: PersonLook,
    t: float,
    *,
    poster: bool = False,
    base: float = 0.0,
    seated: bool = False,
) -> None:
    """A person standing (legs swinging with ``t``) or seated, feet at height ``base``.

    A poster person is drawn at the wall's temperature and without a label."""
    h = look.height
    mat = None if poster else "person"
    cloth = env.building if poster else env.cloth
    skin_t = env.building if poster else env.skin
    sk = look.skin
    skin = (sk, sk * 0.75, sk * 0.6)
    swing = 0.0 if seated else 0.12 * math.sin(look.phase + 2 * math.pi * 1.8 * t)
    hip = base + 0.5 * h
    if not seated:
        for s in (-1, 1):  # legs
            foot = s * (0.1 + swing)
            b.poly(
                [
                    (s * 0.04 - 0.05, hip),
                    (s * 0.04 + 0.07, hip),
                    (foot + 0.05, base),
                    (foot - 0.07, base),
                ],
                look.trousers,
                cloth - 1,
                mat,
            )
    else:
        b.poly(
            [(-0.12, hip), (0.12, hip), (0.3, hip - 0.35), (0.15, hip - 0.4)],
            look.trousers,
            cloth - 1,
            mat,
        )
    sh = base + 0.82 * h
    b.poly([(-0.2, sh), (0.2, sh), (0.16, hip), (-0.16, hip)], look.shirt, cloth, mat)
    for s in (-1, 1):  # arms and hands
        b.line(
            s * 0.2,
            sh - 0.02,
            s * (0.25 + 0.5 * abs(swing)),
            hip - 0.05,
            0.08,
            look.shirt,
            cloth,
            mat,
        )
        b.circle(s * (0.25 + 0.5 * abs(swing)), hip - 0.07, 0.045, skin, skin_t - 2, mat)
    b.rect(-0.045, sh, 0.045, sh + 0.05, skin, skin_t, mat)  # neck
    b.circle(0.0, base + 0.93 * h, 0.11, skin, skin_t, mat)  # head
    b.rect(-0.11, base + 0.95 * h, 0.11, base + h, (0.08, 0.06, 0.05), cloth, mat)  # hair


def draw_vehicle(
    p: Painter, cam: Camera, env: Environment, kind: str, look: VehicleLook, x: float, z: float
) -> None:
    """A car, truck or bus seen from the front or behind: warm tyres, hot engine or exhaust."""
    b = Board(p, cam, x, z)
    if kind == "car":
        w, h = look.width, look.height
    elif kind == "truck":
        w, h = 2.5, 3.4
    else:
        w, h = 2.55, 3.1
    hw = w / 2
    if not env.night:  # contact shadow: darker and cooler road
        b.rect(-hw - 0.1, -0.25, hw + 0.1, 0.02, _SHADOW, env.road - 3, None)
    for s in (-1, 1):  # tyres: warm
        b.rect(s * hw - 0.32 * s, 0.0, s * hw - 0.02 * s, 0.55, (0.05, 0.05, 0.05), env.tyre, kind)
    b.rect(-hw + 0.1, 0.15, hw - 0.1, 0.35, (0.07, 0.07, 0.07), env.tyre - 4, kind)
    if kind == "car":
        _car_body(b, env, look, hw, h)
        lamp_rows = (0.62, 0.8)
    else:
        b.rect(
            -hw, 0.45, hw, h, look.colour if kind == "bus" else (0.85, 0.86, 0.88), env.body, kind
        )
        if kind == "bus":
            _bus_body(b, env, look, hw, h)
        else:
            _truck_body(b, env, look, hw, h)
        lamp_rows = (0.55, 0.75)
    _vehicle_lights(b, env, kind, look.front, hw, lamp_rows)


def _car_body(b: Board, env: Environment, look: VehicleLook, hw: float, h: float) -> None:
    col = look.colour
    b.rect(-hw, 0.3, hw, 0.95, col, env.body, "car")
    b.poly(
        [(-hw * 0.95, 0.93), (hw * 0.95, 0.93), (hw * 0.72, h), (-hw * 0.72, h)],
        col,
        env.body,
        "car",
    )
    b.poly(
        [(-hw * 0.85, 0.98), (hw * 0.85, 0.98), (hw * 0.68, h - 0.07), (-hw * 0.68, h - 0.07)],
        _GLASS,
        env.glass,
        "car",
    )
    b.rect(-0.25, 0.4, 0.25, 0.52, (0.92, 0.92, 0.9), env.body, "car")  # plate
    if look.front:  # radiator grille: the hot engine
        b.rect(-hw * 0.55, 0.55, hw * 0.55, 0.82, (0.15, 0.15, 0.16), env.engine, "car")
    else:
        b.circle(hw * 0.55, 0.22, 0.06, _BLACK, env.exhaust, "car")


def _bus_body(b: Board, env: Environment, look: VehicleLook, hw: float, h: float) -> None:
    front = look.front
    b.rect(-hw, 1.0, hw, 1.25, look.stripe, env.body, "bus")
    b.rect(-hw * 0.85, 1.5 if front else 1.9, hw * 0.85, h - 0.25, _GLASS, env.glass, "bus")
    if front:  # destination display
        b.rect(
            -hw * 0.6,
            h - 0.22,
            hw * 0.6,
            h - 0.05,
            (0.3, 0.2, 0.05),
            env.body,
            "bus",
            emit=(0.9, 0.5, 0.05) if env.night else (0.3, 0.15, 0.0),
        )
    b.rect(-hw * 0.5, 0.5, hw * 0.5, 0.9, (0.15, 0.15, 0.15), env.engine, "bus")


def _truck_body(b: Board, env: Environment, look: VehicleLook, hw: float, h: float) -> None:
    """The cab seen from the front, or a ribbed cargo box seen from behind."""
    if look.front:
        b.rect(-hw * 0.9, 1.6, hw * 0.9, 2.5, _GLASS, env.glass, "truck")
        b.rect(-hw * 0.6, 0.6, hw * 0.6, 1.3, (0.15, 0.15, 0.15), env.engine, "truck")
        return
    for y in np.arange(0.9, h - 0.2, 0.5):
        b.line(-hw, y, hw, y, 0.04, (0.6, 0.6, 0.62), None, None)
    b.line(0, 0.5, 0, h, 0.05, (0.4, 0.4, 0.4), None, None)
    b.circle(hw * 0.6, 0.35, 0.08, _BLACK, env.exhaust, "truck")


def _vehicle_lights(
    b: Board, env: Environment, kind: str, front: bool, hw: float, rows: tuple[float, float]
) -> None:
    """Head lights (facing us) or tail lights; at night they emit and light the street."""
    for s in (-1, 1):
        x0, x1 = sorted((s * (hw - 0.08), s * (hw - 0.38)))
        if front:
            emit = (1.0, 0.95, 0.8) if env.night else None
            b.rect(x0, rows[0], x1, rows[1], (0.95, 0.95, 0.9), env.body + 8, kind, emit=emit)
            radius, strength = 3.0, 0.5
        else:
            emit = (0.8, 0.05, 0.02) if env.night else None
            b.rect(x0, rows[0], x1, rows[1], (0.7, 0.05, 0.05), env.body + 4, kind, emit=emit)
            radius, strength = 0.8, 0.1
        if env.night:
            u, v = b.pt(0.5 * (x0 + x1), 0.5 * (rows[0] + rows[1]))
            b.p.lights.append((u, v, radius * b.s, strength))


def draw_two_wheeler(
    p: Painter, cam: Camera, env: Environment, a: Agent, x: float, z: float, t: float
) -> None:
    """A bicycle or motorcycle in side view, facing its direction of travel, maybe ridden."""
    kind = a.kind
    look: TwoWheelerLook = a.look
    b = Board(p, cam, x, z, mirror=a.vx < 0)
    if not env.night:
        b.rect(-0.9, -0.12, 0.9, 0.02, _SHADOW, env.road - 3, None)
    r = 0.34 if kind == "bicycle" else 0.32
    tyre_t = env.air + 1 if kind == "bicycle" else env.tyre
    frame_t = env.metal if kind == "bicycle" else env.body
    for cx in (-0.55, 0.55):
        b.circle(cx, r, r, (0.05, 0.05, 0.05), tyre_t, kind, ring=0.06)
        b.line(cx, r, cx, r, 0.05, (0.3, 0.3, 0.3), frame_t, kind)
    if kind == "bicycle":
        seat = _bicycle_frame(b, look.colour, r, frame_t)
    else:
        seat = _motorcycle_body(b, env, look.colour)
    if look.rider:
        rider = b.moved_to(*b.pt(seat[0], seat[1] - 0.5 * look.person.height))
        draw_person(rider, env, look.person, t, seated=True)


def _bicycle_frame(b: Board, col: Colour, r: float, frame_t: float) -> tuple[float, float]:
    """The frame tubes and saddle; returns the seat position."""
    frame = (
        (-0.55, r, -0.05, r),
        (-0.05, r, -0.2, 0.85),
        (-0.05, r, 0.4, 0.85),
        (-0.2, 0.85, 0.4, 0.85),
        (0.4, 0.85, 0.55, r),
        (-0.55, r, -0.2, 0.85),
        (0.4, 0.85, 0.45, 1.0),
    )
    for x0, y0, x1, y1 in frame:
        b.line(x0, y0, x1, y1, 0.04, col, frame_t, "bicycle")
    b.rect(-0.3, 0.86, -0.1, 0.92, (0.05, 0.05, 0.05), frame_t, "bicycle")
    return -0.2, 0.9


def _motorcycle_body(b: Board, env: Environment, col: Colour) -> tuple[float, float]:
    """Body, hot engine and exhaust, handlebar; returns the seat position."""
    b.poly(
        [(-0.45, 0.45), (0.45, 0.45), (0.55, 0.85), (0.1, 0.95), (-0.5, 0.8)],
        col,
        env.body,
        "motorcycle",
    )
    b.rect(-0.2, 0.25, 0.2, 0.5, (0.2, 0.2, 0.22), env.engine + 5, "motorcycle")  # engine
    b.line(-0.2, 0.3, -0.75, 0.35, 0.06, (0.5, 0.5, 0.5), env.exhaust, "motorcycle")
    b.line(0.45, 0.8, 0.55, 1.05, 0.04, (0.2, 0.2, 0.2), env.metal, "motorcycle")
    return -0.15, 0.95


def draw_roadside(
    p: Painter, world: World, env: Environment, a: Agent, x: float, z: float
) -> None:
    """A cone, car stop, tree, or a pole with a street lamp, traffic light or sign on it."""
    b = Board(p, world.cam, x, z)
    if a.kind == "cone":
        _cone(b, env)
    elif a.kind == "car_stop":
        _car_stop(b, env, a.look)
    elif a.kind == "tree":
        _tree(b, env, a.look, world.style.palette.vegetation)
    else:
        _pole(b, env, a.kind, a.look)


def _cone(b: Board, env: Environment) -> None:
    b.rect(-0.2, 0.0, 0.2, 0.05, (0.05, 0.05, 0.05), env.road, "cone")
    b.poly(
        [(-0.16, 0.05), (0.16, 0.05), (0.035, 0.72), (-0.035, 0.72)],
        (1.0, 0.42, 0.05),
        env.air + 2,
        "cone",
    )
    b.poly(
        [(-0.11, 0.32), (0.11, 0.32), (0.08, 0.48), (-0.08, 0.48)],
        (0.95, 0.95, 0.95),
        env.air + 2,
        "cone",
    )


def _car_stop(b: Board, env: Environment, look: CarStopLook) -> None:
    col = (0.92, 0.78, 0.1) if look.yellow else (0.65, 0.65, 0.62)
    b.rect(-0.75, 0.0, 0.75, 0.18, col, env.sidewalk - 1, "car_stop")
    b.rect(-0.6, 0.06, -0.4, 0.12, _BLACK, None, None)
    b.rect(0.4, 0.06, 0.6, 0.12, _BLACK, None, None)


def _tree(b: Board, env: Environment, look: TreeLook, crown: Colour) -> None:
    b.rect(-0.15, 0.0, 0.15, look.trunk + 0.5, (0.3, 0.2, 0.1), env.air, "vegetation")
    cr = look.crown
    for dx, dy, dr in look.blobs:
        g = crown[1] + 0.1 * dr
        b.circle(
            0.5 * cr * dx,
            look.trunk + cr * (1 + 0.4 * dy),
            cr * (0.6 + 0.15 * dr),
            (crown[0], g, crown[2]),
            env.vegetation + 0.5 * dr,
            "vegetation",
        )


def _pole(b: Board, env: Environment, kind: str, look: PoleLook) -> None:
    hp = look.height if kind in ("streetlight", "pole") else 3.2 + 0.4 * look.shape
    b.rect(-0.1, 0.0, 0.1, hp, _METAL_GREY, env.metal, "pole")
    if kind == "streetlight":
        _street_lamp(b, env, hp, 1.0 if look.side == 0 else -1.0)
    elif kind == "traffic_light":
        _traffic_light(b, env, hp, look.state)
    elif kind == "sign":
        _sign(b, env, hp + 0.4, look.shape, look.colour)


def _street_lamp(b: Board, env: Environment, hp: float, toward: float) -> None:
    """An arm reaching over the road (``toward``: +1 or -1) with a lamp, lit at night."""
    b.line(0.0, hp, toward * 1.5, hp + 0.3, 0.08, _METAL_GREY, env.metal, "pole")
    emit = (1.0, 0.85, 0.55) if env.night else None
    b.rect(
        toward * 1.5 - 0.3,
        hp + 0.1,
        toward * 1.5 + 0.3,
        hp + 0.35,
        (0.8, 0.8, 0.75),
        env.air + (25 if env.night else 3),
        "pole",
        emit=emit,
    )
    if env.night:
        u, v = b.pt(toward * 1.5, hp)
        b.p.lights.append((u, v, 5.0 * b.s, 0.6))


def _traffic_light(b: Board, env: Environment, hp: float, state: int) -> None:
    b.rect(-0.2, hp, 0.2, hp + 1.0, (0.08, 0.08, 0.08), env.air + 3, "lamp")
    colours = ((0.9, 0.1, 0.05), (0.95, 0.7, 0.05), (0.1, 0.85, 0.3))
    for k, c in enumerate(colours):
        on = k == state
        dim = tuple(0.15 + 0.1 * ch for ch in c)
        b.circle(
            0.0,
            hp + 0.83 - 0.33 * k,
            0.12,
            c if on else dim,
            env.air + (12 if on else 3),
            "lamp",
            emit=tuple(0.8 * ch for ch in c) if on else None,
        )


def _sign(b: Board, env: Environment, y: float, shape: int, colour: int) -> None:
    """A round, triangular or rectangular sign centred at height ``y``."""
    fill = ((0.1, 0.3, 0.75), (0.85, 0.1, 0.1), (0.1, 0.5, 0.25))[colour]
    white = (0.95, 0.95, 0.95)
    if shape == 0:
        b.circle(0.0, y, 0.38, fill, env.metal, "sign")
        b.circle(0.0, y, 0.26, white, env.metal, "sign")
    elif shape == 1:
        b.poly(
            [(-0.42, y - 0.3), (0.42, y - 0.3), (0.0, y + 0.42)],
            (0.85, 0.1, 0.1),
            env.metal,
            "sign",
        )
        b.poly([(-0.28, y - 0.22), (0.28, y - 0.22), (0.0, y + 0.25)], white, env.metal, "sign")
    else:
        b.rect(-0.5, y - 0.35, 0.5, y + 0.35, fill, env.metal, "sign")
        b.rect(-0.35, y - 0.05, 0.35, y + 0.05, white, env.metal, "sign")
