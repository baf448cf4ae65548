"""Stopping a training run on SIGINT (Ctrl-C) or SIGTERM (systemd, docker, SLURM, ``timeout``)
without losing work.

* The first signal asks for a stop: the trainer finishes the step in progress, saves
  ``latest.pt`` and exits (resume loses no step).
* A second signal outside a critical section stops at once (``KeyboardInterrupt``): the step in
  progress is dropped, ``latest.pt`` still holds the last finished step.
* Inside a critical section — the optimizer update and every checkpoint save — signals wait:
  the section runs to its end (a save is never cut short, whatever was printed), then the
  deferred interrupt is raised.

Only the main thread can install signal handlers; elsewhere ``GracefulStop`` does nothing.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulStop:
    """Signal handlers for one training run; use as a context manager around ``fit``."""

    def __init__(self, *, announce: bool = True) -> None:
        self.announce = announce
        self.requested: signal.Signals | None = None  # the first signal received
        self._count = 0
        self._critical = 0
        self._deferred = False
        self._previous: dict[int, object] = {}

    # ------------------------------------------------------------------ installation
    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    @property
    def exit_code(self) -> int:
        """128 + the signal number (130 for SIGINT, 143 for SIGTERM), as shells report it."""
        return 128 + int(self.requested or signal.SIGINT)

    # ------------------------------------------------------------------ the handler
    def _say(self, text: str) -> None:
        if self.announce:
            print(f"\n{text}", file=sys.stderr, flush=True)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        sig = signal.Signals(signum)
        self._count += 1
        if self.requested is None:
            self.requested = sig
            self._say(
                f"{sig.name}: stopping after the current step and saving latest.pt "
                "(continue later with --resume)"
            )
            return
        if self._critical:
            self._deferred = True
            self._say(f"{sig.name} again: a checkpoint is being written, waiting for it to finish")
            return
        self._say(f"{sig.name} again: stopping now (latest.pt keeps the last finished step)")
        raise KeyboardInterrupt

    # ------------------------------------------------------------------ for the trainer
    @property
    def stop_requested(self) -> bool:
        return self.requested is not None

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        """Signals received inside wait until the block is done (nesting allowed)."""
        self._critical += 1
        try:
            yield
        finally:
            self._critical -= 1
            if not self._critical and self._deferred:
                self._deferred = False
                raise KeyboardInterrupt


class NoStop(GracefulStop):
    """A GracefulStop that installs nothing (library use of the Trainer, tests)."""

    def __enter__(self) -> NoStop:
        return self
