"""A synthetic RGB-thermal rosbag2, like a recording from an unsynchronized camera pair.

Frames come from ``training.synthetic.render_scene`` at increasing times, so consecutive frames
form a video. RGB (rgb8 or bgr8) and thermal (mono16 raw counts, as thermal drivers publish) run
at different rates with a small stamp offset, so they must be paired approximately by stamp, the
way ``sccosf_node`` does it. Labels (mono8 class ids) carry the RGB stamps. Tests can ask for
malformed messages (bad sizes, unknown encodings, corrupt CDR) and a gap in the thermal stream.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sccosf_ros.bag.bag_io import IMAGE, BagWriter, make_header

SECOND = 1_000_000_000
MALFORMED_KINDS = ("short_data", "unknown_encoding", "corrupt_cdr", "zero_size")


@dataclass
class SyntheticBagConfig:
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


@dataclass
class SyntheticBag:
    path: Path
    storage: str
    rgb_stamps: list[int] = field(default_factory=list)
    thermal_stamps: list[int] = field(default_factory=list)
    label_stamps: list[int] = field(default_factory=list)
    malformed: dict[str, int] = field(default_factory=dict)  # topic → bad messages written
    config: SyntheticBagConfig | None = None


def frame_times(rate: float, duration: float, offset: float = 0.0) -> list[float]:
    """Capture times (s) of a camera at ``rate`` Hz over ``duration`` s, shifted by ``offset``."""
    if rate <= 0:
        raise ValueError(f"frame rate must be positive, got {rate}")
    n = math.floor(duration * rate + 1e-9)
    return [offset + i / rate for i in range(n)]


def _malformed_image(store, kind: str, t_ns: int, frame_id: str, h: int, w: int):
    """An Image message (or raw CDR bytes) that a decoder must reject."""
    cls = store.types[IMAGE]
    header = make_header(store, t_ns, frame_id)
    if kind == "short_data":  # claims h×w rgb8 but carries half a row
        return cls(header=header, height=h, width=w, encoding="rgb8", is_bigendian=0,
                   step=w * 3, data=np.zeros(w * 3 // 2, np.uint8))
    if kind == "unknown_encoding":
        return cls(header=header, height=h, width=w, encoding="yuv_made_up", is_bigendian=0,
                   step=w * 3, data=np.zeros(h * w * 3, np.uint8))
    if kind == "zero_size":
        return cls(header=header, height=0, width=0, encoding="mono8", is_bigendian=0,
                   step=0, data=np.zeros(0, np.uint8))
    if kind == "corrupt_cdr":  # a valid message cut short: the CDR itself is broken
        msg = cls(header=header, height=h, width=w, encoding="mono8", is_bigendian=0,
                  step=w, data=np.zeros(h * w, np.uint8))
        raw = bytes(store.serialize_cdr(msg, IMAGE))
        return raw[: len(raw) // 3]
    raise ValueError(f"unknown malformed kind {kind!r}")


def write_synthetic_bag(out: str | os.PathLike, config: SyntheticBagConfig | None = None,
                        **overrides) -> SyntheticBag:
    """Write the bag to directory ``out`` (must not exist) and return what it holds."""
    from sccosf_ros.pipeline.image_codec import encode_image
    from sccosf_ros.training.synthetic import render_scene

    cfg = config or SyntheticBagConfig()
    for k, v in overrides.items():
        if not hasattr(cfg, k):
            raise TypeError(f"unknown synthetic bag option {k!r}")
        setattr(cfg, k, v)
    if cfg.rgb_encoding not in ("rgb8", "bgr8"):
        raise ValueError(f"rgb_encoding must be rgb8 or bgr8, got {cfg.rgb_encoding!r}")

    rgb_t = frame_times(cfg.rgb_rate, cfg.duration)
    th_t = frame_times(cfg.thermal_rate, cfg.duration, cfg.thermal_offset)
    if cfg.thermal_gap is not None:
        g0, g1 = cfg.thermal_gap
        th_t = [t for t in th_t if not (g0 <= t < g1)]

    # (log_time_ns, order, topic, kind, t_s): kind "rgb"/"thermal"/"label" or malformed kind
    events: list[tuple[int, int, str, str, float]] = []
    delay = int(cfg.transport_delay * SECOND)

    def ns(t: float) -> int:
        return cfg.start_time_ns + round(t * SECOND)

    for t in rgb_t:
        events.append((ns(t) + delay, 0, cfg.rgb_topic, "rgb", t))
        if cfg.label_topic:
            events.append((ns(t) + delay, 1, cfg.label_topic, "label", t))
    for t in th_t:
        events.append((ns(t) + 2 * delay, 2, cfg.thermal_topic, "thermal", t))
    malformed: dict[str, int] = {}
    for topic, times in ((cfg.rgb_topic, rgb_t), (cfg.thermal_topic, th_t)):
        if cfg.malformed <= 0 or len(times) < 2:
            continue
        # midway between good frames, spread over the recording
        slots = np.linspace(0, len(times) - 2, cfg.malformed).round().astype(int)
        for j, i in enumerate(slots):
            t = 0.5 * (times[i] + times[i + 1])
            kind = MALFORMED_KINDS[j % len(MALFORMED_KINDS)]
            events.append((ns(t) + delay, 3, topic, kind, t))
            malformed[topic] = malformed.get(topic, 0) + 1
    events.sort()

    result = SyntheticBag(path=Path(out), storage=cfg.storage, malformed=malformed, config=cfg)
    cache: dict[float, object] = {}

    def scene(t: float):
        if t not in cache:
            if len(cache) > 4:  # RGB and thermal times interleave; keep a few
                cache.clear()
            cache[t] = render_scene(cfg.seed, height=cfg.height, width=cfg.width,
                                    layout=cfg.layout, night=cfg.night, t=t)
        return cache[t]

    with BagWriter(out, storage=cfg.storage) as bag:
        store = bag.typestore
        img_cls = store.types[IMAGE]
        for topic in (cfg.rgb_topic, cfg.thermal_topic, cfg.label_topic):
            if topic:
                bag.add_topic(topic, IMAGE)
        for log_ns, _, topic, kind, t in tqdm(events, desc="synthetic bag", unit="msg",
                                               disable=not cfg.show_progress, leave=False):
            stamp = ns(t)
            if kind == "rgb":
                rgb = scene(t).rgb
                arr = rgb[..., ::-1] if cfg.rgb_encoding == "bgr8" else rgb
                msg = encode_image(np.ascontiguousarray(arr), cfg.rgb_encoding,
                                   header=make_header(store, stamp, cfg.rgb_frame),
                                   msg_type=img_cls)
                result.rgb_stamps.append(stamp)
            elif kind == "label":
                msg = encode_image(scene(t).label, "mono8",
                                   header=make_header(store, stamp, cfg.rgb_frame),
                                   msg_type=img_cls)
                result.label_stamps.append(stamp)
            elif kind == "thermal":
                msg = encode_image(scene(t).thermal16, "mono16",
                                   header=make_header(store, stamp, cfg.thermal_frame),
                                   msg_type=img_cls)
                result.thermal_stamps.append(stamp)
            else:
                frame = cfg.rgb_frame if topic == cfg.rgb_topic else cfg.thermal_frame
                msg = _malformed_image(store, kind, stamp, frame, cfg.height, cfg.width)
            if isinstance(msg, bytes):
                bag.write_raw(topic, log_ns, msg, IMAGE)
            else:
                bag.write(topic, log_ns, msg)
    return result
