"""``sccosf demo`` end to end on a tiny setting (real node subprocess, real DDS, real bags)."""

from __future__ import annotations

import json
import math

import cv2
import pytest
from PIL import Image

from sccosf_ros.bag.bag_io import BagReader
from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.demo import DemoConfig, run_demo


def test_demo_without_checkpoint_says_where_to_get_it(tmp_path, capsys):
    code = sccosf_main(
        ["demo", "--checkpoint", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "demo")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "missing.pt" in err and "models/README.md" in err
    assert not (tmp_path / "demo").exists()


@pytest.mark.slow
@pytest.mark.ros
def test_demo_end_to_end_tiny(tmp_path, nano_checkpoint, capsys):
    out = tmp_path / "demo"
    m = run_demo(
        DemoConfig(
            out=out,
            checkpoint=nano_checkpoint,
            duration=2.0,
            height=40,
            width=56,
            storage="sqlite3",
            device="cpu",
            threads=1,
            progress=False,
        )
    )
    printed = capsys.readouterr().out
    assert "where to look" in printed and str(out / "contact_sheet.png") in printed

    # RGB 10 Hz, thermal 8.7 Hz over 2 s: 20 RGB, 17 thermal frames, each thermal pairs
    assert m["frames"] == {"rgb": 20, "thermal": 17, "labels": 20}
    assert m["possible_pairs"] == 17
    assert m["published"] == {"/camera/rgb/image_raw": 20, "/camera/thermal/image_raw": 17}
    assert m["clock_messages"] > 38
    seg = m["outputs"]["/sccosf/segmentation"]
    assert 1 <= seg <= 17
    assert all(n == seg for n in m["outputs"].values())
    assert m["output_stamps_match_rgb"] is True
    assert m["labelled_outputs"] == seg and 0.0 <= m["miou"] <= 1.0
    assert m["node_exit_code"] == 0
    assert int(m["node_counters"]["processed"]) == seg
    assert math.isfinite(m["latency_ms"]["inference_p50"])
    assert json.loads(m["label_info"])["classes"][1]["name"] == "car"
    assert m["bag_eval"]["pairs"] == 17 and 0.0 <= m["bag_eval"]["miou"] <= 1.0

    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["possible_pairs"] == 17 and "timings" in on_disk
    assert cv2.imread(str(out / "contact_sheet.png")) is not None
    with Image.open(out / "preview.gif") as gif:
        assert gif.n_frames == seg
    with BagReader(out / "recorded_bag") as r:
        assert r.storage == "sqlite3"
        topics = r.topics()
        assert topics["/sccosf/overlay"].count == seg
        assert topics["/diagnostics"].count >= 1
    assert (out / "bag_eval" / "metrics.json").is_file()
    assert "ready" in (out / "node.log").read_text()


@pytest.mark.slow
@pytest.mark.ros
def test_demo_on_the_openvino_backend(tmp_path, backend_cache, capsys):
    pytest.importorskip("openvino")
    pytest.importorskip("onnxscript")
    out = tmp_path / "demo"
    m = run_demo(
        DemoConfig(
            out=out,
            duration=1.5,
            height=40,
            width=56,
            storage="mcap",
            device="cpu",
            threads=1,
            backend="openvino",
            cache_dir=backend_cache,
            progress=False,
        )
    )
    printed = capsys.readouterr().out
    assert "(backend openvino)" in printed
    params = (out / "demo_params.yaml").read_text()
    assert "backend: openvino" in params and f"backend.cache_dir: {backend_cache}" in params
    assert m["backend"] == "openvino" and m["node_exit_code"] == 0
    assert "backend openvino on cpu" in (out / "node.log").read_text()
    assert m["outputs"]["/sccosf/segmentation"] >= 1
    assert m["bag_eval"]["pairs"] == m["possible_pairs"]


@pytest.mark.parametrize(
    ("args", "needle"), [(["--rate", "0"], "--rate"), (["--threads", "-1"], "--threads")]
)
def test_bad_demo_settings_fail_before_anything_is_written(tmp_path, capsys, args, needle):
    code = sccosf_main(["demo", "--out", str(tmp_path / "demo"), *args])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "demo").exists()
