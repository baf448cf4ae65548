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

**Jump reset** (``jump_reset`` seconds, off at 0; what message_filters lacks). When stamps jump
backwards (a bag loop, a driver restart, a clock reset), message_filters keeps the queues full of
the stale, newer stamps: every older arrival is then the oldest entry of a full queue and is
trimmed at once (rule 1), so nothing pairs until the new stamps catch up with the old ones (about
8 s of silence per loop of a bag). With ``jump_reset > 0``, an arrival whose stamp is older than
the newest stamp seen on *its own* input by more than ``jump_reset`` first clears every queue
(and every input's newest stamp, so the other inputs' first older stamps do not trigger again):
one reset per jump, counted, reported through ``on_reset``, and the arrival is then handled by
the rules above, so pairing resumes with the next pair. A message from before the jump that
arrives after the reset (it was in flight on the other input) is dropped instead of re-arming a
second reset. :meth:`ApproxTimePairer.clock_jumped`
does the same for a time source that went back (``/clock`` of a looping bag): it clears only
when queued stamps lie beyond the new time by more than ``jump_reset``, so a jump already seen
in the stamps is not reset twice. Without a backward jump larger than ``jump_reset`` the
behaviour is message_filters', entry for entry (test/pipeline/test_pairing.py pins it).
No ROS import: rclpy is only touched to stamp headerless messages, and only if importable.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ApproxTimePairer",
    "ApproximateTimeSynchronizer",
    "JumpReset",
    "SimpleFilter",
    "stamp_to_ns",
]

_log = logging.getLogger(__name__)


def _slop_to_ns(slop: float) -> int:
    # Same conversion as rclpy.duration.Duration(seconds=slop), so boundaries agree exactly.
    return int(slop * 1_000_000_000)


@dataclass(frozen=True)
class JumpReset:
    """One reset of the pairing state after stamps (or the clock) jumped backwards."""

    reason: str  # "stamp" (an input's stamp went back) or "clock" (the time source did)
    input_index: int | None  # the input whose stamp jumped; None for a clock jump
    newest_ns: int  # the newest stamp queued/seen before the jump
    stamp_ns: int  # the stamp (or new clock time) that went back
    discarded: int  # queued entries dropped by the reset
    pairs_before: int  # pairs emitted since the previous reset (or the start)
    count: int  # resets so far, this one included

    @property
    def back_s(self) -> float:
        """How far back it went, in seconds."""
        return (self.newest_ns - self.stamp_ns) / 1e9

    def describe(self, names: Sequence[str] | None = None) -> str:
        """One log line: what jumped, how far, what was dropped."""
        if self.input_index is None:
            what = "time source jumped back"
        else:
            name = names[self.input_index] if names else f"input {self.input_index}"
            what = f"{name} stamp jumped back"
        return (
            f"{what} {self.back_s:.3f} s (from {self.newest_ns / 1e9:.3f} to "
            f"{self.stamp_ns / 1e9:.3f}): pairing state reset (reset {self.count}), "
            f"{self.discarded} queued message(s) dropped; {self.pairs_before} pair(s) since "
            "the previous reset"
        )


class ApproxTimePairer:
    """The message_filters approximate-time policy on integer stamps (module docstring).

    ``add(input_index, stamp_ns, item)`` returns the emitted tuples (0 or 1), each ordered by
    input. Thread-safe. Counters for diagnostics (lists are per input): ``emitted``,
    ``trimmed`` (entries dropped by the queue bound, never emitted), ``replaced`` (same stamp
    arrived twice on one input), ``discarded`` (dropped by a jump reset) and ``resets``.
    ``jump_reset``: seconds (0 = off, exactly message_filters); ``on_reset(JumpReset)`` is
    called after each reset, outside the lock.
    """

    def __init__(
        self,
        num_inputs: int = 2,
        queue_size: int = 10,
        slop: float = 0.1,
        jump_reset: float = 0.0,
        on_reset: Callable[[JumpReset], None] | None = None,
    ) -> None:
        if int(num_inputs) < 2:
            raise ValueError(f"num_inputs must be >= 2, got {num_inputs}")
        self.num_inputs = int(num_inputs)
        # One dict per input, stamp_ns → item; dict order (first arrival of each stamp) is
        # the tie-break between equally distant candidates, as in message_filters.
        self.queues: list[dict[int, Any]] = [{} for _ in range(self.num_inputs)]
        self.newest: list[int | None] = [None] * self.num_inputs
        # Per input after a reset: (stamp jumped to, newest before the jump) until the input's
        # first post-jump stamp; see _late.
        self._epoch: list[tuple[int, int] | None] = [None] * self.num_inputs
        self.emitted = 0
        self.trimmed = [0] * self.num_inputs
        self.replaced = [0] * self.num_inputs
        self.discarded = [0] * self.num_inputs
        self.resets = 0
        self.on_reset = on_reset
        self._emitted_at_reset = 0
        self._lock = threading.Lock()
        self.configure(queue_size, slop, jump_reset)

    def configure(self, queue_size: int, slop: float, jump_reset: float | None = None) -> None:
        """New queue bound, slop and (if given) jump threshold, from the next arrival on.

        A smaller ``queue_size`` trims the queues now (oldest stamps first, counted).
        """
        if int(queue_size) < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        if not slop >= 0:  # also rejects NaN
            raise ValueError(f"slop must be >= 0 seconds, got {slop}")
        if jump_reset is not None and not jump_reset >= 0:
            raise ValueError(f"jump_reset must be >= 0 seconds (0 = off), got {jump_reset}")
        with self._lock:
            self.queue_size = int(queue_size)
            self.slop = float(slop)
            self.slop_ns = _slop_to_ns(slop)
            if jump_reset is not None:
                self.jump_reset = float(jump_reset)
                self.jump_reset_ns = _slop_to_ns(jump_reset)
            for i, queue in enumerate(self.queues):
                self._trim(i, queue)

    def _trim(self, input_index: int, queue: dict[int, Any]) -> None:
        while len(queue) > self.queue_size:
            del queue[min(queue)]
            self.trimmed[input_index] += 1

    def add(self, input_index: int, stamp_ns: int, item: Any) -> list[tuple[Any, ...]]:
        if not 0 <= input_index < self.num_inputs:
            raise IndexError(f"input_index {input_index} not in 0..{self.num_inputs - 1}")
        stamp = int(stamp_ns)
        with self._lock:
            if self._late(input_index, stamp):
                return []
            reset = self._stamp_jump(input_index, stamp)
            out = self._add(input_index, stamp, item)
        if reset is not None and self.on_reset is not None:
            self.on_reset(reset)
        return out

    def _late(self, input_index: int, stamp: int) -> bool:
        """A message from before the last reset's jump that arrives after it (in flight on
        another subscription, or behind the /clock message): dropped, so that one jump stays
        one reset. An input leaves that state with its first stamp from after the jump, or
        once its stamps pass the pre-jump newest by jump_reset (they never jumped)."""
        epoch = self._epoch[input_index]
        if epoch is None:
            return False
        target, before = epoch
        if target + self.jump_reset_ns < stamp <= before + self.jump_reset_ns:
            self.discarded[input_index] += 1
            return True
        self._epoch[input_index] = None
        return False

    def _stamp_jump(self, input_index: int, stamp: int) -> JumpReset | None:
        """Reset when ``stamp`` is older than this input's newest by more than jump_reset."""
        newest = self.newest[input_index]
        reset = None
        if self.jump_reset_ns > 0 and newest is not None and newest - stamp > self.jump_reset_ns:
            reset = self._reset("stamp", input_index, newest, stamp)
            self._epoch[input_index] = None  # this arrival is from after the jump
        if self.newest[input_index] is None or stamp > self.newest[input_index]:
            self.newest[input_index] = stamp
        return reset

    def _reset(self, reason: str, input_index: int | None, newest: int, stamp: int) -> JumpReset:
        discarded = 0
        for i, queue in enumerate(self.queues):
            self.discarded[i] += len(queue)
            discarded += len(queue)
            queue.clear()
        before = max(n for n in self.newest if n is not None)
        self._epoch = [(stamp, before)] * self.num_inputs
        self.newest = [None] * self.num_inputs
        self.resets += 1
        pairs = self.emitted - self._emitted_at_reset
        self._emitted_at_reset = self.emitted
        return JumpReset(reason, input_index, newest, stamp, discarded, pairs, self.resets)

    def _add(self, input_index: int, stamp: int, item: Any) -> list[tuple[Any, ...]]:
        mine = self.queues[input_index]
        if stamp in mine:
            self.replaced[input_index] += 1
        mine[stamp] = item
        self._trim(input_index, mine)
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

    def clock_jumped(self, now_ns: int) -> JumpReset | None:
        """The time source went back to ``now_ns``: reset when anything seen lies beyond it by
        more than ``jump_reset`` (not when the stamps' own jump already reset the state)."""
        with self._lock:
            if self.jump_reset_ns <= 0:
                return None
            seen = [n for n in self.newest if n is not None]
            if not seen or max(seen) - int(now_ns) <= self.jump_reset_ns:
                return None
            reset = self._reset("clock", None, max(seen), int(now_ns))
        if self.on_reset is not None:
            self.on_reset(reset)
        return reset

    def pending(self) -> list[int]:
        """Number of queued entries per input."""
        with self._lock:
            return [len(q) for q in self.queues]

    def unpaired(self) -> list[int]:
        """Per input: entries that left the queues without a pair (trimmed, replaced, reset)."""
        with self._lock:
            return [t + r + d for t, r, d in zip(self.trimmed, self.replaced, self.discarded)]

    def clear(self) -> None:
        """Forget every queued entry and the newest stamps (not counted as a reset)."""
        with self._lock:
            for q in self.queues:
                q.clear()
            self.newest = [None] * self.num_inputs
            self._epoch = [None] * self.num_inputs


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


class ApproximateTimeSynchronizer(SimpleFilter):
    """Drop-in for ``message_filters.ApproximateTimeSynchronizer(fs, queue_size, slop)``.

    ``fs``: filters with ``registerCallback(cb, *args)`` (our :class:`Subscriber`, or
    message_filters' own). Registered callbacks get one message per input, in ``fs`` order,
    called while the synchroniser's lock is held (as in message_filters): keep them short.
    ``allow_headerless``: messages without ``header.stamp`` get the current time from
    ``clock`` (nanoseconds; default the system clock — ``ros.sync`` passes the node's clock,
    sim time included) instead of being dropped.
    ``jump_reset``/``on_reset``: the backward-jump reset (module docstring; 0 = off, the
    message_filters behaviour).
    """

    def __init__(
        self,
        fs: Sequence[Any],
        queue_size: int,
        slop: float,
        allow_headerless: bool = False,
        clock: Callable[[], int] | None = None,
        *,
        jump_reset: float = 0.0,
        on_reset: Callable[[JumpReset], None] | None = None,
    ) -> None:
        super().__init__()
        self.pairer = ApproxTimePairer(len(fs), queue_size, slop, jump_reset, on_reset)
        self.allow_headerless = allow_headerless
        self.headerless_dropped = 0
        self._clock = clock or time.time_ns
        self._lock = threading.RLock()  # re-entrant: a callback may feed another input
        self.connectInput(fs)

    @property
    def queues(self) -> list[dict[int, Any]]:
        return self.pairer.queues

    @property
    def queue_size(self) -> int:
        return self.pairer.queue_size

    @property
    def slop(self) -> float:
        return self.pairer.slop

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
