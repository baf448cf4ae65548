"""``sccosf bag-eval --backend onnxruntime|openvino`` on a demo-style synthetic bag: the same
pairs as torch and outputs within the parity bar (labels >= 99.9 %, fused within 2/255)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("openvino")
pytest.importorskip("onnxscript")

from sccosf_ros.bag.bag_io import BagReader, stamp_ns
from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.demo import DemoConfig, demo_param_values
from sccosf_ros.paths import default_checkpoint
from sccosf_ros.pipeline.image_codec import decode_image
from sccosf_ros.pipeline.params import write_params_file
from sccosf_ros.synthetic import write_synthetic_bag

H, W = 48, 64


def _outputs(bag_dir):
    """stamp → {segmentation, fused} arrays of an output bag."""
    out: dict[int, dict[str, np.ndarray]] = {}
    with BagReader(bag_dir) as reader:
        for topic, msgtype, _, raw in reader.messages():
            name = topic.rsplit("/", 1)[-1]
            if name in ("segmentation", "fused"):
                msg = reader.deserialize(raw, msgtype)
                out.setdefault(stamp_ns(msg), {})[name] = decode_image(msg)
    return out


@pytest.mark.slow
def test_bag_eval_backends_pair_like_torch_and_meet_the_bar(tmp_path, backend_cache, capsys):
    # the demo's recording: RGB 10 Hz, thermal 8.7 Hz mono16 counts, labels; the demo's params
    bag = write_synthetic_bag(
        tmp_path / "bag",
        storage="mcap",
        duration=1.5,
        rgb_rate=10.0,
        thermal_rate=8.7,
        height=H,
        width=W,
        show_progress=False,
    )
    params = tmp_path / "demo_params.yaml"
    values = demo_param_values(DemoConfig(device="cpu", threads=1), default_checkpoint())
    write_params_file(params, {**values, "backend.cache_dir": str(backend_cache)})
    c = bag.config
    results = {}
    for backend in ("torch", "onnxruntime", "openvino"):
        out = tmp_path / backend
        code = sccosf_main(
            [
                "bag-eval",
                str(bag.path),
                "--rgb-topic",
                c.rgb_topic,
                "--thermal-topic",
                c.thermal_topic,
                "--label-topic",
                c.label_topic,
                "--out",
                str(out),
                "--params-file",
                str(params),
                "--backend",
                backend,
                "--precision",  # each runtime's fp32 graph (precision auto: test_auto.py)
                "fp32",
                "--quiet",
            ]
        )
        printed = capsys.readouterr().out
        assert code == 0, printed
        assert f"({backend} on cpu)" in printed
        results[backend] = _outputs(next(out.glob("*_sccosf")))
    ref = results["torch"]
    assert len(ref) == len(bag.thermal_stamps)  # every thermal frame pairs with one RGB frame
    for backend in ("onnxruntime", "openvino"):
        got = results[backend]
        assert sorted(got) == sorted(ref), backend  # the same pairs (RGB stamps)
        same = sum(
            int(np.count_nonzero(got[s]["segmentation"] == ref[s]["segmentation"])) for s in ref
        )
        pixels = sum(ref[s]["segmentation"].size for s in ref)
        assert same / pixels >= 0.999, (backend, same / pixels)
        fused = max(
            int(np.abs(got[s]["fused"].astype(int) - ref[s]["fused"].astype(int)).max())
            for s in ref
        )
        assert fused <= 2, (backend, fused)
