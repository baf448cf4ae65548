"""Scene styles: how a synthetic street looks, apart from what the seed draws in it.

The shipped model was trained on one look of the generator (``default``): a city street seen
from a car-height camera, mild weather, half of the scenes at night. A team's rig sees another
world — a yard with trucks from a mast, a suburb at dusk from a small robot — and the point of
``SceneStyle`` is to make such a world on purpose, so that fine-tuning on it can be measured
(``sccosf bench adapt``). A style has five groups, each a frozen dataclass:

- ``Palette``: surface colours (sky, ground, road, sidewalk, buildings, vehicles, vegetation);
- ``Lighting``: exposure, light colour (``tint``), sun side and strength, the day/night mix;
- ``CameraMount``: camera height, horizontal field of view, horizon row (pitch);
- ``ObjectMix``: which objects stand in the street and how many, road width, buildings;
- ``ThermalLook``: air temperatures by day and night, sensor noise and optical blur.

Every field's default is the generator's own constant, and a default value leaves the random
draws and the pixel arithmetic exactly as they were: ``default`` renders the same bits as the
generator did before styles existed (``test_render``'s pinned frames).

``load_style(NAME | FILE.yaml)`` returns a preset or reads a YAML file whose optional ``base``
names the preset it changes (see ``STYLE_FILE_EXAMPLE``); a bad file is one ``StyleError``
line naming the file and the key.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sccosf_ros.colour_triple import check_colour_triple
from sccosf_ros.synthetic.errors import SyntheticError
from sccosf_ros.yaml_file import read_yaml

Colour = tuple[float, float, float]
Range = tuple[float, float]

# Agents the generator can place (scene.AGENT_COUNTS' keys, in drawing order).
AGENT_KINDS = (
    "car",
    "person",
    "bicycle",
    "motorcycle",
    "truck",
    "bus",
    "cone",
    "car_stop",
    "tree",
    "streetlight",
    "traffic_light",
    "sign",
    "pole",
)

STYLE_FILE_EXAMPLE = """\
# my_site.yaml: a style for `sccosf synth --style my_site.yaml` (every key optional)
base: industrial            # start from a preset (default: default)
name: my-site
palette: {road: [0.4, 0.4, 0.38], buildings: [[0.3, 0.4, 0.6], [0.8, 0.8, 0.78]]}
lighting: {exposure: 0.8, tint: [1.0, 0.95, 0.9], sun_side: -0.5, night_fraction: 0.2}
camera: {height: [2.0, 2.5], fov_deg: [70, 80]}
objects: {counts: {truck: [1, 3], person: [0, 2], tree: [0, 0]}, guardrail: 0.9}
thermal: {air_day: [0, 8], air_night: [-5, 2], noise: 6}
"""


class StyleError(SyntheticError):
    """A style name that is not a preset, or a style file that cannot be used."""


@dataclass(frozen=True)
class Palette:
    """Surface colours (RGB albedo, 0..1). Buildings and vehicles pick from their lists."""

    sky_day: tuple[Colour, Colour] = ((0.3, 0.5, 0.85), (0.75, 0.85, 0.95))  # zenith, horizon
    sky_night: tuple[Colour, Colour] = ((0.02, 0.03, 0.08), (0.1, 0.1, 0.16))
    terrain: Colour = (0.36, 0.37, 0.26)
    road: Colour = (0.3, 0.3, 0.32)
    sidewalk: Colour = (0.62, 0.58, 0.54)
    vegetation: Colour = (0.12, 0.35, 0.1)  # tree crowns (green varies per blob)
    buildings: tuple[Colour, ...] = (
        (0.72, 0.66, 0.56),
        (0.55, 0.55, 0.56),
        (0.6, 0.35, 0.28),
        (0.82, 0.8, 0.74),
        (0.45, 0.48, 0.5),
        (0.68, 0.6, 0.45),
    )
    vehicles: tuple[Colour, ...] = (
        (0.75, 0.08, 0.07),
        (0.1, 0.2, 0.6),
        (0.9, 0.9, 0.9),
        (0.08, 0.08, 0.09),
        (0.6, 0.62, 0.65),
        (0.85, 0.7, 0.1),
        (0.15, 0.35, 0.2),
        (0.45, 0.25, 0.12),
    )


@dataclass(frozen=True)
class Lighting:
    """The light on the scene: ``exposure`` scales the seed's own, ``tint`` colours the light
    (dusk: orange), ``sun_side`` -1..1 brightens the left or right of the frame by
    ``sun_strength`` (a low sun), ``night_fraction`` is the share of scenes drawn at night where
    the seed decides, ``night_ambient`` scales the light of the night street."""

    exposure: float = 1.0
    tint: Colour = (1.0, 1.0, 1.0)
    sun_side: float = 0.0
    sun_strength: float = 0.0
    night_fraction: float = 0.5
    night_ambient: float = 1.0


@dataclass(frozen=True)
class CameraMount:
    """Where the camera sits: ``height`` (m above the ground), horizontal field of view (degrees;
    None: the default lens, 53-64 degrees on a 4:3 frame) and horizon row (share of the height)."""

    height: Range = (1.3, 1.7)
    fov_deg: Range | None = None
    horizon: Range = (0.36, 0.46)

    def focal_range(self) -> Range:
        """Focal length as a share of the 4:3 reference width, (short, long) for ``uniform``."""
        if self.fov_deg is None:
            return (0.8, 1.0)
        wide, narrow = max(self.fov_deg), min(self.fov_deg)
        return (0.5 / math.tan(math.radians(wide) / 2), 0.5 / math.tan(math.radians(narrow) / 2))


@dataclass(frozen=True)
class ObjectMix:
    """What stands in the street: ``counts`` (kind → (min, max), overriding the layout's own),
    road half-width (m), the share of lots with a building and their heights (m), and how often
    a guardrail lines the road (None: the layout's own share)."""

    counts: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    road_half: Range = (3.5, 6.0)
    buildings: float = 0.85
    building_height: Range = (5.0, 28.0)
    guardrail: float | None = None


@dataclass(frozen=True)
class ThermalLook:
    """The thermal side: air temperature ranges (°C) by day and by night, extra temporal noise
    of the sensor (standard deviation in raw counts, 40 per kelvin) and its optical blur as a
    multiple of the default camera's."""

    air_day: Range = (14.0, 24.0)
    air_night: Range = (4.0, 16.0)
    noise: float = 0.0
    blur: float = 1.0


@dataclass(frozen=True)
class SceneStyle:
    """A named look of the synthetic street (see the module docstring)."""

    name: str = "default"
    palette: Palette = Palette()
    lighting: Lighting = Lighting()
    camera: CameraMount = CameraMount()
    objects: ObjectMix = ObjectMix()
    thermal: ThermalLook = ThermalLook()

    def __post_init__(self) -> None:
        check_style(self)

    def agent_counts(self, layout_counts: Mapping[str, tuple[int, int]]) -> dict:
        """The layout's agent counts with this style's overrides."""
        return {k: tuple(self.objects.counts.get(k, v)) for k, v in layout_counts.items()}


# --------------------------------------------------------------------------- checks
def _range(where: str, value: Any, lo: float, hi: float) -> None:
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(_real(v) and lo <= v <= hi for v in value)
        and value[0] <= value[1]
    )
    if not ok:
        raise StyleError(f"{where} must be [low, high] with {lo} <= low <= high <= {hi}")


def _real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _number(where: str, value: Any, lo: float, hi: float) -> None:
    if not (_real(value) and lo <= value <= hi):
        raise StyleError(f"{where} must be a number in [{lo}, {hi}], got {value!r}")


def _colour(where: str, value: Any, hi: float = 1.0) -> None:
    check_colour_triple(value, where, StyleError, hi=hi, integers=False)


def _check_palette(p: Palette) -> None:
    for name in ("sky_day", "sky_night"):
        pair = getattr(p, name)
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise StyleError(f"palette.{name} must be two colours [zenith, horizon]")
        for c in pair:
            _colour(f"palette.{name}", c)
    for name in ("terrain", "road", "sidewalk", "vegetation"):
        _colour(f"palette.{name}", getattr(p, name))
    for name in ("buildings", "vehicles"):
        colours = getattr(p, name)
        if not (isinstance(colours, tuple) and colours):
            raise StyleError(f"palette.{name} must be a non-empty list of colours")
        for c in colours:
            _colour(f"palette.{name}", c)


def _check_objects(o: ObjectMix) -> None:
    for kind, pair in o.counts.items():
        if kind not in AGENT_KINDS:
            raise StyleError(
                f"objects.counts: unknown object {kind!r} (known: {', '.join(AGENT_KINDS)})"
            )
        ok = (
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
            and 0 <= pair[0] <= pair[1] <= 50
        )
        if not ok:
            raise StyleError(f"objects.counts.{kind} must be [min, max], 0 <= min <= max <= 50")
    _range("objects.road_half", o.road_half, 1.0, 30.0)
    _number("objects.buildings", o.buildings, 0.0, 1.0)
    _range("objects.building_height", o.building_height, 1.0, 200.0)
    if o.guardrail is not None:
        _number("objects.guardrail", o.guardrail, 0.0, 1.0)


def check_style(s: SceneStyle) -> None:
    """Raise ``StyleError`` naming the first field out of range."""
    if not (isinstance(s.name, str) and s.name):
        raise StyleError(f"style name must be a non-empty string, got {s.name!r}")
    _check_palette(s.palette)
    li = s.lighting
    _number("lighting.exposure", li.exposure, 0.05, 5.0)
    _colour("lighting.tint", li.tint, hi=3.0)
    _number("lighting.sun_side", li.sun_side, -1.0, 1.0)
    _number("lighting.sun_strength", li.sun_strength, 0.0, 1.0)
    _number("lighting.night_fraction", li.night_fraction, 0.0, 1.0)
    _number("lighting.night_ambient", li.night_ambient, 0.0, 10.0)
    _range("camera.height", s.camera.height, 0.1, 50.0)
    if s.camera.fov_deg is not None:
        _range("camera.fov_deg", s.camera.fov_deg, 10.0, 150.0)
    _range("camera.horizon", s.camera.horizon, 0.05, 0.95)
    _check_objects(s.objects)
    _range("thermal.air_day", s.thermal.air_day, -40.0, 60.0)
    _range("thermal.air_night", s.thermal.air_night, -40.0, 60.0)
    _number("thermal.noise", s.thermal.noise, 0.0, 400.0)
    _number("thermal.blur", s.thermal.blur, 0.1, 20.0)


# --------------------------------------------------------------------------- presets
DEFAULT_STYLE = SceneStyle()

# A logistics yard seen from a mast on a vehicle: concrete, corrugated warehouses, trucks,
# cones and barriers, a wide lens, overcast winter light.
INDUSTRIAL = SceneStyle(
    name="industrial",
    palette=Palette(
        sky_day=((0.62, 0.65, 0.7), (0.85, 0.86, 0.88)),
        terrain=(0.5, 0.47, 0.42),
        road=(0.52, 0.51, 0.48),
        sidewalk=(0.35, 0.34, 0.33),
        vegetation=(0.25, 0.3, 0.15),
        buildings=((0.2, 0.32, 0.55), (0.78, 0.78, 0.76), (0.55, 0.15, 0.12), (0.4, 0.42, 0.4)),
        vehicles=((0.95, 0.55, 0.05), (0.95, 0.95, 0.92), (0.15, 0.3, 0.65), (0.3, 0.3, 0.3)),
    ),
    lighting=Lighting(exposure=0.82, tint=(0.95, 0.98, 1.05), night_fraction=0.3),
    camera=CameraMount(height=(2.4, 3.0), fov_deg=(78.0, 90.0), horizon=(0.3, 0.38)),
    objects=ObjectMix(
        counts={
            "car": (0, 1),
            "truck": (1, 3),
            "bus": (0, 0),
            "person": (1, 3),
            "bicycle": (0, 1),
            "cone": (2, 7),
            "car_stop": (1, 4),
            "tree": (0, 0),
            "streetlight": (1, 3),
            "pole": (0, 2),
        },
        road_half=(5.0, 9.0),
        buildings=0.95,
        building_height=(6.0, 12.0),
        guardrail=0.85,
    ),
    thermal=ThermalLook(air_day=(0.0, 8.0), air_night=(-6.0, 2.0), noise=6.0),
)

# A residential street at dusk seen from a small robot: low warm sun from the left, lawns,
# low houses, many trees, bicycles; a long lens, warm summer air.
SUBURB_DUSK = SceneStyle(
    name="suburb-dusk",
    palette=Palette(
        sky_day=((0.35, 0.3, 0.55), (0.98, 0.62, 0.35)),
        terrain=(0.2, 0.42, 0.15),
        road=(0.24, 0.23, 0.25),
        sidewalk=(0.75, 0.72, 0.66),
        buildings=((0.92, 0.88, 0.78), (0.7, 0.45, 0.35), (0.85, 0.85, 0.88), (0.55, 0.6, 0.5)),
    ),
    lighting=Lighting(
        exposure=0.6, tint=(1.25, 0.85, 0.6), sun_side=-0.8, sun_strength=0.5, night_fraction=0.15
    ),
    camera=CameraMount(height=(0.55, 0.85), fov_deg=(42.0, 52.0), horizon=(0.45, 0.55)),
    objects=ObjectMix(
        counts={
            "car": (1, 3),
            "person": (0, 3),
            "bicycle": (1, 3),
            "cone": (0, 0),
            "tree": (3, 7),
        },
        road_half=(2.8, 4.0),
        buildings=0.7,
        building_height=(4.0, 9.0),
        guardrail=0.0,
    ),
    thermal=ThermalLook(air_day=(24.0, 32.0), air_night=(16.0, 22.0), blur=1.8),
)

PRESETS: dict[str, SceneStyle] = {s.name: s for s in (DEFAULT_STYLE, INDUSTRIAL, SUBURB_DUSK)}


# --------------------------------------------------------------------------- style files
_GROUPS = ("palette", "lighting", "camera", "objects", "thermal")  # SceneStyle's groups


def _tuples(value: Any) -> Any:
    """YAML lists → tuples (nested), mappings kept: the frozen dataclasses hold tuples."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _group(base: Any, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise StyleError(f"{where} must be a mapping of its settings, got {data!r}")
    known = {f.name for f in fields(base)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise StyleError(f"{where}: unknown key(s) {unknown} (known: {', '.join(sorted(known))})")
    return replace(base, **_tuples(data))


def style_from_dict(data: Any, where: str = "style") -> SceneStyle:
    """A ``SceneStyle`` from parsed YAML (see ``STYLE_FILE_EXAMPLE``); errors name ``where``."""
    if not isinstance(data, dict):
        raise StyleError(f"{where}: expected a mapping (palette:, lighting:, ...), got {data!r}")
    unknown = sorted(set(data) - {"base", "name", *_GROUPS})
    if unknown:
        raise StyleError(
            f"{where}: unknown key(s) {unknown} (known: base, name, {', '.join(_GROUPS)})"
        )
    changes: dict[str, Any] = {"name": data.get("name", Path(where).stem)}
    try:
        base = style_preset(str(data.get("base", "default")))
        for key in _GROUPS:
            if key in data:
                changes[key] = _group(getattr(base, key), data[key], key)
        if "objects" in changes:  # counts: the base's, with the file's on top
            o = changes["objects"]
            counts = {k: tuple(v) for k, v in {**base.objects.counts, **o.counts}.items()}
            changes["objects"] = replace(o, counts=counts)
        return replace(base, **changes)
    except (StyleError, TypeError) as e:
        raise StyleError(f"{where}: {e}") from None


def style_preset(name: str) -> SceneStyle:
    """The preset called ``name``; ``StyleError`` listing the presets otherwise."""
    if name not in PRESETS:
        raise StyleError(
            f"unknown style {name!r}: use one of {', '.join(PRESETS)} or a .yaml file"
        )
    return PRESETS[name]


def load_style(spec: str | Path | SceneStyle | None) -> SceneStyle:
    """A preset name, a style YAML file, a ``SceneStyle`` (returned as is) or None (default)."""
    if spec is None:
        return DEFAULT_STYLE
    if isinstance(spec, SceneStyle):
        return spec
    text = str(spec)
    if not text.endswith((".yaml", ".yml")):
        return style_preset(text)
    path = Path(text)
    if not path.is_file():
        raise StyleError(f"{path}: no such style file")
    data = read_yaml(path, StyleError)
    return style_from_dict(data, str(path))


def style_to_dict(s: SceneStyle) -> dict[str, Any]:
    """The style as plain data (for metadata files and reports)."""

    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, Mapping):
            return {k: plain(x) for k, x in v.items()}
        return v

    out: dict[str, Any] = {"name": s.name}
    for key in _GROUPS:
        g = getattr(s, key)
        out[key] = {f.name: plain(getattr(g, f.name)) for f in fields(g)}
    return out
