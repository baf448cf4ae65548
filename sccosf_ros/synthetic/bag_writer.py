"""A synthetic RGB-thermal rosbag2, like a recording from an unsynchronized camera pair.

Frames come from ``render_scene`` at increasing times, so consecutive frames form a video. RGB
(rgb8 or bgr8) and thermal (mono16 raw counts, or an emulated camera's format: ``camera`` names
one of ``camera_models.CAMERAS``, with telemetry rows and FFC bursts, see ``thermal_camera``) run
at different rates with a small stamp offset, so they must be paired approximately by stamp, the
way ``sccosf_node`` does it. Labels (mono8 class ids) carry the RGB stamps. Tests can ask for
malformed messages (bad sizes, unknown encodings, corrupt CDR) and a gap in the thermal stream.
The scene's look is ``BagSettings.style`` (``style.py``); ``label_map`` puts the labels into a
custom class set (``class_map.py``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from rosbags.typesys.store import Typestore
from tqdm import tqdm

from sccosf_ros.bag.bag_io import IMAGE, BagWriter, make_header
from sccosf_ros.pipeline.image_codec import encode_image
from sccosf_ros.synthetic.errors import SyntheticError
from sccosf_ros.synthetic.render import Scene, render_scene
from sccosf_ros.synthetic.settings import SECOND, BagSettings
from sccosf_ros.synthetic.thermal_camera import ThermalStream, ffc_schedule

MALFORMED_KINDS = ("short_data", "unknown_encoding", "corrupt_cdr", "zero_size")
_GOOD_KINDS = ("rgb", "label", "thermal")


@dataclass
class SyntheticBag:
    """What a written synthetic bag holds: stamps per stream, bad messages per topic."""

    path: Path
    storage: str
    config: BagSettings  # the settings it was written with
    rgb_stamps: list[int] = field(default_factory=list)
    thermal_stamps: list[int] = field(default_factory=list)
    label_stamps: list[int] = field(default_factory=list)
    ffc_stamps: list[int] = field(default_factory=list)  # thermal frames of FFC bursts
    malformed: dict[str, int] = field(default_factory=dict)  # topic → bad messages written


class _Event(NamedTuple):
    """One message to write; events sort by log time, then ``order`` (rgb, label, thermal,
    malformed), as a recorder would have received them."""

    log_ns: int
    order: int
    topic: str
    kind: str  # rgb | label | thermal, or one of MALFORMED_KINDS
    t: float  # capture time, s from the start


def frame_times(rate: float, duration: float, offset: float = 0.0) -> list[float]:
    """Capture times (s) of a camera at ``rate`` Hz over ``duration`` s, shifted by ``offset``."""
    if rate <= 0:
        raise SyntheticError(f"frame rate must be positive, got {rate}")
    n = math.floor(duration * rate + 1e-9)
    return [offset + i / rate for i in range(n)]


def _stamp(cfg: BagSettings, t: float) -> int:
    return cfg.start_time_ns + round(t * SECOND)


def _thermal_times(cfg: BagSettings) -> list[float]:
    th_t = frame_times(cfg.thermal_rate, cfg.duration, cfg.thermal_offset)
    if cfg.thermal_gap is not None:
        g0, g1 = cfg.thermal_gap
        th_t = [t for t in th_t if not (g0 <= t < g1)]
    return th_t


def _schedule(cfg: BagSettings) -> tuple[list[_Event], dict[str, int]]:
    """Every message of the bag in log-time order, and the malformed count per topic."""
    rgb_t = frame_times(cfg.rgb_rate, cfg.duration)
    th_t = _thermal_times(cfg)
    delay = int(cfg.transport_delay * SECOND)
    events: list[_Event] = []
    for t in rgb_t:
        events.append(_Event(_stamp(cfg, t) + delay, 0, cfg.rgb_topic, "rgb", t))
        if cfg.label_topic:
            events.append(_Event(_stamp(cfg, t) + delay, 1, cfg.label_topic, "label", t))
    for t in th_t:  # thermal arrives later: a slower interface
        events.append(_Event(_stamp(cfg, t) + 2 * delay, 2, cfg.thermal_topic, "thermal", t))
    malformed: dict[str, int] = {}
    for topic, times in ((cfg.rgb_topic, rgb_t), (cfg.thermal_topic, th_t)):
        bad = _malformed_events(cfg, topic, times, delay)
        if bad:
            malformed[topic] = len(bad)
        events += bad
    events.sort()
    return events, malformed


def _malformed_events(
    cfg: BagSettings, topic: str, times: list[float], delay: int
) -> list[_Event]:
    """``cfg.malformed`` bad messages midway between good frames, spread over the recording."""
    if cfg.malformed <= 0 or len(times) < 2:
        return []
    slots = np.linspace(0, len(times) - 2, cfg.malformed).round().astype(int)
    out = []
    for j, i in enumerate(slots):
        t = 0.5 * (times[i] + times[i + 1])
        kind = MALFORMED_KINDS[j % len(MALFORMED_KINDS)]
        out.append(_Event(_stamp(cfg, t) + delay, 3, topic, kind, t))
    return out


def _malformed_image(store: Typestore, kind: str, t_ns: int, frame_id: str, h: int, w: int) -> Any:
    """An Image message (or raw CDR bytes) that a decoder must reject."""
    cls = store.types[IMAGE]
    header = make_header(store, t_ns, frame_id)
    if kind == "short_data":  # claims h×w rgb8 but carries half a row
        return cls(
            header=header,
            height=h,
            width=w,
            encoding="rgb8",
            is_bigendian=0,
            step=w * 3,
            data=np.zeros(w * 3 // 2, np.uint8),
        )
    if kind == "unknown_encoding":
        return cls(
            header=header,
            height=h,
            width=w,
            encoding="yuv_made_up",
            is_bigendian=0,
            step=w * 3,
            data=np.zeros(h * w * 3, np.uint8),
        )
    if kind == "zero_size":
        return cls(
            header=header,
            height=0,
            width=0,
            encoding="mono8",
            is_bigendian=0,
            step=0,
            data=np.zeros(0, np.uint8),
        )
    if kind == "corrupt_cdr":  # a valid message cut short: the CDR itself is broken
        msg = cls(
            header=header,
            height=h,
            width=w,
            encoding="mono8",
            is_bigendian=0,
            step=w,
            data=np.zeros(h * w, np.uint8),
        )
        raw = bytes(store.serialize_cdr(msg, IMAGE))
        return raw[: len(raw) // 3]
    raise SyntheticError(f"unknown malformed kind {kind!r}")


class _Frames:
    """Rendered scenes by capture time; RGB and thermal times interleave, so keep a few. The
    thermal stream turns them into the camera's frames, FFC bursts included."""

    def __init__(self, cfg: BagSettings) -> None:
        self.cfg = cfg
        self._cache: dict[float, Scene] = {}
        times = _thermal_times(cfg)
        kinds = ffc_schedule(times, cfg.ffc_period, cfg.ffc_duration)
        self.thermal_index = {t: i for i, t in enumerate(times)}
        self.ffc = dict(zip(times, kinds, strict=True))
        self.thermal = ThermalStream(cfg.thermal_camera, cfg.seed, (cfg.height, cfg.width))

    def at(self, t: float) -> Scene:
        if t not in self._cache:
            if len(self._cache) > 4:
                self._cache.clear()
            c = self.cfg
            self._cache[t] = render_scene(
                c.seed, c.height, c.width, c.layout, night=c.night, t=t, style=c.style
            )
        return self._cache[t]


def _good_image(store: Typestore, cfg: BagSettings, frames: _Frames, ev: _Event) -> Any:
    """The rgb, label or thermal Image message of an event."""
    if ev.kind == "rgb":
        scene = frames.at(ev.t)
        rgb = scene.rgb[..., ::-1] if cfg.rgb_encoding == "bgr8" else scene.rgb
        arr, encoding, frame = np.ascontiguousarray(rgb), cfg.rgb_encoding, cfg.rgb_frame
    elif ev.kind == "label":
        label = frames.at(ev.t).label
        if cfg.label_map is not None:  # a custom class set (class_map.py)
            label = np.asarray(cfg.label_map, np.uint8)[label]
        arr, encoding, frame = label, "mono8", cfg.rgb_frame
    else:
        arr = frames.thermal.frame(
            frames.thermal_index[ev.t], lambda: frames.at(ev.t).thermal16, frames.ffc[ev.t]
        )
        encoding, frame = frames.thermal.encoding, cfg.thermal_frame
    return encode_image(
        arr,
        encoding,
        header=make_header(store, _stamp(cfg, ev.t), frame),
        msg_type=store.types[IMAGE],
    )


def _with_overrides(cfg: BagSettings, overrides: dict[str, Any]) -> BagSettings:
    names = {f.name for f in fields(BagSettings)}
    for k in overrides:
        if k not in names:
            raise TypeError(f"unknown synthetic bag option {k!r}")
    return replace(cfg, **overrides)


def write_synthetic_bag(
    out: str | os.PathLike, config: BagSettings | None = None, **overrides: Any
) -> SyntheticBag:
    """Write the bag to directory ``out`` (must not exist) and return what it holds.

    Keyword ``overrides`` replace fields of ``config`` (default ``BagSettings()``)."""
    cfg = _with_overrides(config or BagSettings(), overrides)
    events, malformed = _schedule(cfg)
    result = SyntheticBag(path=Path(out), storage=cfg.storage, config=cfg, malformed=malformed)
    stamps = {
        "rgb": result.rgb_stamps,
        "label": result.label_stamps,
        "thermal": result.thermal_stamps,
    }
    frames = _Frames(cfg)
    with BagWriter(out, storage=cfg.storage) as bag:
        store = bag.typestore
        for topic in (cfg.rgb_topic, cfg.thermal_topic, cfg.label_topic):
            if topic:
                bag.add_topic(topic, IMAGE)
        for ev in tqdm(
            events, desc="synthetic bag", unit="msg", disable=not cfg.show_progress, leave=False
        ):
            if ev.kind in _GOOD_KINDS:
                msg = _good_image(store, cfg, frames, ev)
                stamps[ev.kind].append(_stamp(cfg, ev.t))
                if ev.kind == "thermal" and frames.ffc[ev.t]:
                    result.ffc_stamps.append(_stamp(cfg, ev.t))
            else:
                frame = cfg.rgb_frame if ev.topic == cfg.rgb_topic else cfg.thermal_frame
                msg = _malformed_image(
                    store, ev.kind, _stamp(cfg, ev.t), frame, cfg.height, cfg.width
                )
            if isinstance(msg, bytes):
                bag.write_raw(ev.topic, ev.log_ns, msg, IMAGE)
            else:
                bag.write(ev.topic, ev.log_ns, msg)
    return result
