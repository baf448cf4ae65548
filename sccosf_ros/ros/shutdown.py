"""SIGINT/SIGTERM for the node processes: any number, in any order, exit 0 within 2 s.

``ros2 launch`` sends SIGINT to the whole process group on Ctrl-C and again itself, then
SIGTERM; systemd and docker send SIGTERM. rclpy's own handlers turn SIGINT into a
``KeyboardInterrupt`` wherever the main thread happens to be, which landed in
``threading.join`` during clean-up (a traceback, exit code -2). Here the process installs
:class:`ShutdownSignals` instead (rclpy is initialised with ``SignalHandlerOptions.NO``): the
first signal only sets a flag that the spin loop checks every ``POLL_S`` and starts a watchdog;
later signals are ignored. The spin loop then stops the worker (bounded join), destroys the node
and shuts rclpy down; should any of that hang (a model run that takes seconds, DDS tear-down),
the watchdog ends the process with code 0 after ``GRACE_S``. Before the node spins (torch
import, model loading: nothing to tear down yet) a signal ends the process at once, with 0.
Python runs a handler between bytecodes, so a signal that arrives inside one long C call (a
shared library being loaded) is handled when that call returns.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

POLL_S = 0.1  # spin granularity: how soon the loop sees the flag
GRACE_S = 1.6  # first signal → forced exit 0, so the process is gone within 2 s
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ShutdownSignals:
    """Turns SIGINT/SIGTERM into :attr:`requested`; the first starts the exit watchdog."""

    def __init__(self, grace_s: float = GRACE_S) -> None:
        self.grace_s = grace_s
        self._event = threading.Event()
        self.signal_name: str | None = None
        self.immediate = True  # exit at once: set False once there is a node to tear down

    def install(self) -> ShutdownSignals:
        """Handle SIGINT and SIGTERM from now on (main thread only)."""
        for sig in SIGNALS:
            signal.signal(sig, self._handle)
        return self

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    def request(self, name: str = "request") -> None:
        """Ask for shutdown (what a signal does); idempotent."""
        if self._event.is_set():
            return
        self.signal_name = name
        self._event.set()
        threading.Thread(target=self._watchdog, name="sccosf-exit-watchdog", daemon=True).start()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        if self.immediate:
            _exit_now()
        self.request(signal.Signals(signum).name)

    def _watchdog(self) -> None:
        threading.Event().wait(self.grace_s)
        _exit_now()


def _exit_now() -> None:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)
