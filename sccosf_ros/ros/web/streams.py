"""The web view's frames: one-slot latest buffers, JPEG encoding only while someone watches.

``Stream.put`` is what the node (or the standalone viewer) calls for every output it publishes:
it replaces the newest frame (a reference to the array, no copy, no encoding) and returns, so the
node's worker never waits for a viewer. While at least one client watches a stream, that
stream's encoder thread takes the newest frame, at most ``max_fps`` times per second, and encodes
it to JPEG once for every watcher; frames that arrive in between are replaced, never queued.
Each watcher waits for an encoded frame newer than the last one it sent and takes the newest: a
slow client skips frames (counted), it never holds more than the one frame it is sending.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sccosf_ros.pipeline.image_codec import ImageDecodeError

# How long an encoder with no watcher stays before its thread ends (a page reload reconnects).
ENCODER_IDLE_S = 2.0


@dataclass(frozen=True)
class Jpeg:
    """One encoded frame: ``seq`` counts encodes per stream; ``at`` is the encode time on the
    server's clock (seconds, wall-clock based, spaced exactly as the monotonic clock)."""

    seq: int
    data: bytes
    at: float
    stamp_ns: int | None  # the ROS header stamp of the frame, when it had one


def display_array(array: np.ndarray) -> np.ndarray:
    """An output or input image as 8-bit pixels to show: rgb8/mono8 as they are; anything else
    (raw thermal counts, float kelvin) stretched between its 1st and 99th percentile."""
    a = np.asarray(array)
    if a.dtype == np.uint8:
        return a
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a.reshape(-1)
    if finite.size == 0:
        return np.zeros(a.shape[:2], np.uint8)
    lo, hi = np.percentile(finite, (1.0, 99.0))
    scaled = (np.nan_to_num(a.astype(np.float32), nan=lo) - lo) / max(float(hi - lo), 1e-6)
    return (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def encode_jpeg(array: np.ndarray, quality: int) -> bytes:
    """RGB (H, W, 3) or grey (H, W) pixels of any dtype → JPEG bytes."""
    import cv2

    a = display_array(array)
    if a.ndim == 3 and a.shape[2] == 3:
        a = a[..., ::-1]  # OpenCV writes BGR
    elif a.ndim != 2:
        raise ImageDecodeError(f"cannot show an image of shape {a.shape}")
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(a), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageDecodeError(f"JPEG encoding failed for an image of shape {a.shape}")
    return buf.tobytes()


class Clock:
    """Monotonic time with a fixed wall-clock offset: the X-Timestamp of the frames."""

    def __init__(self) -> None:
        self._offset = time.time() - time.monotonic()

    def now(self) -> float:
        return time.monotonic() + self._offset


class Stream:
    """One named stream (``overlay``, ``rgb``, a topic): the newest frame and its JPEG."""

    def __init__(
        self,
        name: str,
        *,
        max_fps: float,
        quality: int,
        clock: Clock,
        on_error: Callable[[str, BaseException], None] | None = None,
        prepare: Callable[[Any], np.ndarray] | None = None,
    ) -> None:
        self.name = name
        # frame → pixels, on the encoder thread (the standalone viewer decodes messages here,
        # so a topic nobody watches costs nothing but the reference)
        self._prepare = prepare if prepare is not None else np.asarray
        self.period = 1.0 / max_fps
        self.quality = quality
        self._clock = clock
        self._on_error = on_error
        self._cond = threading.Condition()
        self._raw: tuple[int, Any, int | None] | None = None  # (seq, array, stamp_ns)
        self._jpeg: Jpeg | None = None
        self._encoded_raw = 0  # raw seq the newest JPEG was made from
        self._watchers = 0
        self._encoder: threading.Thread | None = None
        self._closed = False
        self.frames_in = 0
        self.frames_encoded = 0
        self.frames_skipped = 0  # frames watchers missed because they were slower

    # ------------------------------------------------------------------ producer side
    def put(self, array: Any, stamp_ns: int | None = None) -> None:
        """The newest frame (never blocks on a viewer: it replaces the one waiting)."""
        with self._cond:
            self.frames_in += 1
            self._raw = (self.frames_in, array, stamp_ns)
            if self._watchers:
                self._cond.notify_all()

    def has_frame(self) -> bool:
        with self._cond:
            return self._raw is not None

    # ------------------------------------------------------------------ watcher side
    def watch(self) -> None:
        """A client starts watching: the encoder runs while anyone does."""
        with self._cond:
            self._watchers += 1
            if self._encoder is None and not self._closed:
                self._encoder = threading.Thread(
                    target=self._encode_loop, name=f"web-encode-{self.name}", daemon=True
                )
                self._encoder.start()
            self._cond.notify_all()

    def unwatch(self) -> None:
        with self._cond:
            self._watchers -= 1
            self._cond.notify_all()

    def next_jpeg(self, after: int, timeout: float) -> Jpeg | None:
        """The newest encoded frame with ``seq > after``; None after ``timeout`` s or closing."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed and (self._jpeg is None or self._jpeg.seq <= after):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            jpeg = self._jpeg
            if jpeg is not None and after and jpeg.seq > after + 1:
                self.frames_skipped += jpeg.seq - after - 1
            return None if self._closed else jpeg

    def snapshot(self) -> bytes | None:
        """The newest frame as JPEG now (the encoded one when it is the newest); None before
        the first frame."""
        with self._cond:
            raw, jpeg, encoded_raw = self._raw, self._jpeg, self._encoded_raw
        if raw is None:
            return None
        if jpeg is not None and encoded_raw == raw[0]:
            return jpeg.data
        return encode_jpeg(self._prepare(raw[1]), self.quality)

    @property
    def watchers(self) -> int:
        with self._cond:
            return self._watchers

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        encoder = self._encoder
        if encoder is not None:
            encoder.join(timeout=2.0)

    # ------------------------------------------------------------------ encoder thread
    def _encode_loop(self) -> None:
        last_at: float | None = None
        while True:
            raw = self._wait_for_work(last_at)
            if raw is None:
                return
            seq, array, stamp_ns = raw
            at = self._clock.now()
            try:
                data = encode_jpeg(self._prepare(array), self.quality)
            except Exception as e:  # a frame that cannot be shown: skip it, keep streaming
                if self._on_error is not None:
                    self._on_error(self.name, e)
                with self._cond:
                    self._encoded_raw = seq
                continue
            last_at = at
            with self._cond:
                self.frames_encoded += 1
                self._encoded_raw = seq
                self._jpeg = Jpeg(self.frames_encoded, data, at, stamp_ns)
                self._cond.notify_all()

    def _wait_for_work(self, last_at: float | None) -> tuple[int, Any, int | None] | None:
        """The newest unencoded frame once ``period`` has passed since the last encode; None
        when closed or nobody has watched for ``ENCODER_IDLE_S``."""
        idle_since: float | None = None
        with self._cond:
            while True:
                if self._closed:
                    self._encoder = None
                    return None
                now = time.monotonic()
                if self._watchers == 0:
                    idle_since = idle_since if idle_since is not None else now
                    if now - idle_since >= ENCODER_IDLE_S:
                        self._encoder = None
                        return None
                    self._cond.wait(ENCODER_IDLE_S)
                    continue
                idle_since = None
                if self._raw is None or self._raw[0] == self._encoded_raw:
                    self._cond.wait(1.0)
                    continue
                wait = 0.0 if last_at is None else last_at + self.period - self._clock.now()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                return self._raw
