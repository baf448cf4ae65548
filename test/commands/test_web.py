"""``sccosf web``: one-line errors for bad values, and the standalone viewer serving live topics
(a real ``sccosf web`` process, real rclpy publishers, real HTTP)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

HANG_GUARD_S = 180.0


def _sccosf_web(*args: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "sccosf_ros.cli", "web", *args], env=env, text=True, **kw
    )


@pytest.fixture
def busy_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s.getsockname()[1]
    s.close()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "70000"], "web port 70000 is out of range"),
        (["--bind", "no such host.invalid"], "is not an address"),
        (["--bind", "10.255.254.253"], "is not an address of this machine"),
        (["--max-fps", "0"], "max_fps 0.0 must be > 0"),
        (["--topics", "relative/topic"], "is not an absolute topic name"),
        ([], "already in use"),  # the busy port
    ],
)
def test_bad_values_are_one_line_exit_2(args, words, busy_port):
    full = ["--topics", "/a", "--port", str(busy_port), *args]
    proc = _sccosf_web(*full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 2, out + err
    assert err.startswith("sccosf web: error: ") and words in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=HANG_GUARD_S) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _wait_for(cond, what: str, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        if got := cond():
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")


@pytest.mark.ros
def test_standalone_viewer_serves_topics_diagnostics_and_legend(tmp_path, ros_context):
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
    from rclpy.node import Node
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

    from sccosf_ros.pipeline.image_codec import encode_image
    from sccosf_ros.ros.label_info import label_info_type, make_label_info_msg

    log = tmp_path / "web.log"
    with open(log, "w") as f:
        proc = _sccosf_web(
            "--topics",
            "/webtest/color",
            "/webtest/thermal",
            "--port",
            "0",
            "--max-fps",
            "5",
            "--label-info",
            "/webtest/label_info",
            stdout=f,
            stderr=subprocess.STDOUT,
        )
    node = Node("webtest_pub", context=ros_context)
    from sensor_msgs.msg import Image

    pubs = {
        "color": node.create_publisher(Image, "/webtest/color", 5),
        "thermal": node.create_publisher(Image, "/webtest/thermal", 5),
    }
    diag = node.create_publisher(DiagnosticArray, "/diagnostics", 5)
    latched = QoSProfile(
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
    node.create_publisher(label_info_type(), "/webtest/label_info", latched).publish(
        make_label_info_msg(["sky", "road"], [(0, 0, 255), (128, 128, 128)], "test")
    )
    stop = threading.Event()

    def publish() -> None:
        bgr = np.zeros((30, 40, 3), np.uint8)
        bgr[..., 0] = 255  # blue, sent as bgr8
        thermal = np.linspace(7000, 9000, 30 * 40).reshape(30, 40).astype(np.uint16)
        while not stop.is_set():
            pubs["color"].publish(encode_image(bgr, "bgr8", msg_type=Image))
            pubs["thermal"].publish(encode_image(thermal, "mono16", msg_type=Image))
            diag.publish(
                DiagnosticArray(
                    status=[
                        DiagnosticStatus(
                            name="/x: inference", values=[KeyValue(key="processed", value="3")]
                        )
                    ]
                )
            )
            time.sleep(0.05)

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    try:
        port = _wait_for(
            lambda: re.search(r"web view: http://127\.0\.0\.1:(\d+)/", log.read_text()),
            "the startup line",
            proc,
            log,
        ).group(1)
        base = f"http://127.0.0.1:{port}"

        def ready():
            doc = json.loads(_get(f"{base}/api/status")[1])
            frames = all(s["has_frame"] for s in doc["streams"])
            return doc if frames and doc["legend"] and doc["diagnostics"] else None

        doc = _wait_for(ready, "frames, legend and diagnostics", proc, log)
        assert [s["name"] for s in doc["streams"]] == ["webtest_color", "webtest_thermal"]
        assert [c["name"] for c in doc["legend"]["classes"]] == ["sky", "road"]
        assert doc["diagnostics"][0]["values"] == {"processed": "3"}
        code, body = _get(f"{base}/snapshot/webtest_color.jpg")
        img = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
        assert code == 200 and img.shape == (30, 40, 3) and img[..., 0].mean() > 200  # blue
        code, body = _get(f"{base}/snapshot/webtest_thermal.jpg")
        grey = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
        assert code == 200 and grey.shape == (30, 40)
        with urllib.request.urlopen(f"{base}/stream/webtest_thermal.mjpg", timeout=60) as r:
            assert r.headers["Content-Type"].startswith("multipart/x-mixed-replace")
            assert r.readline().startswith(b"--")
        assert _get(f"{base}/stream/color.mjpg")[0] == 404
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=HANG_GUARD_S) in (0, 130), log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        stop.set()
        publisher.join(5)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        node.destroy_node()
