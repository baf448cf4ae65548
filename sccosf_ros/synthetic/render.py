"""Rendering a synthetic scene into registered RGB, thermal (raw counts and 8-bit) and labels.

``render_scene(seed, ...)`` builds the ``World`` of the seed, paints the street and the agents
at time ``t`` into albedo, emission, temperature and material channels, then applies the two
cameras (``sensor``). Same arguments, same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sccosf_ros.synthetic.draw import draw_agents, draw_street
from sccosf_ros.synthetic.materials import LABEL_LUT
from sccosf_ros.synthetic.painter import Painter
from sccosf_ros.synthetic.scene import World, environment
from sccosf_ros.synthetic.sensor import (
    expose_rgb,
    fixed_pattern,
    surface_texture,
    temporal_noise,
    thermal8_from_counts,
    thermal_counts,
)
from sccosf_ros.synthetic.settings import SceneSettings, check_seed
from sccosf_ros.synthetic.style import SceneStyle, load_style


@dataclass
class Scene:
    """One rendered frame: ``rgb`` uint8 HxWx3 (RGB order), ``thermal16`` uint16 raw counts,
    ``thermal8`` uint8 (THERMAL_COUNTS → 0..255), ``label`` uint8 class ids, ``night``."""

    rgb: np.ndarray
    thermal16: np.ndarray
    thermal8: np.ndarray
    label: np.ndarray
    night: bool


def render_scene(
    seed: int,
    height: int = 480,
    width: int = 640,
    layout: str = "mfnet",
    night: bool | None = None,
    t: float = 0.0,
    style: SceneStyle | str | None = None,
) -> Scene:
    """Render one synthetic RGB-thermal street scene.

    seed: the scene (layout, objects, colours, temperatures); night: None draws day or night
    from the seed; t: seconds, moves the agents (consecutive t make a video); style: a
    ``SceneStyle``, a preset name or a style file (None: ``default``). Same arguments, same
    pixels.
    """
    settings = SceneSettings(height, width, layout, load_style(style))
    seed = check_seed(seed)
    world = World(np.random.default_rng(seed), settings)
    night = world.night_draw if night is None else bool(night)
    env = environment(world.climate, night)
    p = Painter(height, width)
    draw_street(p, world, env)
    draw_agents(p, world, env, t)

    fixed = fixed_pattern(seed, height, width)
    mod = surface_texture(p.mat, fixed)  # before thermal_counts: both draw from fixed's rng
    noise = temporal_noise(seed, t, height, width)
    rgb = expose_rgb(p.albedo, p.emit, mod, p.lights, env, noise, settings.style.lighting)
    thermal16 = thermal_counts(p.temp, fixed, noise, settings.style.thermal)
    return Scene(
        rgb=rgb,
        thermal16=thermal16,
        thermal8=thermal8_from_counts(thermal16),
        label=LABEL_LUT[layout][p.mat],
        night=night,
    )
