"""What the per-pair pipeline counts and times: ``NodeStats`` (thread-safe, ROS-free).

Subscription callbacks, the sync callback and the worker thread of ``sccosf_node`` update one
``NodeStats``; ``sccosf bag-eval`` counts into the same class, so both report the same figures.
``snapshot()`` returns plain numbers; ``sccosf_ros.ros.diagnostics`` turns a snapshot into
``/diagnostics``. All times are steady-clock (``time.monotonic``), never sim time, so latency and
stall detection stay true while a bag plays with ``--clock``.

Latencies (ms, over the last ``window`` pairs): ``inference`` = Predictor.predict; ``model`` =
the network alone; ``overhead`` = the pipeline's own work per pair (decode, register, colour,
encode, publish); ``e2e_age`` = pair complete (later of its two arrivals) → all outputs
published, steady clock; ``stamp_age`` = node clock now − RGB stamp at publish (includes camera
and transport delay; sim time under ``use_sim_time``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

LATENCY_KEYS = ("inference", "model", "overhead", "e2e_age", "stamp_age")
COUNTERS = (
    "rgb_received",
    "thermal_received",
    "synced_pairs",
    "processed",
    "dropped_busy",
    "inference_errors",
    "malformed",
    "malformed_rgb",
    "malformed_thermal",
    "size_mismatch",
    "thermal_nan_rejected",
    "thermal_nan_frames",
)


@dataclass
class StatsSnapshot:
    counters: dict[str, int]
    latency_ms: dict[str, dict[str, float]]  # key → {"p50","p95","max","n"}
    since_last: dict[str, float | None]  # "rgb"/"thermal" → seconds, None = never
    uptime_s: float
    last_malformed_reason: str
    taken_at: float = field(default_factory=time.monotonic)


class NodeStats:
    """Counters, latency windows and last-arrival times, safe to update from any thread."""

    def __init__(self, window: int = 200) -> None:
        self._lock = threading.Lock()
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._lat = {k: deque(maxlen=window) for k in LATENCY_KEYS}
        self._last = {"rgb": None, "thermal": None}
        self._start = time.monotonic()
        self._last_reason = ""

    def arrived(self, stream: str) -> None:
        """An ``rgb`` or ``thermal`` message came in (called in the subscription callback)."""
        with self._lock:
            self._last[stream] = time.monotonic()
            self._counters[f"{stream}_received"] += 1

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counters[key] += n

    def set_count(self, key: str, value: int) -> None:
        with self._lock:
            self._counters[key] = int(value)

    def malformed(self, kind: str, reason: str) -> None:
        """One bad message/pair; ``kind`` in malformed_rgb, malformed_thermal, size_mismatch,
        thermal_nan_rejected."""
        with self._lock:
            self._counters["malformed"] += 1
            self._counters[kind] += 1
            self._last_reason = reason[:200]

    def latency(self, key: str, ms: float) -> None:
        with self._lock:
            self._lat[key].append(float(ms))

    def snapshot(self) -> StatsSnapshot:
        now = time.monotonic()
        with self._lock:
            counters = dict(self._counters)
            lat = {k: np.asarray(v, dtype=np.float64) for k, v in self._lat.items()}
            last = dict(self._last)
            reason = self._last_reason
        summary = {}
        for k, arr in lat.items():
            if arr.size:
                p50, p95 = np.percentile(arr, [50, 95])
                summary[k] = {
                    "p50": float(p50),
                    "p95": float(p95),
                    "max": float(arr.max()),
                    "n": int(arr.size),
                }
            else:
                summary[k] = {
                    "p50": float("nan"),
                    "p95": float("nan"),
                    "max": float("nan"),
                    "n": 0,
                }
        return StatsSnapshot(
            counters=counters,
            latency_ms=summary,
            since_last={k: (None if t is None else now - t) for k, t in last.items()},
            uptime_s=now - self._start,
            last_malformed_reason=reason,
            taken_at=now,
        )


def stall_messages(snap: StatsSnapshot, stall_timeout: float) -> list[str]:
    """Human-readable stall warnings (empty when both inputs are alive)."""
    out = []
    for stream in ("rgb", "thermal"):
        since = snap.since_last[stream]
        if since is None:
            if snap.uptime_s > stall_timeout:
                out.append(f"no {stream} image received in {snap.uptime_s:.1f} s since start")
        elif since > stall_timeout:
            out.append(f"{stream} stream stalled: last image {since:.1f} s ago")
    return out
