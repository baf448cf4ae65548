"""Test helpers for the web view: read MJPEG parts from a real HTTP response, feed frames.

Imported as ``mjpeg`` (test/ros/web/conftest.py puts this folder on sys.path).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import numpy as np

HANG_GUARD_S = 180.0


@dataclass
class Part:
    headers: dict[str, str]
    data: bytes

    @property
    def timestamp(self) -> float:
        return float(self.headers["x-timestamp"])


def read_part(resp: Any) -> Part:
    """The next ``multipart/x-mixed-replace`` part of ``resp`` (boundary, headers, JPEG)."""
    line = resp.readline()
    while line.strip() == b"":
        line = resp.readline()
        if not line:
            raise EOFError("the stream ended")
    assert line.startswith(b"--"), line
    headers: dict[str, str] = {}
    while (line := resp.readline().strip()) != b"":
        key, _, value = line.decode().partition(":")
        headers[key.strip().lower()] = value.strip()
    data = resp.read(int(headers["content-length"]))
    return Part(headers, data)


def get(url: str, timeout: float = HANG_GUARD_S) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def wait_for(cond: Any, what: str, timeout: float = HANG_GUARD_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Feeder:
    """A thread that puts a new frame into streams as fast as it can (a busy node)."""

    def __init__(self, view: Any, names: tuple[str, ...], shape: tuple[int, ...]) -> None:
        self.view, self.names, self.shape = view, names, shape
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 256, self.shape, dtype=np.uint8) for _ in range(4)]
        while not self._stop.is_set():
            for name in self.names:
                self.view.put(name, frames[self.count % 4], self.count)
            self.count += 1
            time.sleep(0.002)

    def __enter__(self) -> Feeder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
