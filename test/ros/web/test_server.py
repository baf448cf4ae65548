"""The web view's HTTP server over real loopback HTTP (urllib, raw sockets): page, status,
snapshots, MJPEG streams at <= max_fps, 404/503, slow clients, start-up errors."""

from __future__ import annotations

import json
import socket
import urllib.request

import cv2
import numpy as np
import pytest
from mjpeg import Feeder, get, read_part, wait_for

from sccosf_ros.ros.web.server import WebConfig, WebError, WebView

NAMES = ("overlay", "thermal")


@pytest.fixture
def view():
    logs: list[str] = []
    v = WebView(WebConfig(port=0, max_fps=8.0, max_clients=3), title="test", log=logs.append)
    for name in NAMES:
        v.add_stream(name)
    v.start()
    v.logs = logs
    yield v
    v.stop()


def url(v: WebView, path: str) -> str:
    return f"http://127.0.0.1:{v.port}{path}"


def test_page_and_its_files_are_served(view):
    status, headers, body = get(url(view, "/"))
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'src="/app.js"' in body and b'href="/style.css"' in body
    for path, kind in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
        status, headers, body = get(url(view, path))
        assert status == 200 and headers["content-type"].startswith(kind) and body
    assert "web view: http://127.0.0.1:" in view.logs[0] and "this machine only" in view.logs[0]


def test_api_status_reports_diagnostics_parameters_legend_streams(view):
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    arr = DiagnosticArray(
        status=[
            DiagnosticStatus(
                level=DiagnosticStatus.WARN,
                name="/sccosf: inference",
                message="m",
                values=[KeyValue(key="processed", value="7")],
            )
        ]
    )
    view.board.set_diagnostics(arr)
    view.board.set_parameters(lambda: {"web.port": 0, "thermal.window_c": (1.0, 2.0)})
    view.board.set_legend({"classes": [{"id": 0, "name": "car", "color": [1, 2, 3]}]})
    status, headers, body = get(url(view, "/api/status"))
    assert status == 200 and headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["title"] == "test"
    assert doc["diagnostics"] == [
        {
            "name": "/sccosf: inference",
            "level": "WARN",
            "message": "m",
            "hardware_id": "",
            "values": {"processed": "7"},
        }
    ]
    assert doc["parameters"] == {"web.port": 0, "thermal.window_c": [1.0, 2.0]}
    assert doc["legend"]["classes"][0]["name"] == "car"
    assert [s["name"] for s in doc["streams"]] == list(NAMES)
    assert doc["web"]["max_clients"] == 3 and doc["web"]["clients"] == []


def test_snapshot_is_a_jpeg_of_the_newest_frame(view):
    status, headers, _ = get(url(view, "/snapshot/overlay.jpg"))
    assert status == 503 and headers["retry-after"] == "1"  # no frame yet
    rgb = np.zeros((24, 40, 3), np.uint8)
    rgb[..., 0] = 250  # red
    view.put("overlay", np.zeros((24, 40, 3), np.uint8))
    view.put("overlay", rgb)  # the newest wins
    view.put("thermal", np.linspace(7000, 9000, 24 * 40).reshape(24, 40).astype(np.uint16))
    status, headers, body = get(url(view, "/snapshot/overlay.jpg"))
    assert status == 200 and headers["content-type"] == "image/jpeg"
    img = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)  # BGR
    assert img.shape == (24, 40, 3) and img[..., 2].mean() > 200 and img[..., 0].mean() < 40
    status, _, body = get(url(view, "/snapshot/thermal.jpg"))  # raw counts, stretched
    grey = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
    assert status == 200 and grey.shape == (24, 40) and grey.min() < 20 and grey.max() > 235


def test_unknown_stream_snapshot_or_path_is_404_without_traceback(view, capfd):
    for path in ("/stream/nope.mjpg", "/snapshot/nope.jpg", "/nope", "/stream/../x.mjpg"):
        assert get(url(view, path))[0] == 404, path
    assert b"overlay" in get(url(view, "/stream/nope.mjpg"))[2]  # names the streams there are
    assert "Traceback" not in capfd.readouterr().err


def test_stream_frames_are_jpegs_at_most_max_fps_newest_only(view):
    with Feeder(view, NAMES, (32, 48, 3)) as feeder:
        with urllib.request.urlopen(url(view, "/stream/overlay.mjpg"), timeout=180) as r:
            assert r.headers["Content-Type"].startswith("multipart/x-mixed-replace; boundary=")
            parts = [read_part(r) for _ in range(8)]
        fed = feeder.count
    for p in parts:
        img = cv2.imdecode(np.frombuffer(p.data, np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.shape == (32, 48, 3)
        assert p.headers["content-type"] == "image/jpeg" and "x-stamp" in p.headers
    # timing-invariant: the spacing of the server's own X-Timestamps is what the encoder
    # allows (>= 1/max_fps by construction), a property of its output, not of this machine
    gaps = np.diff([p.timestamp for p in parts])
    assert gaps.min() >= 1.0 / view.config.max_fps - 2e-6  # timing-invariant: see above
    # the frames shown are the newest ones: the feeder put many more than were encoded
    stamps = [int(p.headers["x-stamp"].replace(".", "")) for p in parts]
    assert stamps == sorted(stamps) and fed > len(parts)
    doc = json.loads(get(url(view, "/api/status"))[2])
    thermal = next(s for s in doc["streams"] if s["name"] == "thermal")
    assert thermal["frames_encoded"] == 0  # nobody watched it: never encoded


def test_past_max_clients_a_polite_503(view):
    opened = [urllib.request.urlopen(url(view, "/stream/overlay.mjpg"), timeout=180)]
    opened += [urllib.request.urlopen(url(view, "/stream/thermal.mjpg"), timeout=180)]
    opened += [urllib.request.urlopen(url(view, "/stream/overlay.mjpg"), timeout=180)]
    try:
        status, headers, body = get(url(view, "/stream/overlay.mjpg"))
        assert status == 503 and headers["retry-after"] == "5" and b"at most 3" in body
        assert get(url(view, "/api/status"))[0] == 200  # the page and status still answer
        opened.pop().close()
        wait_for(lambda: len(view.status()["web"]["clients"]) == 2, "a slot to free")
        with urllib.request.urlopen(url(view, "/stream/overlay.mjpg"), timeout=180) as r:
            assert r.status == 200
    finally:
        for r in opened:
            r.close()
    assert view.status()["web"]["refused"] == 1


def test_a_client_that_stops_reading_blocks_nobody(view):
    """A client that never reads fills its socket buffers and stalls in its own thread; the
    feeder (the node) and another client go on."""
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", view.port))
    stalled.sendall(b"GET /stream/overlay.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        with Feeder(view, NAMES, (480, 640, 3)) as feeder:  # noise: ~300 kB per JPEG
            with urllib.request.urlopen(url(view, "/stream/overlay.mjpg"), timeout=180) as r:
                seen = 0
                history: list[int] = []

                def stalled_sent() -> int:
                    clients = view.status()["web"]["clients"]
                    return min(c["frames_sent"] for c in clients)

                # Read on until the stalled client's count has not moved for 10 frames of ours.
                while len(history) < 11 or history[-11] != history[-1]:
                    read_part(r)
                    seen += 1
                    history.append(stalled_sent())
                    assert seen < 500, "the stalled client never stalled"
            fed_while_stalled = feeder.count
        assert seen >= history[-1] + 10
        assert fed_while_stalled > seen  # the producer never waited for either client
    finally:
        stalled.close()


def test_stop_ends_streams_and_stalled_clients(view):
    r = urllib.request.urlopen(url(view, "/stream/overlay.mjpg"), timeout=180)
    wait_for(lambda: view.status()["web"]["clients"], "the client to be served")
    view.stop()
    assert r.read() == b""  # the connection ended
    r.close()


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (WebConfig(port=70000), "out of range"),
        (WebConfig(port=-1), "out of range"),
        (WebConfig(bind="999.1.1.1", port=0), "not an address"),
        (WebConfig(bind="10.255.254.253", port=0), "not an address of this machine"),
    ],
)
def test_bad_port_or_bind_is_one_line(config, words):
    with pytest.raises(WebError) as e:
        WebView(config).start()
    assert words in str(e.value) and "\n" not in str(e.value)


def test_port_in_use_is_one_line(view):
    with pytest.raises(WebError) as e:
        WebView(WebConfig(port=view.port)).start()
    assert f"web port {view.port} is already in use" in str(e.value)
    assert "\n" not in str(e.value)


def test_every_interface_says_it_serves_the_robots_network():
    logs: list[str] = []
    v = WebView(WebConfig(bind="0.0.0.0", port=0), log=logs.append).start()
    try:
        assert "serving the robot's network" in logs[0] and "no authentication" in logs[0]
    finally:
        v.stop()
