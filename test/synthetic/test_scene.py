"""The scene description: what a seed's street holds, independent of night and t."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.synthetic import SceneSettings, render_scene, scene_seed
from sccosf_ros.synthetic.scene import AGENT_COUNTS, World, bounce, environment


def _world(seed: int, layout: str = "mfnet") -> World:
    return World(np.random.default_rng(seed), SceneSettings(120, 160, layout))


def test_world_is_a_function_of_the_seed():
    a, b = _world(4), _world(4)
    assert [(g.kind, g.x, g.z, g.look) for g in a.agents] == [
        (g.kind, g.x, g.z, g.look) for g in b.agents
    ]
    assert a.buildings == b.buildings and a.climate == b.climate
    assert _world(5).climate != a.climate


@pytest.mark.parametrize("layout", ["mfnet", "fmb"])
def test_agent_counts_stay_in_their_ranges(layout):
    for seed in range(20):
        kinds = [a.kind for a in _world(seed, layout).agents]
        for kind, (lo, hi) in AGENT_COUNTS[layout].items():
            assert lo <= kinds.count(kind) <= hi, (seed, kind)


def test_environment_day_and_night():
    climate = _world(1).climate
    day, night = environment(climate, False), environment(climate, True)
    assert not day.night and night.night
    assert day.air == climate.air_day and night.air == climate.air_night
    # people and engines stay warm at night, the sky stays cold
    assert night.skin > night.air + 10 and night.engine > night.air + 20
    assert day.sky_zenith < day.air and night.sky_zenith < night.air


def test_bounce_is_continuous_and_stays_in_range():
    ts = np.linspace(0, 20, 2001)
    xs = np.array([bounce(1.0, 1.3, t, -2.0, 3.0) for t in ts])
    assert xs.min() >= -2.0 and xs.max() <= 3.0
    assert np.abs(np.diff(xs)).max() <= 1.3 * (ts[1] - ts[0]) + 1e-9
    assert bounce(5.0, 1.0, 3.0, 2.0, 2.0) == 2.0  # empty range: pinned at its start


def test_same_street_by_day_and_by_night():
    for seed in range(6):
        day = render_scene(seed, 120, 160, night=False)
        night = render_scene(seed, 120, 160, night=True)
        assert not day.night and night.night
        np.testing.assert_array_equal(day.label, night.label)


def test_t_moves_objects_smoothly():
    a = render_scene(2, 240, 320, t=0.0)
    b = render_scene(2, 240, 320, t=0.1)
    c = render_scene(2, 240, 320, t=3.0)
    small = (a.label != b.label).mean()
    large = (a.label != c.label).mean()
    assert 0 < small < large
    assert small < 0.02
    # the static world stays: curb pixels change only where a moving agent passes over them
    curb, movers = 4, [1, 2, 3]  # MFNet curve; car, person, bike
    changed = (a.label == curb) != (c.label == curb)
    covered = np.isin(a.label, movers) | np.isin(c.label, movers)
    assert changed.any() or (a.label == curb).any()
    assert not (changed & ~covered).any()
    np.testing.assert_array_equal(render_scene(2, 240, 320, t=0.1).rgb, b.rgb)


def test_scene_seed_is_stable_and_spread():
    assert scene_seed(0, 0) == scene_seed(0, 0)
    seeds = {scene_seed(3, i) for i in range(100)}
    assert len(seeds) == 100 and all(0 <= s < 2**32 for s in seeds)
