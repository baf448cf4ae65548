"""sccosf_node with ``backend:=openvino`` over DDS: outputs within the parity bar of the torch
model on the same frames, from a graph the cache already holds (exported by this test
process, loaded by the node process)."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("openvino")
pytest.importorskip("onnxscript")

from node_harness import NodeProcess, RosIO, image_msg, node_command, scene

from sccosf_ros.inference import Predictor
from sccosf_ros.paths import default_checkpoint
from sccosf_ros.pipeline.image_codec import decode_image
from sccosf_ros.thermal import ThermalNorm

NS = "/backend_test"
NORM = {"mode": "fixed", "low": 7000.0, "high": 9000.0}


@pytest.mark.ros
@pytest.mark.slow
def test_node_runs_with_openvino_backend(tmp_path, backend_cache):
    rgb, thermal = scene(21)  # 48x64 RGB + uint16 counts 7000..9000
    ref = Predictor.from_checkpoint(default_checkpoint(), "cpu", thermal_norm=ThermalNorm(**NORM))
    want = ref.predict(rgb, thermal)
    # export into the shared cache here; the node must find it there and not export again
    Predictor.from_checkpoint(
        default_checkpoint(), "cpu", backend="openvino", cache_dir=backend_cache
    ).prepare(rgb.shape[:2])
    entries = sorted((backend_cache / "onnx").glob("*.onnx"))
    params = {
        "backend": "openvino",
        "precision": "fp32",  # the graph exported above (auto would check bf16 at 480x640 first)
        "backend.cache_dir": str(backend_cache),
        "device": "cpu",
        "num_threads": 1,
        "thermal.normalization": "fixed",
        "thermal.low": NORM["low"],
        "thermal.high": NORM["high"],
    }
    proc = NodeProcess(node_command(params=params, remaps={"__ns": NS}), tmp_path / "node.log")
    io = None
    try:
        proc.wait_ready()
        io = RosIO(NS)
        io.wait_subscribed()
        deadline = time.monotonic() + 120
        outs = {}
        while time.monotonic() < deadline and len(outs) < 4:
            t = time.time_ns()
            io.publish_pair(
                image_msg(rgb, "rgb8", t, "cam"), image_msg(thermal, "mono16", t, "cam")
            )
            try:
                io.wait_for(lambda t=t: len(io.outputs_for(t)) == 4, 10.0, "outputs")
                outs = io.outputs_for(t)
            except AssertionError:
                continue
        assert len(outs) == 4, proc.log()
        labels = decode_image(outs["segmentation"])
        fused = decode_image(outs["fused"])
        assert np.mean(labels == want.labels) >= 0.999
        assert np.abs(fused.astype(int) - want.fused.astype(int)).max() <= 2
        log = proc.log()
        assert "backend openvino on cpu" in log
        assert "building" not in log  # the cached graph was reused
        assert sorted((backend_cache / "onnx").glob("*.onnx")) == entries
        rc, _ = proc.interrupt()
        assert rc == 0, proc.log()
    finally:
        if io is not None:
            io.close()
        proc.kill()
