"""Approximate-time synchronisation with message_filters semantics, usable without ROS.

:class:`ApproxTimePairer` is the pure algorithm on integer nanosecond stamps; ``sccosf
bag-eval`` feeds it recorded stamps. :class:`ApproximateTimeSynchronizer` wraps it with the
``message_filters`` API (``registerCallback``, filters ``fs`` that call back into it);
``sccosf_ros.ros.sync`` connects it (or the real ``message_filters``) to rclpy subscriptions.

The algorithm (as in ros2/message_filters' Python ``ApproximateTimeSynchronizer``), per arrival
of a message with stamp ``t`` on input ``i``:

1. store it in input ``i``'s queue keyed by ``t`` (a second message with the same stamp on the
   same input replaces the first), then drop the *oldest stamps* while the queue holds more
   than ``queue_size`` entries (this can drop the new message itself if it is the oldest);
2. in every other queue the candidates are the stamps with ``|s - t| <= slop``, ordered by
   ``|s - t|`` (ties keep arrival order); if some queue has no candidate, nothing happens;
3. combinations are tried in that order (first input's candidates vary slowest); the first
   one, together with ``t``, whose spread ``max - min`` is **strictly** below ``slop`` and
   whose entries are all still queued is emitted, and only those entries are removed.

So at most one tuple is emitted per arrival, ``slop = 0`` never matches (not even equal
stamps) and an older message that could still pair stays queued until trimmed.
No ROS import: rclpy is only touched to stamp headerless messages, and only if importable.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "ApproxTimePairer",
    "ApproximateTimeSynchronizer",
    "SimpleFilter",
    "stamp_to_ns",
]

_log = logging.getLogger(__name__)


def _slop_to_ns(slop: float) -> int:
    # Same conversion as rclpy.duration.Duration(seconds=slop), so boundaries agree exactly.
    return int(slop * 1_000_000_000)


class ApproxTimePairer:
    """The message_filters approximate-time policy on integer stamps (module docstring).

    ``add(input_index, stamp_ns, item)`` returns the emitted tuples (0 or 1), each ordered by
    input. Thread-safe. Counters for diagnostics: ``emitted``, ``trimmed`` (entries dropped by
    the queue bound, never emitted) and ``replaced`` (same stamp arrived twice on one input).
    """

    def __init__(self, num_inputs: int = 2, queue_size: int = 10, slop: float = 0.1) -> None:
        if int(num_inputs) < 2:
            raise ValueError(f"num_inputs must be >= 2, got {num_inputs}")
        if int(queue_size) < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        if not slop >= 0:  # also rejects NaN
            raise ValueError(f"slop must be >= 0 seconds, got {slop}")
        self.num_inputs = int(num_inputs)
        self.queue_size = int(queue_size)
        self.slop = float(slop)
        self.slop_ns = _slop_to_ns(slop)
        # One dict per input, stamp_ns → item; dict order (first arrival of each stamp) is
        # the tie-break between equally distant candidates, as in message_filters.
        self.queues: list[dict[int, Any]] = [{} for _ in range(self.num_inputs)]
        self.emitted = 0
        self.trimmed = [0] * self.num_inputs
        self.replaced = [0] * self.num_inputs
        self._lock = threading.Lock()

    def add(self, input_index: int, stamp_ns: int, item: Any) -> list[tuple[Any, ...]]:
        if not 0 <= input_index < self.num_inputs:
            raise IndexError(f"input_index {input_index} not in 0..{self.num_inputs - 1}")
        stamp = int(stamp_ns)
        with self._lock:
            mine = self.queues[input_index]
            if stamp in mine:
                self.replaced[input_index] += 1
            mine[stamp] = item
            while len(mine) > self.queue_size:
                del mine[min(mine)]
                self.trimmed[input_index] += 1
            if stamp not in mine:
                return []  # the new message was the oldest and got trimmed: nothing can match

            candidates: list[list[int]] = []
            for j, queue in enumerate(self.queues):
                if j == input_index:
                    continue
                near = [s for s in queue if abs(s - stamp) <= self.slop_ns]
                if not near:
                    return []
                near.sort(key=lambda s: abs(s - stamp))  # stable: ties keep arrival order
                candidates.append(near)

            for combo in itertools.product(*candidates):
                stamps = list(combo)
                stamps.insert(input_index, stamp)
                if max(stamps) - min(stamps) >= self.slop_ns:
                    continue
                out = tuple(q.pop(s) for s, q in zip(stamps, self.queues))
                self.emitted += 1
                return [out]
            return []

    def pending(self) -> list[int]:
        """Number of queued entries per input."""
        with self._lock:
            return [len(q) for q in self.queues]

    def clear(self) -> None:
        """Forget every queued entry (e.g. when sim time jumps back on bag loop)."""
        with self._lock:
            for q in self.queues:
                q.clear()


def stamp_to_ns(stamp: Any) -> int:
    """builtin_interfaces/Time (``sec``, ``nanosec``) or rclpy Time (``nanoseconds``) → ns."""
    ns = getattr(stamp, "nanoseconds", None)
    if ns is not None:
        return int(ns)
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


class SimpleFilter:
    """message_filters' filter base: ``registerCallback`` then ``signalMessage`` fan-out."""

    def __init__(self) -> None:
        self.callbacks: dict[int, tuple[Callable[..., Any], tuple[Any, ...]]] = {}
        self._next_conn = 0

    def registerCallback(self, cb: Callable[..., Any], *args: Any) -> int:
        """Call ``cb(*messages, *args)`` on every output; returns a connection id."""
        conn = self._next_conn
        self._next_conn += 1
        self.callbacks[conn] = (cb, args)
        return conn

    def signalMessage(self, *msg: Any) -> None:
        for cb, args in list(self.callbacks.values()):
            cb(*(msg + args))


def _now_ns() -> int:
    """What message_filters stamps headerless messages with: ROSClock().now()."""
    try:
        from rclpy.clock import ROSClock

        return ROSClock().now().nanoseconds
    except ImportError:
        return time.time_ns()


class ApproximateTimeSynchronizer(SimpleFilter):
    """Drop-in for ``message_filters.ApproximateTimeSynchronizer(fs, queue_size, slop)``.

    ``fs``: filters with ``registerCallback(cb, *args)`` (our :class:`Subscriber`, or
    message_filters' own). Registered callbacks get one message per input, in ``fs`` order,
    called while the synchroniser's lock is held (as in message_filters): keep them short.
    ``allow_headerless``: messages without ``header.stamp`` get the current time from
    ``clock`` (default rclpy's ROSClock, like message_filters) instead of being dropped.
    """

    def __init__(
        self,
        fs: Sequence[Any],
        queue_size: int,
        slop: float,
        allow_headerless: bool = False,
        clock: Callable[[], int] | None = None,
    ) -> None:
        super().__init__()
        self.pairer = ApproxTimePairer(len(fs), queue_size, slop)
        self.queue_size = self.pairer.queue_size
        self.slop = self.pairer.slop
        self.allow_headerless = allow_headerless
        self.headerless_dropped = 0
        self._clock = clock or _now_ns
        self._lock = threading.RLock()  # re-entrant: a callback may feed another input
        self.connectInput(fs)

    @property
    def queues(self) -> list[dict[int, Any]]:
        return self.pairer.queues

    def connectInput(self, fs: Sequence[Any]) -> None:
        self.input_connections = [f.registerCallback(self.add, i) for i, f in enumerate(fs)]

    def add(self, msg: Any, input_index: int) -> None:
        stamp = getattr(getattr(msg, "header", None), "stamp", None)
        if stamp is None:
            if not self.allow_headerless:
                self.headerless_dropped += 1
                if self.headerless_dropped in (1, 10) or self.headerless_dropped % 100 == 0:
                    _log.warning(
                        "dropped %d message(s) without header.stamp (latest a %s): set "
                        "allow_headerless=True to stamp them with the current time",
                        self.headerless_dropped,
                        type(msg).__name__,
                    )
                return
            stamp_ns = self._clock()
        else:
            stamp_ns = stamp_to_ns(stamp)
        with self._lock:
            for out in self.pairer.add(input_index, stamp_ns, msg):
                self.signalMessage(*out)
