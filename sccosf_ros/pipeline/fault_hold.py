"""Faults held visible for a while: how many occurred in the last ``hold`` seconds, and in total.

A fault that lasted one report period must not vanish from ``/diagnostics`` a second later, or
an operator looking a moment later sees green while pairs are being rejected. ``FaultHold``
keeps, per fault key, when it occurred: *events* (a malformed message, a rejected pair: one
occurrence each) and *states* (a stalled stream, no pair forming: one occurrence per episode,
seen at report time, held from the last moment it was seen). A fault is *held* while it is
active or occurred within the last ``hold`` seconds (``diagnostics.hold``).

ROS-free and thread-safe; the clock is injected (``time.monotonic`` by default) so the hold is
tested without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Events within hold / _BUCKETS of an entry's first share that entry (which leaves the window
# with its newest), so memory stays bounded whatever the rate; a count may include events up to
# hold / _BUCKETS older than the window, never fewer.
_BUCKETS = 100


@dataclass(frozen=True)
class Held:
    """One fault as a report shows it."""

    recent: int  # occurrences within the last ``hold`` seconds (or still active)
    total: int  # since the node started
    active: bool  # a state fault seen active at the last look (events: False)
    since_last: float | None  # seconds since it last occurred or was seen active; None = never

    @property
    def held(self) -> bool:
        return self.active or self.recent > 0


class FaultHold:
    """Occurrence times per fault key, counted over a sliding ``hold``-second window."""

    def __init__(self, hold: float = 5.0, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock if clock is not None else time.monotonic
        self._lock = threading.Lock()
        self._hold = float(hold)
        # key → [[first, newest, count], ...], oldest first
        self._times: dict[str, deque[list]] = {}
        self._total: dict[str, int] = {}
        self._active: dict[str, bool] = {}
        self._read: dict[str, int] = {}  # cumulative counters read by ``counter``
        self._seen: dict[str, float] = {}  # key → last occurrence or sighting

    @property
    def hold(self) -> float:
        return self._hold

    def set_hold(self, hold: float) -> None:
        """A new window (live ``diagnostics.hold``); applies to the occurrences kept so far."""
        with self._lock:
            self._hold = float(hold)

    def event(self, key: str, n: int = 1) -> None:
        """``n`` occurrences of ``key`` now."""
        if n <= 0:
            return
        now = self._clock()
        with self._lock:
            self._add(key, now, n)

    def counter(self, key: str, total: int) -> None:
        """A cumulative counter read now: its increase since the last read counts as events now."""
        now = self._clock()
        with self._lock:
            new = int(total) - self._read.get(key, 0)
            self._read[key] = int(total)
            if new > 0:
                self._add(key, now, new)

    def state(self, key: str, active: bool) -> None:
        """A condition seen now: each start counts one occurrence, held from the last sighting."""
        now = self._clock()
        with self._lock:
            was = self._active.get(key, False)
            self._active[key] = bool(active)
            if not active:
                return
            times = self._times.setdefault(key, deque())
            if was and times:  # the same episode: it lasts until now
                times[-1][1] = now
            else:
                times.append([now, now, 1])
                self._total[key] = self._total.get(key, 0) + 1
            self._seen[key] = now

    def view(self, key: str) -> Held:
        """``key`` now (never seen: zeros)."""
        now = self._clock()
        with self._lock:
            times = self._times.get(key, deque())
            self._prune(times, now)
            active = self._active.get(key, False)
            seen = self._seen.get(key)
            return Held(
                recent=max(sum(e[2] for e in times), int(active)),
                total=self._total.get(key, 0),
                active=active,
                since_last=None if seen is None else now - seen,
            )

    # ------------------------------------------------------------------ internals
    def _add(self, key: str, now: float, n: int) -> None:
        times = self._times.setdefault(key, deque())
        if times and now - times[-1][0] < self._hold / _BUCKETS:
            times[-1][1] = now
            times[-1][2] += n
        else:
            times.append([now, now, n])
        self._total[key] = self._total.get(key, 0) + n
        self._seen[key] = now
        self._prune(times, now)

    def _prune(self, times: deque[list], now: float) -> None:
        """Drop what left the window: an occurrence exactly ``hold`` s old is no longer held."""
        while times and now - times[0][1] >= self._hold:
            times.popleft()


def counts_text(held: Held, hold: float) -> str:
    """``5 in the last 5 s, 12 in total`` (the tail of every held fault's line)."""
    return f"{held.recent} in the last {hold:g} s, {held.total} in total"
