"""PairProcessor: inference.max_pixels, thermal.min_valid and live configure, on a real nano
Predictor and rosbags Image messages (no ROS)."""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from sccosf_ros.bag.bag_io import IMAGE, make_header
from sccosf_ros.pipeline.image_codec import encode_image
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.processor import PairProcessor
from sccosf_ros.thermal import ThermalNorm

STORE = get_typestore(Stores.ROS2_HUMBLE)
FIXED = {"mode": "fixed", "low": 7000.0, "high": 9000.0}


@pytest.fixture(scope="module")
def predictor():
    import torch

    from sccosf_ros.inference import Predictor
    from sccosf_ros.model import build_model

    torch.manual_seed(0)
    return Predictor(build_model("nano", num_classes=9), "cpu", thermal_norm=FIXED)


def _msgs(h: int, w: int, thermal: np.ndarray | None = None, encoding: str = "mono16"):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if thermal is None:
        thermal = rng.integers(7000, 9000, (h, w), dtype=np.uint16)
    header = make_header(STORE, 1_000_000_000, "cam")
    cls = STORE.types[IMAGE]
    return (
        encode_image(rgb, "rgb8", header=header, msg_type=cls),
        encode_image(thermal, encoding, header=header, msg_type=cls),
    )


def test_inference_size_for_keeps_the_aspect_under_max_pixels():
    p = NodeParams.defaults()
    assert p.inference_max_pixels == 640 * 480
    assert p.inference_size_for(480, 640) is None  # exactly the limit: native
    h, w = p.inference_size_for(1080, 1920)
    assert h * w <= 640 * 480 and abs(w / h - 1920 / 1080) < 0.01 and h * w > 0.99 * 640 * 480
    assert NodeParams.from_dict({"inference.max_pixels": 0}).inference_size_for(4000, 6000) is None
    fixed = NodeParams.from_dict({"inference.height": 64, "inference.width": 80})
    assert fixed.inference_size_for(1080, 1920) == (64, 80)  # a fixed size wins
    assert fixed.inference_size_for(10, 10) == (64, 80)


def test_large_inputs_run_downscaled_and_results_come_back_full_size(predictor):
    notes = []
    params = NodeParams.from_dict({"inference.max_pixels": 48 * 64})
    proc = PairProcessor(params, predictor, info=notes.append)
    out = proc.process(*_msgs(96, 128))
    assert predictor.input_size == (48, 64)  # the network ran at a quarter of the area
    assert out.labels.shape == (96, 128) and out.fused.shape == (96, 128, 3)
    assert out.images["overlay"].shape == (96, 128, 3)
    proc.process(*_msgs(96, 128))
    assert len(notes) == 1 and "128x96 input runs at 64x48" in notes[0]  # once per size
    proc.process(*_msgs(40, 50))  # small enough: native
    assert predictor.input_size is None and len(notes) == 1


def test_live_inference_size_and_outputs_take_effect_on_the_next_pair(predictor):
    params = NodeParams.from_dict({"inference.height": 32, "inference.width": 32})
    proc = PairProcessor(params, predictor)
    proc.process(*_msgs(48, 64))
    assert predictor.input_size == (32, 32)
    proc.configure(params.updated({"inference.height": 16, "publish.overlay": False}))
    out = proc.process(*_msgs(48, 64))
    assert predictor.input_size == (16, 32) and "overlay" not in out.images
    assert proc.outputs == ("fused", "segmentation", "segmentation_color")


def test_live_thermal_normalisation_reaches_the_predictor_and_comes_back(predictor):
    predictor.checkpoint_thermal_norm = ThermalNorm.from_dict(FIXED)
    params = NodeParams.defaults()  # thermal.normalization = checkpoint
    proc = PairProcessor(params, predictor)
    assert predictor.thermal_norm.mode == "fixed"
    proc.configure(params.updated({"thermal.normalization": "minmax"}))
    assert predictor.thermal_norm.mode == "fixed"  # a running pair keeps its settings
    proc.process(*_msgs(24, 32))
    assert predictor.thermal_norm.mode == "minmax"
    proc.configure(proc.params.updated({"thermal.normalization": "checkpoint"}))
    proc.process(*_msgs(24, 32))
    assert predictor.thermal_norm == ThermalNorm.from_dict(FIXED)
    del predictor.checkpoint_thermal_norm


@pytest.mark.parametrize(
    ("bad_fraction", "min_valid", "accepted"),
    [(1.0, 0.5, False), (1.0, 0.0, False), (0.6, 0.5, False), (0.1, 0.5, True), (0.6, 0.3, True)],
)
def test_thermal_min_valid(predictor, bad_fraction, min_valid, accepted):
    h, w = 20, 30
    thermal = np.full((h, w), 8000.0, np.float32)
    flat = thermal.reshape(-1)
    n_bad = round(bad_fraction * flat.size)
    flat[:n_bad] = np.nan
    flat[: n_bad // 2] = np.inf
    params = NodeParams.from_dict(
        {"thermal.min_valid": min_valid, "thermal.normalization": "fixed", "thermal.low": 7000.0}
    )
    warned = []
    proc = PairProcessor(params, predictor, warn=lambda kind, msg: warned.append((kind, msg)))
    out = proc.process(*_msgs(h, w, thermal, "32FC1"))
    c = proc.stats.snapshot().counters
    if accepted:
        assert out is not None and c["malformed"] == 0 and c["thermal_nan_frames"] == 1
    else:
        assert out is None and c["malformed_thermal"] == 1
        assert warned[0][0] == "malformed_thermal" and "finite" in warned[0][1]


def test_parameter_updates_are_validated_as_a_whole():
    from sccosf_ros.pipeline.params import ParameterError

    p = NodeParams.from_dict({"inference.height": 32, "inference.width": 32})
    with pytest.raises(ParameterError, match="both be 0"):
        p.updated({"inference.height": 0})
    assert p.updated({"inference.height": 0, "inference.width": 0}).inference_size is None
    with pytest.raises(ParameterError, match="restart to change"):
        p.updated({"checkpoint": "/other.pt"})
    assert p.updated({"checkpoint": ""}) == p  # unchanged read-only values pass
    with pytest.raises(ParameterError, match=r"thermal\.min_valid"):
        p.updated({"thermal.min_valid": 1.5})
    with pytest.raises(ParameterError, match="must be a number"):
        p.updated({"overlay_alpha": "x"})


def test_a_1x1_pair_is_segmented_like_any_other(predictor):
    """The decision for tiny frames: accepted. The network pads every input to its stride
    (32 px), so a 1x1 pair decodes, runs and comes back 1x1; there is no minimum size, since
    small thermal arrays (8x8, 32x24) are real sensors (docs/robot.md, bad messages)."""
    proc = PairProcessor(NodeParams.from_dict({}), predictor)
    out = proc.process(*_msgs(1, 1))
    assert out.labels.shape == (1, 1) and out.fused.shape == (1, 1, 3)
    assert out.images["overlay"].shape == (1, 1, 3)
