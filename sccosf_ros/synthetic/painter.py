"""Rasterising primitives into every channel of a scene at once.

``Painter`` fills a polygon, circle or line into RGB albedo, light emission, temperature (°C)
and material id together, so the label is exact for what RGB and thermal show. ``Board`` is a
vertical plane facing the camera at one depth, on which things are drawn in metres.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import cv2
import numpy as np

from sccosf_ros.synthetic.geometry import Camera, Point
from sccosf_ros.synthetic.materials import MATERIAL_ID
from sccosf_ros.synthetic.scene import Colour

Light = tuple[float, float, float, float]  # u, v, radius px, strength


class Painter:
    """The scene's channels: ``albedo`` and ``emit`` (HxWx3), ``temp`` (°C) and ``mat`` (ids),
    plus the night ``lights`` that primitives register (they brighten their surroundings)."""

    SHIFT = 2  # sub-pixel vertex precision (2 bits), so motion over t is smooth

    def __init__(self, h: int, w: int) -> None:
        self.albedo = np.zeros((h, w, 3), np.float32)
        self.emit = np.zeros((h, w, 3), np.float32)
        self.temp = np.zeros((h, w), np.float32)
        self.mat = np.zeros((h, w), np.uint8)
        self.lights: list[Light] = []

    def _targets(
        self, rgb: Colour, temp: float | None, mat: str | None, emit: Colour | None
    ) -> list[tuple[np.ndarray, float | tuple[float, ...]]]:
        """The channels a primitive writes, with its value in each (None: leave unchanged)."""
        out: list[tuple[np.ndarray, float | tuple[float, ...]]] = [
            (self.albedo, tuple(float(c) for c in rgb))
        ]
        if temp is not None:
            out.append((self.temp, float(temp)))
        if mat is not None:
            out.append((self.mat, MATERIAL_ID[mat]))
        if emit is not None:
            out.append((self.emit, tuple(float(c) for c in emit)))
        return out

    def _fixed(self, p: Point) -> tuple[int, int]:
        s = 1 << self.SHIFT
        return round(p[0] * s), round(p[1] * s)

    def poly(
        self,
        pts: Sequence[Point],
        rgb: Colour,
        temp: float | None,
        mat: str | None,
        emit: Colour | None = None,
    ) -> None:
        p = [np.rint(np.asarray(pts, np.float64) * (1 << self.SHIFT)).astype(np.int32)]
        for img, val in self._targets(rgb, temp, mat, emit):
            cv2.fillPoly(img, p, val, cv2.LINE_8, self.SHIFT)

    def circle(
        self,
        c: Point,
        r: float,
        rgb: Colour,
        temp: float | None,
        mat: str | None,
        emit: Colour | None = None,
        thickness: int = -1,
    ) -> None:
        s = 1 << self.SHIFT
        center = self._fixed(c)
        radius = max(round(r * s), s // 2)
        for img, val in self._targets(rgb, temp, mat, emit):
            cv2.circle(img, center, radius, val, thickness, cv2.LINE_8, self.SHIFT)

    def line(
        self,
        p0: Point,
        p1: Point,
        width: float,
        rgb: Colour,
        temp: float | None,
        mat: str | None,
        emit: Colour | None = None,
    ) -> None:
        a, b = self._fixed(p0), self._fixed(p1)
        th = max(round(width), 1)
        for img, val in self._targets(rgb, temp, mat, emit):
            cv2.line(img, a, b, val, th, cv2.LINE_8, self.SHIFT)


class Board:
    """A vertical plane facing the camera at depth z: draw in metres (x right, y up)."""

    def __init__(self, p: Painter, cam: Camera, x: float, z: float, mirror: bool = False) -> None:
        self.p, self.s = p, cam.scale(z)
        self.cu, self.vg = cam.project(x, 0.0, z)
        self.sx = -1.0 if mirror else 1.0

    def moved_to(self, u: float, v: float) -> Board:
        """The same plane (scale, mirroring) with its origin at image point (u, v)."""
        board = copy.copy(self)
        board.cu, board.vg = u, v
        return board

    def pt(self, x: float, y: float) -> Point:
        return self.cu + self.sx * self.s * x, self.vg - self.s * y

    def rect(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        rgb: Colour,
        temp: float | None,
        mat: str | None,
        emit: Colour | None = None,
    ) -> None:
        self.p.poly(
            [self.pt(x0, y0), self.pt(x1, y0), self.pt(x1, y1), self.pt(x0, y1)],
            rgb,
            temp,
            mat,
            emit,
        )

    def poly(
        self,
        xy: Sequence[Point],
        rgb: Colour,
        temp: float | None,
        mat: str | None,
        emit: Colour | None = None,
    ) -> None:
        self.p.poly([self.pt(x, y) for x, y in xy], rgb, temp, mat, emit)

    def circle(
        self,
        x: float,
        y: float,
        r: float,
        rgb: Colour,
        temp: float | None,
        mat: str | None,
        emit: Colour | None = None,
        ring: float | None = None,
    ) -> None:
        th = -1 if ring is None else max(round(ring * self.s), 1)
        self.p.circle(self.pt(x, y), r * self.s, rgb, temp, mat, emit, th)

    def line(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        width: float,
        rgb: Colour,
        temp: float | None,
        mat: str | None,
    ) -> None:
        self.p.line(self.pt(x0, y0), self.pt(x1, y1), width * self.s, rgb, temp, mat)
