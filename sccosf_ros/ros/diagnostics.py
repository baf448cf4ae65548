"""Health figures of ``sccosf_node`` and their ``/diagnostics`` form (diagnostic_msgs).

``NodeStats`` is thread-safe and ROS-free: subscription callbacks, the sync callback and the
worker thread update it; ``snapshot()`` returns plain numbers. ``diagnostic_array`` turns a
snapshot into a ``DiagnosticArray`` with three statuses (``<node>: inputs``, ``<node>: inference``,
``<node>: input quality``). All times are steady-clock (``time.monotonic``), never sim time, so
latency and stall detection stay true while a bag plays with ``--clock``.

Keys (values are strings, as diagnostic_msgs wants):
  inputs:        rgb_received, thermal_received, rgb_rate_hz, thermal_rate_hz,
                 since_last_rgb_s, since_last_thermal_s (``never`` before the first),
                 stall_timeout_s
  inference:     synced_pairs, processed, dropped_busy, inference_errors, inference_p50_ms,
                 inference_p95_ms, model_p50_ms, overhead_p50_ms, overhead_p95_ms,
                 e2e_age_p50_ms, e2e_age_p95_ms, e2e_age_max_ms, stamp_age_p50_ms, output_rate_hz
  input quality: malformed (total), malformed_rgb, malformed_thermal, size_mismatch,
                 thermal_nan_rejected, thermal_nan_frames, last_malformed_reason
Latencies (ms, over the last ``diagnostics.window`` pairs): ``inference`` = Predictor.predict;
``model`` = the network alone; ``overhead`` = the node's own work per pair (decode, register,
colour, encode, publish); ``e2e_age`` = pair complete (later of its two arrivals) → all outputs
published, steady clock; ``stamp_age`` = node clock now − RGB stamp at publish (includes camera
and transport delay; sim time under ``use_sim_time``).
Levels: inputs WARN when an input has sent nothing for ``stall_timeout`` s (or never since start);
inference WARN when a pair failed inside the model since the last report; input quality WARN
when malformed messages arrived since the last report.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

LATENCY_KEYS = ("inference", "model", "overhead", "e2e_age", "stamp_age")
COUNTERS = (
    "rgb_received", "thermal_received", "synced_pairs", "processed", "dropped_busy",
    "inference_errors", "malformed", "malformed_rgb", "malformed_thermal", "size_mismatch",
    "thermal_nan_rejected", "thermal_nan_frames",
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
                summary[k] = {"p50": float(p50), "p95": float(p95), "max": float(arr.max()),
                              "n": int(arr.size)}
            else:
                summary[k] = {"p50": float("nan"), "p95": float("nan"), "max": float("nan"),
                              "n": 0}
        return StatsSnapshot(
            counters=counters,
            latency_ms=summary,
            since_last={k: (None if t is None else now - t) for k, t in last.items()},
            uptime_s=now - self._start,
            last_malformed_reason=reason,
            taken_at=now,
        )


def _fmt(v: float) -> str:
    return "nan" if v != v else f"{v:.2f}"


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


def diagnostic_array(
    snap: StatsSnapshot,
    previous: StatsSnapshot | None,
    *,
    node_name: str,
    hardware_id: str,
    stall_timeout: float,
    stamp=None,
):
    """``snap`` as a ``diagnostic_msgs/DiagnosticArray`` (rates/WARNs relative to ``previous``)."""
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    c = snap.counters
    prev = previous.counters if previous is not None else dict.fromkeys(c, 0)
    dt = snap.taken_at - previous.taken_at if previous is not None else snap.uptime_s
    dt = max(dt, 1e-6)

    def rate(key: str) -> str:
        return f"{(c[key] - prev[key]) / dt:.2f}"

    def status(name: str, level: bytes, message: str, values: dict[str, object]):
        return DiagnosticStatus(
            level=level,
            name=f"{node_name}: {name}",
            message=message,
            hardware_id=hardware_id,
            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()],
        )

    def since(stream: str) -> str:
        s = snap.since_last[stream]
        return "never" if s is None else f"{s:.3f}"

    stalls = stall_messages(snap, stall_timeout)
    inputs = status(
        "inputs",
        DiagnosticStatus.WARN if stalls else DiagnosticStatus.OK,
        "; ".join(stalls) if stalls else "rgb and thermal streaming",
        {
            "rgb_received": c["rgb_received"],
            "thermal_received": c["thermal_received"],
            "rgb_rate_hz": rate("rgb_received"),
            "thermal_rate_hz": rate("thermal_received"),
            "since_last_rgb_s": since("rgb"),
            "since_last_thermal_s": since("thermal"),
            "stall_timeout_s": stall_timeout,
        },
    )
    lat = snap.latency_ms
    new_errors = c["inference_errors"] - prev["inference_errors"]
    inference = status(
        "inference",
        DiagnosticStatus.WARN if new_errors else DiagnosticStatus.OK,
        (f"{new_errors} pair(s) failed in the model since the last report" if new_errors
         else f"inference p50 {_fmt(lat['inference']['p50'])} ms, "
              f"end-to-end p95 {_fmt(lat['e2e_age']['p95'])} ms"),
        {
            "synced_pairs": c["synced_pairs"],
            "processed": c["processed"],
            "dropped_busy": c["dropped_busy"],
            "inference_errors": c["inference_errors"],
            "inference_p50_ms": _fmt(lat["inference"]["p50"]),
            "inference_p95_ms": _fmt(lat["inference"]["p95"]),
            "model_p50_ms": _fmt(lat["model"]["p50"]),
            "overhead_p50_ms": _fmt(lat["overhead"]["p50"]),
            "overhead_p95_ms": _fmt(lat["overhead"]["p95"]),
            "e2e_age_p50_ms": _fmt(lat["e2e_age"]["p50"]),
            "e2e_age_p95_ms": _fmt(lat["e2e_age"]["p95"]),
            "e2e_age_max_ms": _fmt(lat["e2e_age"]["max"]),
            "stamp_age_p50_ms": _fmt(lat["stamp_age"]["p50"]),
            "output_rate_hz": rate("processed"),
        },
    )
    new_bad = c["malformed"] - prev["malformed"]
    quality = status(
        "input quality",
        DiagnosticStatus.WARN if new_bad else DiagnosticStatus.OK,
        (f"{new_bad} malformed input(s) since the last report: {snap.last_malformed_reason}"
         if new_bad else "inputs well-formed"),
        {
            "malformed": c["malformed"],
            "malformed_rgb": c["malformed_rgb"],
            "malformed_thermal": c["malformed_thermal"],
            "size_mismatch": c["size_mismatch"],
            "thermal_nan_rejected": c["thermal_nan_rejected"],
            "thermal_nan_frames": c["thermal_nan_frames"],
            "last_malformed_reason": snap.last_malformed_reason,
        },
    )
    arr = DiagnosticArray(status=[inputs, inference, quality])
    if stamp is not None:
        arr.header.stamp = stamp
    return arr


def values_of(array, name_suffix: str) -> dict[str, str]:
    """The key/values of the status whose name ends with ``name_suffix`` (for tools/tests)."""
    for st in array.status:
        if st.name.endswith(name_suffix):
            return {kv.key: kv.value for kv in st.values}
    raise KeyError(f"no diagnostic status ending with {name_suffix!r}")
