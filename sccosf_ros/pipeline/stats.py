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

Pairing (set from the pairer by :meth:`NodeStats.record_pairer` before each snapshot):
``sync_resets`` (pairing state reset after stamps or the clock jumped back), and per input
``unpaired_*`` (well-formed messages that left the queues without a pair: ``trimmed_*`` by the
queue bound, ``replaced_*`` by a later message with the same stamp, or dropped by a reset).
The last stamp per input and the time of the last pair tell a pairing stall (both inputs arrive,
no pair forms) and the stamp offset behind it: :func:`pairing_stall_message`.

Held faults (``NodeStats.faults``, a ``FaultHold`` over ``diagnostics.hold`` s): the rejections,
model failures and the pairer's unpaired/reset counts as events; with a stall timeout,
``snapshot`` also looks at the stall states (an input that stopped after it had been arriving;
no pair forming). ``StatsSnapshot.held`` has each one's count in the window and in total.
The clock is injectable (``NodeStats(clock=...)``) for tests.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sccosf_ros.percentiles import summarize
from sccosf_ros.pipeline.fault_hold import FaultHold, Held, counts_text

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
    "thermal_ffc_frames",
    "thermal_ffc_events",
    "sync_resets",
    "unpaired_rgb",
    "unpaired_thermal",
    "trimmed_rgb",
    "trimmed_thermal",
    "replaced_rgb",
    "replaced_thermal",
)
STREAMS = ("rgb", "thermal")  # the pairer's inputs, in order
# Faults held visible for ``diagnostics.hold`` s (FaultHold keys). Events: the rejections
# (NodeStats.malformed), model failures and the pairer's cumulative counters; states, seen at
# each snapshot with a stall timeout: a stream that stopped after it had been arriving, and
# both inputs arriving with no pair formed.
REJECTIONS = ("size_mismatch", "malformed_rgb", "malformed_thermal", "thermal_nan_rejected")
PAIRER_EVENTS = ("unpaired_rgb", "unpaired_thermal", "sync_resets")
STALLS = ("rgb_stalled", "thermal_stalled", "no_pair")
# Thermal frames skipped as shutter / flat-field correction frames (NodeStats.ffc): held per
# frame, so a long frozen run stays visible; not a rejection (not counted as malformed).
FFC = "thermal_ffc"
HELD = (*REJECTIONS, FFC, "inference_errors", *PAIRER_EVENTS, *STALLS)


@dataclass
class StatsSnapshot:
    counters: dict[str, int]
    latency_ms: dict[str, dict[str, float]]  # key → {"p50","p95","max","n"}
    since_last: dict[str, float | None]  # "rgb"/"thermal" → seconds, None = never
    uptime_s: float
    last_malformed_reason: str
    taken_at: float = field(default_factory=time.monotonic)
    last_stamp_ns: dict[str, int | None] = field(default_factory=dict)  # newest admitted
    # Seconds since the last pair (or, before the first, since both inputs were arriving);
    # None until both inputs have arrived.
    since_pair: float | None = None
    held: dict[str, Held] = field(default_factory=dict)  # HELD key → its FaultHold view
    hold_s: float = 5.0  # the window of ``held``
    # Mean seconds between the starts of FFC events, by the frames' stamps (camera time, so
    # bag-eval's faster-than-real-time replay reports the camera's interval); None below two.
    ffc_interval_s: float | None = None


class NodeStats:
    """Counters, latency windows and last-arrival times, safe to update from any thread."""

    def __init__(
        self, window: int = 200, hold: float = 5.0, clock: Callable[[], float] | None = None
    ) -> None:
        self._clock = clock if clock is not None else time.monotonic
        self.faults = FaultHold(hold, self._clock)
        self._lock = threading.Lock()
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._lat = {k: deque(maxlen=window) for k in LATENCY_KEYS}
        self._last = {"rgb": None, "thermal": None}
        self._first = {"rgb": None, "thermal": None}
        self._stamp: dict[str, int | None] = {"rgb": None, "thermal": None}
        self._last_pair: float | None = None
        self._start = self._clock()
        self._last_reason = ""
        # FFC event starts: (first stamp ns, newest stamp ns, number of stamped events)
        self._ffc_span: tuple[int, int, int] | None = None

    def arrived(self, stream: str) -> None:
        """An ``rgb`` or ``thermal`` message came in (called in the subscription callback)."""
        now = self._clock()
        with self._lock:
            self._last[stream] = now
            if self._first[stream] is None:
                self._first[stream] = now
            self._counters[f"{stream}_received"] += 1

    def stamped(self, stream: str, stamp_ns: int) -> None:
        """The header stamp of a well-formed ``rgb``/``thermal`` message (for stall reports)."""
        with self._lock:
            self._stamp[stream] = int(stamp_ns)

    def paired(self) -> None:
        """A synchronized pair formed (counted as ``synced_pairs``)."""
        with self._lock:
            self._counters["synced_pairs"] += 1
            self._last_pair = self._clock()

    def record_pairer(self, pairer: object) -> None:
        """Copy an ``ApproxTimePairer``'s counters (inputs: rgb, thermal) into the stats."""
        unpaired = pairer.unpaired()
        with self._lock:
            self._counters["sync_resets"] = int(pairer.resets)
            for i, stream in enumerate(STREAMS):
                self._counters[f"unpaired_{stream}"] = int(unpaired[i])
                self._counters[f"trimmed_{stream}"] = int(pairer.trimmed[i])
                self._counters[f"replaced_{stream}"] = int(pairer.replaced[i])
        for key in PAIRER_EVENTS:
            self.faults.counter(key, self._counters[key])

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counters[key] += n
        if key in HELD:
            self.faults.event(key, n)

    def malformed(self, kind: str, reason: str) -> None:
        """One bad message/pair; ``kind`` in malformed_rgb, malformed_thermal, size_mismatch,
        thermal_nan_rejected."""
        with self._lock:
            self._counters["malformed"] += 1
            self._counters[kind] += 1
            self._last_reason = reason[:200]
        self.faults.event(kind)

    def ffc(self, new_event: bool, stamp_ns: int | None) -> None:
        """One thermal frame skipped as a shutter frame; ``new_event``: it starts a run."""
        with self._lock:
            self._counters["thermal_ffc_frames"] += 1
            if new_event:
                self._counters["thermal_ffc_events"] += 1
                if stamp_ns is not None:
                    first, _, n = self._ffc_span or (int(stamp_ns), 0, 0)
                    self._ffc_span = (first, int(stamp_ns), n + 1)
        self.faults.event(FFC)

    def _ffc_interval(self) -> float | None:
        """Mean seconds between stamped FFC event starts; None before the second (under lock)."""
        if not self._ffc_span or self._ffc_span[2] < 2:
            return None
        first, last, n = self._ffc_span
        return (last - first) / 1e9 / (n - 1)

    def latency(self, key: str, ms: float) -> None:
        with self._lock:
            self._lat[key].append(float(ms))

    def snapshot(self, stall_timeout: float | None = None) -> StatsSnapshot:
        """The figures now; with ``stall_timeout`` the stall states are looked at too (once per
        report), so a stall stays held after it ends."""
        now = self._clock()
        with self._lock:
            counters = dict(self._counters)
            lat = {k: list(v) for k, v in self._lat.items()}
            last = dict(self._last)
            first = dict(self._first)
            stamps = dict(self._stamp)
            last_pair = self._last_pair
            reason = self._last_reason
            ffc_interval = self._ffc_interval()
        summary = {k: summarize(v) for k, v in lat.items()}
        since_pair = None
        if None not in first.values():
            waiting_from = max(first.values())
            if last_pair is not None:
                waiting_from = max(waiting_from, last_pair)
            since_pair = now - waiting_from
        snap = StatsSnapshot(
            counters=counters,
            latency_ms=summary,
            since_last={k: (None if t is None else now - t) for k, t in last.items()},
            uptime_s=now - self._start,
            last_malformed_reason=reason,
            taken_at=now,
            last_stamp_ns=stamps,
            since_pair=since_pair,
            hold_s=self.faults.hold,
            ffc_interval_s=ffc_interval,
        )
        if stall_timeout is not None:
            for stream in STREAMS:  # a stream that never started is not held: nothing ended
                since = snap.since_last[stream]
                self.faults.state(f"{stream}_stalled", since is not None and since > stall_timeout)
            self.faults.state("no_pair", pairing_stalled(snap, stall_timeout))
        snap.held = {key: self.faults.view(key) for key in HELD}
        return snap


def stall_messages(snap: StatsSnapshot, stall_timeout: float) -> list[str]:
    """Human-readable stall warnings: per input stalled now, or (``snap.held``) stalled within
    the hold and arriving again; empty when both inputs are alive and were."""
    out = []
    for stream in STREAMS:
        since = snap.since_last[stream]
        held = snap.held.get(f"{stream}_stalled")
        counts = f" ({counts_text(held, snap.hold_s)})" if held and held.total else ""
        if since is None:
            if snap.uptime_s > stall_timeout:
                out.append(f"no {stream} image received in {snap.uptime_s:.1f} s since start")
        elif since > stall_timeout:
            out.append(f"{stream} stream stalled: last image {since:.1f} s ago{counts}")
        elif held and held.held:
            out.append(
                f"{stream} stream stalled: {counts_text(held, snap.hold_s)}; arriving again"
            )
    return out


def _seconds(x: float) -> str:
    """1.7e9 for a clock offset, 0.250 for a small one."""
    if abs(x) < 1000:
        return f"{x:.3f}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def pairing_stalled(snap: StatsSnapshot, stall_timeout: float) -> bool:
    """Both inputs arrive (neither silent for ``stall_timeout`` s) but no pair formed for that
    long; a silent input is a stream stall instead (:func:`stall_messages`)."""
    if snap.since_pair is None or snap.since_pair <= stall_timeout:
        return False
    return all(s is not None and s <= stall_timeout for s in snap.since_last.values())


def pairing_stall_message(snap: StatsSnapshot, stall_timeout: float, slop: float) -> str | None:
    """WARN text when both inputs arrive but no pair formed for ``stall_timeout`` s, else None.

    Names the stamp offset between the streams, the usual cause: a driver stamping with
    another clock (or 0), or a slop smaller than the streams' offset.
    """
    if not pairing_stalled(snap, stall_timeout):
        return None
    rgb, thermal = snap.last_stamp_ns.get("rgb"), snap.last_stamp_ns.get("thermal")
    head = f"no pair formed in {snap.since_pair:.1f} s although rgb and thermal arrive"
    if rgb is None or thermal is None:
        return head
    offset = (rgb - thermal) / 1e9
    where = "behind" if offset >= 0 else "ahead of"
    return (
        f"{head}: thermal stamps {_seconds(abs(offset))} s {where} RGB: check the drivers' "
        f"clocks or sync.slop ({slop:g} s)"
    )
