"""A pinhole camera above flat ground, and the image quads of planes seen through it."""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[float, float]


@dataclass
class Camera:
    """Pinhole camera ``height`` m above a flat ground; X right, Y up, z forward (metres)."""

    h: int
    w: int
    horizon: float  # image row of the horizon
    f: float  # focal length, pixels
    height: float
    vp_x: float  # column of the vanishing point

    def project(self, x: float, y: float, z: float) -> Point:
        z = max(z, 0.3)  # nothing closer than the lens: keeps near geometry finite
        return self.vp_x + self.f * x / z, self.horizon + self.f * (self.height - y) / z

    def scale(self, z: float) -> float:
        """Pixels per metre at depth ``z``."""
        return self.f / max(z, 0.3)

    def z_bottom(self) -> float:
        """Depth of the ground seen at the bottom image row."""
        return self.f * self.height / max(self.h - self.horizon, 1.0)


def side_quad(cam: Camera, x: float, z0: float, z1: float, y0: float, y1: float) -> list[Point]:
    """Corners of a vertical plane parallel to the road (constant X) between depths z0..z1."""
    return [
        cam.project(x, y0, z0),
        cam.project(x, y0, z1),
        cam.project(x, y1, z1),
        cam.project(x, y1, z0),
    ]


def ground_quad(
    cam: Camera, x0: float, x1: float, z0: float, z1: float, y: float = 0.0
) -> list[Point]:
    """Corners of a horizontal strip at height ``y`` spanning x0..x1 and depths z0..z1."""
    return [
        cam.project(x0, y, z0),
        cam.project(x1, y, z0),
        cam.project(x1, y, z1),
        cam.project(x0, y, z1),
    ]
