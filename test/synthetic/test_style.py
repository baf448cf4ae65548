"""Scene styles: the default look is the old one, presets differ measurably, style files load
(base + overrides), and a bad style is one line naming the file and the key."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.synthetic import PRESETS, SceneSettings, StyleError, load_style, render_scene
from sccosf_ros.synthetic.scene import World
from sccosf_ros.synthetic.style import (
    DEFAULT_STYLE,
    STYLE_FILE_EXAMPLE,
    SceneStyle,
    style_from_dict,
    style_to_dict,
)

H, W = 48, 64
SEEDS = range(6)


def _frames(style: str) -> list:
    return [render_scene(s, H, W, style=style, night=False) for s in SEEDS]


def test_default_style_renders_the_same_bits_as_no_style():
    for seed, night in ((3, False), (3, True)):
        a = render_scene(seed, H, W, night=night)
        b = render_scene(seed, H, W, night=night, style="default")
        for k in ("rgb", "thermal16", "label"):
            np.testing.assert_array_equal(getattr(a, k), getattr(b, k))


def test_presets_differ_measurably_in_rgb_and_thermal():
    looks = {name: _frames(name) for name in PRESETS}
    mean_rgb = {
        n: np.mean([f.rgb.reshape(-1, 3).mean(0) for f in fs], 0) for n, fs in looks.items()
    }
    mean_t = {n: np.mean([f.thermal16.mean() for f in fs]) for n, fs in looks.items()}
    # industrial: overcast winter (colder thermal); suburb at dusk: warm light, warm air
    assert mean_t["industrial"] < mean_t["default"] - 200  # counts: 40 per kelvin
    assert mean_t["suburb-dusk"] > mean_t["default"] + 200
    dusk = mean_rgb["suburb-dusk"]
    assert dusk[0] - dusk[2] > mean_rgb["default"][0] - mean_rgb["default"][2] + 10  # orange
    for a in PRESETS:
        for b in PRESETS:
            if a < b:
                assert np.abs(mean_rgb[a] - mean_rgb[b]).max() > 5


def test_object_mix_and_camera_mount_reach_the_world():
    style = PRESETS["industrial"]
    for seed in SEEDS:
        world = World(np.random.default_rng(seed), SceneSettings(120, 160, "mfnet", style))
        kinds = [a.kind for a in world.agents]
        assert "tree" not in kinds and kinds.count("truck") >= 1
        assert 2 <= kinds.count("cone") <= 7
        assert 2.4 <= world.cam.height <= 3.0
        fov = 2 * np.degrees(np.arctan(0.5 * 160 / world.cam.f))
        assert 78 - 1e-6 <= fov <= 90 + 1e-6
        assert 5.0 <= world.road_half <= 9.0


def test_style_file_with_base_and_overrides(tmp_path):
    path = tmp_path / "my_site.yaml"
    path.write_text(STYLE_FILE_EXAMPLE)
    style = load_style(path)
    assert style.name == "my-site"
    assert style.camera.height == (2.0, 2.5) and style.camera.fov_deg == (70, 80)
    assert style.palette.buildings == ((0.3, 0.4, 0.6), (0.8, 0.8, 0.78))
    assert style.palette.sidewalk == PRESETS["industrial"].palette.sidewalk  # from the base
    # counts: the base's with the file's on top
    assert style.objects.counts["truck"] == (1, 3) and style.objects.counts["cone"] == (2, 7)
    assert style.objects.counts["tree"] == (0, 0)
    scene = render_scene(1, H, W, style=str(path))
    assert scene.rgb.shape == (H, W, 3)
    # a style round-trips through its plain form
    assert style_from_dict({**style_to_dict(style), "base": "default"}) == style
    assert load_style(None) is DEFAULT_STYLE and load_style(style) is style


@pytest.mark.parametrize(
    "text,words",
    [
        ("lighting: {exposure: -1}", ["lighting.exposure", "[0.05, 5.0]"]),
        ("lighting: {brightness: 2}", ["lighting", "brightness"]),
        ("weather: rain", ["unknown key", "weather"]),
        ("camera: {height: [3, 1]}", ["camera.height", "low <= high"]),
        ("objects: {counts: {dragon: [1, 2]}}", ["objects.counts", "dragon"]),
        ("objects: {counts: {car: [1]}}", ["objects.counts.car"]),
        ("palette: {road: [1, 2]}", ["palette.road", "[r, g, b]"]),
        ("base: moonbase", ["moonbase", "industrial"]),
        ("[1, 2", ["cannot read it as YAML"]),
        ("- just a list", ["expected a mapping"]),
    ],
)
def test_bad_style_file_is_one_line_naming_file_and_key(tmp_path, text, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\n")
    with pytest.raises(StyleError) as e:
        load_style(path)
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg
    for w in words:
        assert w in msg


def test_unknown_preset_and_missing_file():
    with pytest.raises(StyleError, match=r"unknown style 'nope'.*industrial"):
        load_style("nope")
    with pytest.raises(StyleError, match="no such style file"):
        load_style("/nonexistent/style.yaml")
    with pytest.raises(StyleError, match=r"thermal\.blur"):
        SceneStyle(thermal=PRESETS["default"].thermal.__class__(blur=0.0))


def test_style_knows_every_agent_kind_of_the_generator():
    from sccosf_ros.synthetic.scene import AGENT_COUNTS
    from sccosf_ros.synthetic.style import AGENT_KINDS

    for counts in AGENT_COUNTS.values():
        assert tuple(counts) == AGENT_KINDS
