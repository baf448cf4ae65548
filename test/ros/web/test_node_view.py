"""The node's web view end to end: a real sccosf_node (subprocess, web.enable) fed by a
replayed synthetic bag, watched over HTTP and in a real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from mjpeg import get, read_part, wait_for
from node_harness import CONFIG, HANG_GUARD_S, NodeProcess, node_command

from sccosf_ros.synthetic import THERMAL_COUNTS, write_synthetic_bag

pytestmark = pytest.mark.ros

STREAMS = {"overlay", "fused", "segmentation_color", "rgb", "thermal"}
MAX_FPS = 4.0
H, W = 96, 128


@pytest.fixture(scope="module")
def live_node(tmp_path_factory):
    """The node serving its web view while a synthetic bag loops into it: its base URL."""
    import rclpy
    from rclpy.context import Context

    from sccosf_ros.bag.replay import BagPlayer, ReplayConfig

    tmp = tmp_path_factory.mktemp("web_node")
    bag = write_synthetic_bag(
        tmp / "in",
        storage="mcap",
        duration=2.0,
        rgb_rate=10.0,
        thermal_rate=5.0,
        thermal_offset=0.004,
        height=H,
        width=W,
        label_topic=None,
        show_progress=False,
    )
    c = bag.config
    cmd = node_command(
        params_file=CONFIG,
        params={
            "num_threads": 1,
            "device": "cpu",
            "backend": "torch",  # the web view, not the runtime
            "thermal.normalization": "fixed",
            "thermal.low": float(THERMAL_COUNTS[0]),
            "thermal.high": float(THERMAL_COUNTS[1]),
            "diagnostics.period": 0.5,
            "web.enable": True,
            "web.port": 0,  # any free port: the node logs which
            "web.max_fps": MAX_FPS,
        },
        remaps={"rgb/image_raw": c.rgb_topic, "thermal/image_raw": c.thermal_topic},
    )
    node = NodeProcess(cmd, tmp / "node.log")
    ctx = Context()
    rclpy.init(context=ctx)
    player = None
    thread = None
    try:
        node.wait_ready()
        port = re.search(r"web view: http://127\.0\.0\.1:(\d+)/ \(this machine only\)", node.log())
        assert port, node.log_tail()
        player = BagPlayer(
            ReplayConfig(
                bag=bag.path,
                loop=True,
                progress=False,
                topics=[c.rgb_topic, c.thermal_topic],
                wait_subscribers=HANG_GUARD_S,
            ),
            context=ctx,
        )
        thread = threading.Thread(target=player.play, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{port.group(1)}", node, tmp
    finally:
        if player is not None:
            player.stop()
            thread.join(30)
            player.close()
        code = node.stop()
        rclpy.shutdown(context=ctx)
    assert code == 0, node.log_tail()


def status(base: str) -> dict:
    return json.loads(get(f"{base}/api/status")[2])


def processed(doc: dict) -> int:
    for st in doc["diagnostics"]:
        if st["name"].endswith(": inference"):
            return int(st["values"]["processed"])
    return 0


def test_node_serves_status_snapshots_and_streams(live_node):
    base, node, _ = live_node
    wait_for(lambda: processed(status(base)) >= 2, "processed pairs")
    doc = status(base)
    assert {s["name"] for s in doc["streams"]} == STREAMS
    assert doc["parameters"]["web.enable"] is True and doc["parameters"]["web.max_fps"] == MAX_FPS
    names = [c["name"] for c in doc["legend"]["classes"]]
    assert len(names) >= 2 and all(len(c["color"]) == 3 for c in doc["legend"]["classes"])
    assert {st["level"] for st in doc["diagnostics"]} <= {"OK", "WARN"}
    for name in STREAMS:
        code, _, body = get(f"{base}/snapshot/{name}.jpg")
        img = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
        assert code == 200 and img.shape[:2] == (H, W), name
    with urllib.request.urlopen(f"{base}/stream/overlay.mjpg", timeout=HANG_GUARD_S) as r:
        parts = [read_part(r) for _ in range(4)]
    for p in parts:
        img = cv2.imdecode(np.frombuffer(p.data, np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.shape == (H, W, 3)
    # timing-invariant: the spacing of the server's own X-Timestamps, >= 1/max_fps by design
    gaps = np.diff([p.timestamp for p in parts])
    assert gaps.min() >= 1.0 / MAX_FPS - 2e-6  # timing-invariant: see above
    assert get(f"{base}/stream/nope.mjpg")[0] == 404
    assert "Traceback" not in node.log()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if path := shutil.which(name):
            return path
    return None


def _browser(binary: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            binary,
            "--headless=new",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            f"--user-data-dir={tmp / 'chromium-profile'}",
            "--window-size=1400,1000",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )


def test_page_in_a_headless_browser(live_node, tmp_path):
    """Chromium loads the page: every stream shows an image, the legend lists the classes and
    the /diagnostics figures update by themselves; a screenshot is saved."""
    binary = _chromium()
    if binary is None:
        pytest.skip("no chromium binary (apt-get install chromium) for the browser test")
    base, _, _ = live_node
    wait_for(lambda: processed(status(base)) >= 1, "a processed pair")
    n_classes = len(status(base)["legend"]["classes"])

    def page_state() -> dict | None:
        dom = _browser(binary, tmp_path, "--dump-dom", f"{base}/").stdout
        body = re.search(r"<body([^>]*)>", dom)
        state = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1))) if body else {}
        ready = (
            state.get("images") == str(len(STREAMS))
            and state.get("loaded") == state.get("images")
            and state.get("classes") == str(n_classes)
            and int(state.get("diag-updates", "0")) >= 2
            and int(state.get("processed", "0")) >= 1
        )
        return state if ready else None

    state = wait_for(page_state, "the page to show every image and updating figures")
    assert int(state["polls"]) >= 2
    shot = tmp_path / "web_view.png"
    _browser(binary, tmp_path, f"--screenshot={shot}", f"{base}/")
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (1000, 1400)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"web.port": 70000}, "parameter web.port = 70000 is invalid: must be within 0..65535"),
        ({"web.bind": "10.255.254.253"}, "is not an address of this machine"),
        ({}, "is already in use"),  # the busy port
    ],
)
def test_bad_web_values_stop_the_node_with_one_line(params, words):
    import socket

    from node_harness import run_node_to_exit

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        cmd = node_command(
            params={
                "device": "cpu",
                "backend": "torch",  # the web port, not the runtime
                "web.enable": True,
                "web.port": busy.getsockname()[1],
                **params,
            }
        )
        code, out = run_node_to_exit(cmd, timeout=HANG_GUARD_S)
    errors = [line for line in out.splitlines() if "error" in line.lower()]
    assert code == 2, out
    assert errors == [f"sccosf_node: error: {errors[0].split('error: ', 1)[1]}"], out
    assert words in errors[0] and "Traceback" not in out
