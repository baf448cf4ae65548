"""Never let work queue up: a one-slot "latest pair" buffer and the thread that drains it.

The subscription side calls ``LatestSlot.put`` (never blocks); when the slot still holds a pair
the worker has not started, that older pair is replaced and counted as *dropped* (the model was
busy). The ``InferenceWorker`` thread takes the newest pair, runs the handler (decode → predict →
encode → publish) and takes the next. So a pair waits at most one model run in the slot, and the
end-to-end latency stays bounded by about two model runs however fast the cameras are.
Pure Python (no ROS import), used by the node beside it; tests run it without ROS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """A thread-safe buffer of capacity one that keeps the newest item."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._closed = False
        self.put_count = 0
        self.dropped = 0

    def put(self, item: T) -> bool:
        """Store ``item``; returns True when an unconsumed older item was dropped for it."""
        with self._cond:
            if self._closed:
                return False
            dropped = self._full
            self._item, self._full = item, True
            self.put_count += 1
            self.dropped += int(dropped)
            self._cond.notify()
            return dropped

    def take(self, timeout: float | None = None) -> T | None:
        """Wait for and remove the newest item; None on timeout or once closed and empty."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._full or self._closed, timeout):
                return None
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def close(self) -> None:
        """Wake waiters; later puts are ignored and ``take`` returns what is left, then None."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed


class InferenceWorker(Generic[T]):
    """A daemon thread that runs ``handler(item)`` on the newest item of a LatestSlot.

    ``handler`` exceptions are passed to ``on_error`` (the worker keeps going), so one bad pair
    never stops the node. ``stop()`` closes the slot (pending pair discarded) and joins.
    """

    def __init__(
        self,
        handler: Callable[[T], None],
        *,
        on_error: Callable[[T, BaseException], None] | None = None,
        name: str = "sccosf-inference",
    ) -> None:
        self.slot: LatestSlot[T] = LatestSlot()
        self._handler = handler
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._busy = threading.Event()
        self.processed = 0
        self.failed = 0

    def start(self) -> InferenceWorker[T]:
        self._thread.start()
        return self

    def submit(self, item: T) -> bool:
        """Non-blocking hand-over; True when an older pending item was dropped."""
        return self.slot.put(item)

    @property
    def dropped(self) -> int:
        return self.slot.dropped

    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            item = self.slot.take(timeout=0.5)
            if item is None or self._stop.is_set():
                continue
            self._busy.set()
            try:
                self._handler(item)
                self.processed += 1
            except Exception as e:  # a bad pair must not kill the worker
                self.failed += 1
                if self._on_error is not None:
                    self._on_error(item, e)
            finally:
                self._busy.clear()

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Stop after the current item (if any); True when the thread has ended."""
        self._stop.set()
        self.slot.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()
