"""The web view's clients in ``sccosf bench web``, with the standard library only (bench/ does
not import rclpy): browser-like MJPEG readers, a client that stops reading, ``/api/status``,
and the node process's resident memory from ``/proc``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.request
from typing import Any

from sccosf_ros.bench.errors import BenchError

STREAMS = ("overlay", "fused", "segmentation_color", "rgb", "thermal")  # the page's five
BOUNDARY = b"--sccosfframe"  # ros.web.server's multipart boundary, one per JPEG part
READ_TIMEOUT_S = 10.0  # a reader that gets no byte for this long gives up (recorded as error)


class MjpegReader:
    """One viewer: reads ``/stream/<name>.mjpg`` as fast as it comes, in its own thread, and
    counts the JPEG parts (boundaries, also across chunk edges)."""

    def __init__(self, base: str, stream: str) -> None:
        self.stream = stream
        self.url = f"{base}/stream/{stream}.mjpg"
        self.frames = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        tail = b""
        try:
            with urllib.request.urlopen(self.url, timeout=READ_TIMEOUT_S) as resp:
                while not self._stop.is_set():
                    chunk = resp.read1(65536)
                    if not chunk:
                        break
                    data = tail + chunk
                    self.frames += data.count(BOUNDARY)
                    tail = data[-(len(BOUNDARY) - 1) :]  # too short to hold a whole boundary
        except OSError as e:  # urllib's HTTPError (503 past max_clients) is one too
            if not self._stop.is_set():
                self.error = str(e)

    def close(self) -> None:
        """Stop reading; the thread ends at its next chunk (a frame comes at web.max_fps)."""
        self._stop.set()
        self._thread.join(READ_TIMEOUT_S + 1.0)


class StalledClient:
    """A viewer that asks for a stream and never reads it: a 4 KiB receive buffer, so the
    server's writes to it block as soon as the kernel's buffers are full."""

    def __init__(self, host: str, port: int, stream: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect
        self.sock.connect((host, port))
        self.sock.sendall(f"GET /stream/{stream}.mjpg HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def fetch_status(base: str) -> dict[str, Any]:
    """The web view's ``/api/status`` document."""
    try:
        with urllib.request.urlopen(f"{base}/api/status", timeout=10) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError) as e:
        raise BenchError(f"the node's web view did not answer /api/status: {e}") from None


def web_clients(base: str) -> list[dict[str, Any]]:
    """The stream clients the web view is serving (``id``, ``stream``, ``frames_sent``)."""
    return list(fetch_status(base)["web"]["clients"])


def wait_clients(base: str, count: int, timeout: float = 30.0) -> int:
    """Wait until the web view serves ``count`` stream clients; the last count seen."""
    deadline = time.monotonic() + timeout
    while True:
        seen = len(web_clients(base))
        if seen == count or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def rss_mib(pid: int) -> float:
    """The process's resident set (``VmRSS`` in ``/proc/<pid>/status``), MiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    raise BenchError(f"cannot read the node's memory (/proc/{pid}/status): has it exited?")
