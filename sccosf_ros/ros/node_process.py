"""``sccosf_node`` as a child process: the one helper the demo, the benchmarks and the tests use.

``node_command`` builds the command line (``python -m sccosf_ros.ros.node --ros-args ...``) from
parameter files, parameters and remaps; ``NodeProcess`` runs it in its own session with its
output in a log file (no pipe can fill up and stall it), waits for its ``ready:`` line, and
``stop()`` always ends it (SIGINT, then SIGTERM, then SIGKILL). No ROS import.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NODE_MODULE = "sccosf_ros.ros.node"


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # keeps the decimal point: ROS types 1.0 as a double, 1 as an int
    return str(value)


def node_command(
    *,
    params_files: Sequence[str | os.PathLike] = (),
    params: dict[str, Any] | None = None,
    remaps: dict[str, str] | None = None,
    module: str = NODE_MODULE,
    args: Sequence[str] = (),
) -> list[str]:
    """``python -m <module> [args] --ros-args`` with exactly the given files, params, remaps."""
    cmd = [sys.executable, "-m", module, *args, "--ros-args"]
    for src, dst in (remaps or {}).items():
        cmd += ["-r", f"{src}:={dst}"]
    for path in params_files:
        cmd += ["--params-file", str(path)]
    for name, value in (params or {}).items():
        cmd += ["-p", f"{name}:={_param_text(value)}"]
    return cmd


class NodeProcess:
    """A running node command; stdout and stderr go to ``log_path``."""

    def __init__(
        self,
        cmd: list[str],
        log_path: str | os.PathLike,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
    ) -> None:
        self.cmd = cmd
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (open while the process runs)
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
        full_env.update(env or {})
        # Its own session: a Ctrl-C in the terminal reaches us, and stop() decides what the
        # node gets, so it is never left behind.
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        self.returncode: int | None = None

    # ------------------------------------------------------------------ state
    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 25) -> str:
        return "\n".join(self.log().splitlines()[-n:])

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Wait for the node's ``ready:`` line; RuntimeError (with the log) if it exits or
        takes longer than ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready:" in self.log():
                return
            if not self.alive():
                raise RuntimeError(
                    f"node exited with code {self.proc.returncode} before it "
                    f"was ready:\n{self.log_tail()}"
                )
            time.sleep(0.1)
        raise RuntimeError(f"node not ready after {timeout:.0f} s:\n{self.log_tail()}")

    # ------------------------------------------------------------------ ending it
    def wait(self, timeout: float) -> int:
        try:
            self.returncode = self.proc.wait(timeout)
            return self.returncode
        finally:
            self._close_log()

    def interrupt(self, timeout: float = 20.0) -> tuple[int, float]:
        """SIGINT; (exit code, seconds until the process was gone)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        rc = self.wait(timeout)
        return rc, time.monotonic() - t0

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGINT, then SIGTERM, then SIGKILL until it is gone; returns the exit code."""
        try:
            for sig, wait in (
                (signal.SIGINT, timeout),
                (signal.SIGTERM, 5.0),
                (signal.SIGKILL, 5.0),
            ):
                if self.proc.poll() is not None:
                    break
                try:
                    self.proc.send_signal(sig)
                    self.proc.wait(wait)
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue
        except KeyboardInterrupt:  # a second Ctrl-C while waiting: do not leave it behind
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self._close_log()
        self.returncode = self.proc.poll()
        return self.returncode

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if not self._log.closed:
            self._log.close()

    def __enter__(self) -> NodeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
