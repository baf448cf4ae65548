"""The live web view's HTTP server: the page, MJPEG streams, snapshots and ``/api/status``.

The standard library's ``ThreadingHTTPServer``: one daemon thread per connection, so a slow or
vanished client only ever holds its own thread (and the one frame it is sending); a write that
cannot go on for ``WRITE_TIMEOUT_S`` ends that connection. Routes:

  ``/``                       the page (static HTML/JS shipped in the package, no CDN)
  ``/stream/<name>.mjpg``     ``multipart/x-mixed-replace`` JPEG parts, each with ``X-Timestamp``
                              (encode time, s) and, when the frame had a header, ``X-Stamp``
  ``/snapshot/<name>.jpg``    the newest frame as one JPEG (503 before the first)
  ``/api/status``             JSON: diagnostics, parameters, legend, streams, clients

An unknown stream is a 404; past ``max_clients`` concurrent streams a stream request gets a
503 with ``Retry-After``. The server never prints a traceback for a client's fault.
"""

from __future__ import annotations

import contextlib
import errno
import json
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sccosf_ros.errors import SccosfError
from sccosf_ros.ros.web.status import StatusBoard
from sccosf_ros.ros.web.streams import Clock, Stream

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
BOUNDARY = "sccosfframe"
WRITE_TIMEOUT_S = 20.0  # a client that takes no bytes for this long is disconnected
WAIT_S = 1.0  # how often a stream's thread looks whether the server is stopping


class WebError(SccosfError):
    """The web view cannot start (port in use, bad bind address); one line, exit code 2."""


@dataclass(frozen=True)
class WebConfig:
    port: int = 8080
    bind: str = "127.0.0.1"
    max_fps: float = 10.0
    quality: int = 80
    max_clients: int = 20

    def check(self) -> None:
        """WebError naming the option when a value is out of range (the node's parameter table
        checks the same ranges)."""
        if not 0 <= self.port <= 65535:
            raise WebError(f"web port {self.port} is out of range: must be within 0..65535")
        if not self.max_fps > 0:
            raise WebError(f"web max_fps {self.max_fps} must be > 0")
        if not 1 <= self.quality <= 100:
            raise WebError(f"web quality {self.quality} must be within 1..100")
        if self.max_clients < 1:
            raise WebError(f"web max_clients {self.max_clients} must be >= 1")


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # stopping never waits for a client
    view: WebView

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-frame is normal; anything else is one log line."""
        import sys

        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            self.view.log(f"web view: request from {client_address[0]} failed: {error!r}")


class WebView:
    """The streams, the status board and the server thread; ``start`` binds, ``stop`` ends."""

    def __init__(
        self,
        config: WebConfig,
        *,
        title: str = "sccosf",
        log: Callable[[str], None] = print,
    ) -> None:
        config.check()
        self.config = config
        self.board = StatusBoard(title)
        self.log = log
        self._clock = Clock()
        self._streams: dict[str, Stream] = {}
        self._lock = threading.Lock()
        self._clients: dict[int, dict[str, Any]] = {}  # id → {stream, sent, conn}
        self._next_client = 0
        self.refused = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ streams
    def add_stream(self, name: str, prepare: Callable[[Any], Any] | None = None) -> Stream:
        """A named stream (``prepare`` turns what ``put`` gets into pixels, when watched)."""
        with self._lock:
            if name not in self._streams:
                self._streams[name] = Stream(
                    name,
                    max_fps=self.config.max_fps,
                    quality=self.config.quality,
                    clock=self._clock,
                    on_error=self._on_encode_error,
                    prepare=prepare,
                )
            return self._streams[name]

    def put(self, name: str, array: Any, stamp_ns: int | None = None) -> None:
        """The newest frame of a stream (O(1): no copy, no encoding, never blocks)."""
        stream = self._streams.get(name)
        if stream is not None:
            stream.put(array, stamp_ns)

    def stream(self, name: str) -> Stream | None:
        return self._streams.get(name)

    @property
    def stream_names(self) -> list[str]:
        return list(self._streams)

    def _on_encode_error(self, name: str, error: BaseException) -> None:
        self.log(f"web view: a frame of {name} cannot be shown: {error}")

    # ------------------------------------------------------------------ server
    @property
    def port(self) -> int:
        """The port listened on (the chosen one when ``port`` is 0)."""
        return self._server.server_address[1] if self._server is not None else self.config.port

    def start(self) -> WebView:
        """Bind and serve in a thread; WebError (one line) when the address cannot be used."""
        c = self.config
        self._server = _bind(c.bind, c.port)
        self._server.view = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        self.log(self.startup_line())
        return self

    def startup_line(self) -> str:
        bind, port = self.config.bind, self.port
        if bind in ("0.0.0.0", "::", ""):
            return (
                f"web view: serving the robot's network on port {port} (every interface): "
                f"open http://<robot-address>:{port}/ from a laptop on it; no authentication, "
                "use trusted networks only"
            )
        host = f"[{bind}]" if ":" in bind else bind
        where = "this machine only" if bind.startswith("127.") or bind == "::1" else bind
        return f"web view: http://{host}:{port}/ ({where})"

    def stop(self) -> None:
        """Stop serving, end every stream and disconnect every client (stalled ones too)."""
        server, self._server = self._server, None
        for stream in list(self._streams.values()):
            stream.close()
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = [c["conn"] for c in self._clients.values()]
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    # ------------------------------------------------------------------ clients
    def _admit(self, stream: str, conn: socket.socket) -> int | None:
        """A client id, or None when ``max_clients`` streams are being served."""
        with self._lock:
            if len(self._clients) >= self.config.max_clients:
                self.refused += 1
                return None
            self._next_client += 1
            self._clients[self._next_client] = {"stream": stream, "sent": 0, "conn": conn}
            return self._next_client

    def _sent(self, client: int) -> None:
        with self._lock:
            self._clients[client]["sent"] += 1

    def _leave(self, client: int) -> None:
        with self._lock:
            self._clients.pop(client, None)

    def status(self) -> dict[str, Any]:
        """``/api/status``'s document."""
        out = self.board.as_dict()
        out["streams"] = [
            {
                "name": s.name,
                "has_frame": s.has_frame(),
                "watchers": s.watchers,
                "frames_in": s.frames_in,
                "frames_encoded": s.frames_encoded,
                "frames_skipped": s.frames_skipped,
            }
            for s in list(self._streams.values())
        ]
        with self._lock:
            clients = [
                {"id": i, "stream": c["stream"], "frames_sent": c["sent"]}
                for i, c in self._clients.items()
            ]
        c = self.config
        out["web"] = {
            "max_fps": c.max_fps,
            "quality": c.quality,
            "max_clients": c.max_clients,
            "clients": clients,
            "refused": self.refused,
        }
        return out


def _bind(bind: str, port: int) -> _Server:
    """The listening server, or WebError saying which value to change."""
    try:
        infos = socket.getaddrinfo(bind or None, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise WebError(f"web bind address {bind!r} is not an address: {e}") from None
    family = infos[0][0]

    class Server(_Server):
        address_family = family

    try:
        return Server((bind, port), _Handler)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise WebError(
                f"web port {port} is already in use on {bind} (another web view or program); "
                "choose another port"
            ) from None
        if e.errno == errno.EACCES:
            raise WebError(
                f"web port {port}: permission denied (ports below 1024 need root; e.g. 8080)"
            ) from None
        if e.errno == errno.EADDRNOTAVAIL:
            raise WebError(
                f"web bind address {bind!r} is not an address of this machine "
                "(127.0.0.1 = this machine only, 0.0.0.0 = every network)"
            ) from None
        raise WebError(f"web view cannot listen on {bind}:{port}: {e.strerror or e}") from None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = WRITE_TIMEOUT_S  # socket timeout: a stalled client ends its own connection
    server_version = "sccosf-web"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no line per request on the node's console

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        view = self.server.view
        if path in STATIC_FILES:
            name, ctype = STATIC_FILES[path]
            self._send(200, (STATIC / name).read_bytes(), ctype)
        elif path == "/api/status":
            body = json.dumps(view.status(), allow_nan=False, default=str).encode()
            self._send(200, body, "application/json")
        elif path == "/favicon.ico":
            self._send(204, b"", "text/plain")
        elif path.startswith("/stream/") and path.endswith(".mjpg"):
            self._stream(view, path[len("/stream/") : -len(".mjpg")])
        elif path.startswith("/snapshot/") and path.endswith(".jpg"):
            self._snapshot(view, path[len("/snapshot/") : -len(".jpg")])
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(self, code: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _unknown(self, view: WebView, name: str) -> None:
        known = ", ".join(view.stream_names) or "none"
        self._send(404, f"no stream {name!r}; streams: {known}\n".encode(), "text/plain")

    def _snapshot(self, view: WebView, name: str) -> None:
        stream = view.stream(name)
        if stream is None:
            return self._unknown(view, name)
        try:
            data = stream.snapshot()
        except Exception as e:  # a message that cannot be decoded or shown
            return self._send(500, f"cannot show {name}: {e}\n".encode(), "text/plain")
        if data is None:
            return self._send(503, b"no frame yet\n", "text/plain", {"Retry-After": "1"})
        self._send(200, data, "image/jpeg")

    def _stream(self, view: WebView, name: str) -> None:
        stream = view.stream(name)
        if stream is None:
            return self._unknown(view, name)
        client = view._admit(name, self.connection)
        if client is None:
            limit = view.config.max_clients
            return self._send(
                503,
                f"the web view serves at most {limit} streams at once; try again later\n".encode(),
                "text/plain",
                {"Retry-After": "5"},
            )
        try:
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            stream.watch()
            try:
                self._write_frames(view, stream, client)
            finally:
                stream.unwatch()
        finally:
            view._leave(client)
        self.close_connection = True

    def _hung_up(self) -> bool:
        """The client closed its side (readable with no data); it sends nothing after its
        request, so anything readable is the end of the connection."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _write_frames(self, view: WebView, stream: Stream, client: int) -> None:
        last = 0
        while view._server is self.server:
            jpeg = stream.next_jpeg(last, WAIT_S)
            if jpeg is None:  # nothing new: a client that hung up meanwhile frees its slot
                if self._hung_up():
                    return
                continue
            last = jpeg.seq
            head = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                f"Content-Length: {len(jpeg.data)}\r\nX-Timestamp: {jpeg.at:.6f}\r\n"
            )
            if jpeg.stamp_ns is not None:
                head += f"X-Stamp: {jpeg.stamp_ns // 10**9}.{jpeg.stamp_ns % 10**9:09d}\r\n"
            try:
                self.wfile.write(head.encode() + b"\r\n" + jpeg.data + b"\r\n")
            except OSError:  # the client went away or stopped reading for WRITE_TIMEOUT_S
                return
            view._sent(client)
