"""The constants of the synthetic data and the typed settings of its three writers.

``SceneSettings`` (frame size and class set) is shared by ``render_scene``, ``DatasetSettings``
(``write_dataset``) and ``BagSettings`` (``write_synthetic_bag``). Each validates itself when
built, so a bad value fails with a ``SyntheticError`` (a ``ValueError``) that names the field,
before anything is rendered or written.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from sccosf_ros.bag.bag_io import STORAGES
from sccosf_ros.data.synth_metadata import LAYOUTS  # beside the metadata reader, in data/
from sccosf_ros.synthetic.camera_models import CAMERAS, ThermalCamera
from sccosf_ros.synthetic.errors import SyntheticError
from sccosf_ros.synthetic.style import DEFAULT_STYLE, SceneStyle

# Raw-count range that maps linearly to thermal8 0..255 (a radiometric camera's typical window).
THERMAL_COUNTS = (7000, 9000)
# Scene temperature (°C) that maps to THERMAL_COUNTS: 40 counts per kelvin.
TEMPERATURE_RANGE_C = (-5.0, 45.0)
MIN_SIZE = 16  # smallest frame side the street geometry is drawn for
# Fewest images that give every split of the layout one (mfnet: train/val/test, fmb: train/test).
MIN_IMAGES = {"mfnet": 3, "fmb": 2}
RGB_ENCODINGS = ("rgb8", "bgr8")
SECOND = 1_000_000_000  # ns


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _require_int(name: str, value: int, minimum: int) -> None:
    if not _is_int(value):
        raise SyntheticError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise SyntheticError(f"{name} must be >= {minimum}, got {value}")


def _require_positive(name: str, value: float) -> None:
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
        raise SyntheticError(f"{name} must be a positive number, got {value!r}")


def check_seed(seed: int) -> int:
    """A scene seed as int; raises ``SyntheticError`` for a negative one (numpy refuses those)."""
    value = int(seed)
    if value < 0:
        raise SyntheticError(f"seed must be >= 0, got {value}")
    return value


@dataclass(frozen=True)
class SceneSettings:
    """What every frame of a synthetic source looks like: size in pixels, class set, style."""

    height: int = 480
    width: int = 640
    layout: str = "mfnet"
    style: SceneStyle = DEFAULT_STYLE

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise SyntheticError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        if not isinstance(self.style, SceneStyle):
            raise SyntheticError(f"style must be a SceneStyle, got {self.style!r}")
        if not (_is_int(self.height) and _is_int(self.width)):
            raise SyntheticError(
                f"scene height and width must be integers, got {self.height!r}x{self.width!r}"
            )
        if self.height < MIN_SIZE or self.width < MIN_SIZE:
            raise SyntheticError(
                f"scene size must be at least {MIN_SIZE}x{MIN_SIZE}, "
                f"got {self.height}x{self.width}"
            )


@dataclass(frozen=True)
class DatasetSettings:
    """What ``write_dataset`` writes: ``n`` scenes of ``layout``, a share of them at night."""

    layout: str = "mfnet"
    n: int = 20
    seed: int = 0
    height: int = 480
    width: int = 640
    night_fraction: float = 0.5
    style: SceneStyle = DEFAULT_STYLE

    def __post_init__(self) -> None:
        scene = self.scene  # validates layout and size first
        _require_int("n", self.n, 0)
        n_min = MIN_IMAGES[scene.layout]
        if self.n < n_min:
            raise SyntheticError(
                f"n must be at least {n_min} so that every {scene.layout} split gets an image, "
                f"got {self.n}"
            )
        _require_int("seed", self.seed, 0)
        nf = self.night_fraction
        if not (isinstance(nf, numbers.Real) and 0.0 <= nf <= 1.0):
            raise SyntheticError(f"night_fraction must be in [0, 1], got {nf!r}")

    @property
    def scene(self) -> SceneSettings:
        return SceneSettings(self.height, self.width, self.layout, self.style)


@dataclass(frozen=True)
class BagSettings:
    """What ``write_synthetic_bag`` records: an unsynchronized RGB + thermal camera pair.

    Field order is the former ``SyntheticBagConfig``'s, so positional use keeps working.
    """

    storage: str = "mcap"
    duration: float = 10.0  # seconds of recording
    rgb_rate: float = 10.0  # Hz
    thermal_rate: float = 8.7  # Hz
    thermal_offset: float = 0.004  # s, thermal clock runs this much behind/after RGB
    height: int = 240
    width: int = 320
    seed: int = 0
    layout: str = "mfnet"
    night: bool = False
    start_time_ns: int = 1_700_000_000 * SECOND  # stamps look like wall time
    rgb_encoding: str = "rgb8"  # or bgr8
    rgb_topic: str = "/camera/rgb/image_raw"
    thermal_topic: str = "/camera/thermal/image_raw"
    label_topic: str | None = "/camera/rgb/labels"
    rgb_frame: str = "camera_rgb_optical_frame"
    thermal_frame: str = "camera_thermal_optical_frame"
    transport_delay: float = 0.003  # s, log time = stamp + this (receive latency)
    malformed: int = 0  # extra malformed messages per image stream (between good ones)
    thermal_gap: tuple[float, float] | None = None  # (start, end) s with no thermal frames
    show_progress: bool = True
    # thermal camera to emulate (camera_models.CAMERAS, preset config/cameras/<camera>.yaml);
    # None = the renderer's mono16 raw counts at the RGB size
    camera: str | None = None
    ffc_period: float = 0.0  # s between flat-field corrections (shutter bursts); 0 = none
    ffc_duration: float = 0.4  # s each burst lasts (frozen, then closed-shutter frames)
    style: SceneStyle = DEFAULT_STYLE  # the scene's look (style.py)
    # label ids through this table (synthetic class id -> id of a custom class set); None: as is
    label_map: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        _ = self.scene  # validates layout and size
        self._check_camera()
        if self.storage not in STORAGES:
            raise SyntheticError(f"storage must be one of {STORAGES}, got {self.storage!r}")
        if self.rgb_encoding not in RGB_ENCODINGS:
            raise SyntheticError(f"rgb_encoding must be rgb8 or bgr8, got {self.rgb_encoding!r}")
        for name in ("duration", "rgb_rate", "thermal_rate"):
            _require_positive(name, getattr(self, name))
        if not (isinstance(self.transport_delay, numbers.Real) and self.transport_delay >= 0):
            raise SyntheticError(f"transport_delay must be >= 0 s, got {self.transport_delay!r}")
        _require_int("seed", self.seed, 0)
        _require_int("start_time_ns", self.start_time_ns, 0)
        _require_int("malformed", self.malformed, 0)
        self._check_topics()
        if not isinstance(self.style, SceneStyle):
            raise SyntheticError(f"style must be a SceneStyle, got {self.style!r}")
        if self.label_map is not None and not all(
            _is_int(v) and 0 <= v <= 255 for v in self.label_map
        ):
            raise SyntheticError(f"label_map must hold class ids 0-255, got {self.label_map!r}")
        if self.thermal_gap is not None:
            g0, g1 = self.thermal_gap
            if not g0 < g1:
                raise SyntheticError(
                    f"thermal_gap must be (start, end) with start < end, got {self.thermal_gap!r}"
                )

    def _check_camera(self) -> None:
        if self.camera is not None and self.camera not in CAMERAS:
            raise SyntheticError(
                f"camera must be one of {', '.join(CAMERAS)} or None, got {self.camera!r}"
            )
        if not (isinstance(self.ffc_period, numbers.Real) and self.ffc_period >= 0):
            raise SyntheticError(f"ffc_period must be >= 0 s, got {self.ffc_period!r}")
        if self.ffc_period > 0:
            _require_positive("ffc_duration", self.ffc_duration)
            if self.ffc_duration >= self.ffc_period:
                raise SyntheticError(
                    f"ffc_duration must be shorter than ffc_period, got {self.ffc_duration} s "
                    f"every {self.ffc_period} s"
                )

    @property
    def thermal_camera(self) -> ThermalCamera | None:
        return None if self.camera is None else CAMERAS[self.camera]

    def _check_topics(self) -> None:
        topics = [self.rgb_topic, self.thermal_topic]
        if self.label_topic is not None:
            topics.append(self.label_topic)
        if not all(isinstance(t, str) and t for t in topics):
            raise SyntheticError(f"topics must be non-empty strings, got {topics}")
        if len(set(topics)) != len(topics):
            raise SyntheticError(
                f"rgb_topic, thermal_topic and label_topic must differ, got {topics}"
            )

    @property
    def scene(self) -> SceneSettings:
        return SceneSettings(self.height, self.width, self.layout, self.style)
