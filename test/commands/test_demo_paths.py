"""``sccosf demo --night`` end to end (tiny: 1 s of 48×64 frames, no bag-eval): the live node
runs on a night recording, whose RGB is dark while the thermal keeps its contrast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sccosf_ros.bag.bag_io import BagReader
from sccosf_ros.synthetic import write_synthetic_bag

pytestmark = [pytest.mark.ros, pytest.mark.slow]

RGB, THERMAL = "/camera/rgb/image_raw", "/camera/thermal/image_raw"


def _frames(bag: Path, topic: str) -> list[np.ndarray]:
    with BagReader(bag) as r:
        out = []
        for _, ty, _, raw in r.messages([topic]):
            m = r.deserialize(raw, ty)
            dtype = np.uint16 if m.encoding == "mono16" else np.uint8
            out.append(np.frombuffer(m.data, dtype).astype(float))
        return out


def test_demo_night_runs_the_node_on_a_dark_recording(nano_checkpoint, tmp_path):
    out = tmp_path / "demo"
    cmd = [str(Path(sys.executable).with_name("sccosf")), "demo", "--night", "--seed", "3",
           "--duration", "1", "--size", "48", "64", "--no-bag-eval", "--quiet",
           "--device", "cpu", "--threads", "1", "--checkpoint", str(nano_checkpoint),
           "--out", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    m = json.loads((out / "metrics.json").read_text())
    seg = sum(n for topic, n in m["outputs"].items() if topic.endswith("/segmentation"))
    assert m["node_exit_code"] == 0 and seg > 0, m["outputs"]
    # the same recording by day, for comparison
    day = write_synthetic_bag(
        tmp_path / "day", duration=1.0, height=48, width=64, seed=3, show_progress=False
    )
    night_rgb = np.mean([f.mean() for f in _frames(out / "input_bag", RGB)])
    day_rgb = np.mean([f.mean() for f in _frames(day.path, RGB)])
    assert night_rgb < 0.5 * day_rgb, (night_rgb, day_rgb)
    night_th = np.mean([f.std() for f in _frames(out / "input_bag", THERMAL)])
    day_th = np.mean([f.std() for f in _frames(day.path, THERMAL)])
    assert night_th > 0.3 * day_th, (night_th, day_th)  # thermal still sees
