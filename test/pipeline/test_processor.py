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


# --------------------------------------------------------------------------- thermal units
def _street(h: int, w: int, engine_c: float | None = None) -> np.ndarray:
    """Kelvin on a 0.1 K grid (exact in centi- and decikelvin): a textured 15-20 °C street, a
    33 °C person, and optionally a hot engine."""
    rng = np.random.default_rng(1)
    k = 288.0 + 0.1 * rng.integers(0, 50, (h, w))
    k[8:40, 6:20] = 306.2  # 33.05 °C
    if engine_c is not None:
        k[20:44, 36:60] = round(engine_c + 273.15, 1)
    return k


def _published(kelvin: np.ndarray, units: str) -> tuple[np.ndarray, str]:
    """The scene as a driver publishes it in ``units``: the array and its Image encoding."""
    if units == "centikelvin":
        return np.round(kelvin * 100).astype(np.uint16), "mono16"
    if units == "decikelvin":
        return np.round(kelvin * 10).astype(np.uint16), "16UC1"
    return (kelvin - 273.15).astype(np.float32), "32FC1"


def _model_input(proc: PairProcessor, thermal: np.ndarray, encoding: str):
    """Run one pair; the normalised thermal array the Predictor hands the network, and labels."""
    out = proc.process(*_msgs(*thermal.shape, thermal, encoding))
    _, x_th = proc.predictor.preprocess(out.rgb, out.thermal)
    return x_th[0, 0].numpy(), out.labels


@pytest.mark.parametrize(("units", "engine_c"), [("decikelvin", 400.0), ("celsius", 400.0)])
def test_the_models_thermal_input_ignores_a_hot_engine_in_temperature_mode(
    predictor, units, engine_c
):
    person = (slice(8, 40), slice(6, 20))
    seen = {}
    for mode in ("temperature", "minmax"):
        params = NodeParams.from_dict({"thermal.normalization": mode, "thermal.units": units})
        proc = PairProcessor(params, predictor)
        calm, _ = _model_input(proc, *_published(_street(48, 64), units))
        hot, _ = _model_input(proc, *_published(_street(48, 64, engine_c), units))
        seen[mode] = (float(calm[person].mean()), float(hot[person].mean()))
    calm, hot = seen["temperature"]
    assert calm == pytest.approx(43.05 / 50, abs=1e-3)  # 33.05 °C in [-10, 40]
    assert abs(hot - calm) <= 0.01 * calm
    calm, hot = seen["minmax"]
    assert abs(hot - calm) > 0.5 * calm  # per-frame stretch: the person turns dark


def test_centikelvin_decikelvin_and_celsius_give_the_same_labels(predictor):
    kelvin = _street(48, 64)
    results = {}
    for units in ("centikelvin", "decikelvin", "celsius"):
        params = NodeParams.from_dict(
            {"thermal.normalization": "temperature", "thermal.units": units}
        )
        results[units] = _model_input(PairProcessor(params, predictor), *_published(kelvin, units))
    x_ref, labels_ref = results["celsius"]
    for units in ("centikelvin", "decikelvin"):
        x, labels = results[units]
        np.testing.assert_allclose(x, x_ref, atol=1e-5)
        assert np.array_equal(labels, labels_ref), units


def test_crop_removes_telemetry_rows_before_registration(predictor):
    """A Boson-style 640x514 raw frame (2 telemetry rows) beside a 640x512 RGB image."""
    rng = np.random.default_rng(2)
    clean = rng.integers(7000, 9000, (512, 640), dtype=np.uint16)
    raw = np.vstack([clean, rng.integers(0, 65536, (2, 640), dtype=np.uint16)])
    base = {"inference.height": 32, "inference.width": 40}
    proc = PairProcessor(NodeParams.from_dict(base), predictor)
    want = proc.process(*_msgs(512, 640, clean))
    rgb_msg, _ = _msgs(512, 640)
    _, raw_msg = _msgs(514, 640, raw)
    assert proc.process(rgb_msg, raw_msg) is None  # uncropped: 514 rows do not fit
    assert proc.stats.snapshot().counters["size_mismatch"] == 1
    proc.configure(NodeParams.from_dict({**base, "thermal.crop": [0, 2, 0, 0]}))
    got = proc.process(rgb_msg, raw_msg)
    assert np.array_equal(got.thermal, clean) and np.array_equal(got.labels, want.labels)
    assert np.array_equal(got.fused, want.fused)


def test_a_crop_larger_than_the_image_counts_the_frame_as_malformed(predictor):
    warned = []
    params = NodeParams.from_dict(
        {"thermal.crop": [10, 10, 0, 0], "thermal.normalization": "minmax"}
    )
    proc = PairProcessor(params, predictor, warn=lambda kind, msg: warned.append((kind, msg)))
    assert proc.process(*_msgs(20, 30)) is None
    assert proc.stats.snapshot().counters["malformed_thermal"] == 1
    assert warned == [
        (
            "malformed_thermal",
            "thermal image rejected: thermal.crop [10, 10, 0, 0] (top, bottom, left, right) "
            "leaves nothing of the 30x20 thermal image: it must keep at least one row and one "
            "column",
        )
    ]


def test_the_node_uses_a_temperature_checkpoints_setting_and_the_cameras_units(tmp_path):
    from sccosf_ros.inference import save_checkpoint
    from sccosf_ros.model import build_model
    from sccosf_ros.pipeline.processor import load_predictor

    trained = ThermalNorm(mode="temperature", units="centikelvin", window_low=-5, window_high=35)
    path = save_checkpoint(
        tmp_path / "t.pt", build_model("nano", num_classes=9), thermal_norm=trained
    )
    params = NodeParams.from_dict({"checkpoint": str(path), "device": "cpu", "backend": "torch"})
    pred = load_predictor(params)  # thermal.normalization = checkpoint
    assert pred.thermal_norm == trained
    proc = PairProcessor(params, pred)
    proc.configure(params.updated({"thermal.units": "celsius"}))  # a 32FC1 camera instead
    kelvin = _street(48, 64)
    x_c, _ = _model_input(proc, *_published(kelvin, "celsius"))
    assert (pred.thermal_norm.units, pred.thermal_norm.window_high) == ("celsius", 35.0)
    proc.configure(proc.params.updated({"thermal.units": "counts"}))  # back to the file's
    x_ck, _ = _model_input(proc, *_published(kelvin, "centikelvin"))
    assert pred.thermal_norm == trained
    np.testing.assert_allclose(x_c, x_ck, atol=1e-5)


def test_a_1x1_pair_is_segmented_like_any_other(predictor):
    """The decision for tiny frames: accepted. The network pads every input to its stride
    (32 px), so a 1x1 pair decodes, runs and comes back 1x1; there is no minimum size, since
    small thermal arrays (8x8, 32x24) are real sensors (docs/robot.md, bad messages)."""
    proc = PairProcessor(NodeParams.from_dict({}), predictor)
    out = proc.process(*_msgs(1, 1))
    assert out.labels.shape == (1, 1) and out.fused.shape == (1, 1, 3)
    assert out.images["overlay"].shape == (1, 1, 3)


def _thermal_msg(thermal: np.ndarray, t_ns: int, encoding: str = "mono16"):
    header = make_header(STORE, t_ns, "thermal")
    return encode_image(thermal, encoding, header=header, msg_type=STORE.types[IMAGE])


def test_shutter_frames_are_kept_out_at_admission_and_counted(predictor):
    """Closed-shutter frames (one per second of a 60 s FFC cycle here) never reach the pairer:
    admit says False, they count as FFC frames and events, not as malformed."""
    rng = np.random.default_rng(1)
    scene = rng.integers(7000, 9000, (24, 32), dtype=np.uint16)
    shutter = (8000 + rng.normal(0, 2, (24, 32))).astype(np.uint16)
    warned = []
    proc = PairProcessor(
        NodeParams.from_dict({"thermal.ffc.frozen": True}),
        predictor,
        warn=lambda kind, msg: warned.append(kind),
    )
    s = 1_000_000_000
    admitted = []
    for cycle in range(3):  # each: a good frame, a 3-frame shutter closure, a frozen repeat
        t0 = cycle * 60 * s
        seq = [scene + cycle, shutter, shutter + 1, shutter, scene + cycle + 10]
        seq.append(seq[-1])  # frozen: the last frame again
        admitted += [
            proc.admit("thermal", _thermal_msg(f, t0 + i * s // 9)) for i, f in enumerate(seq)
        ]
    assert admitted == [True, False, False, False, True, False] * 3
    snap = proc.stats.snapshot()
    c = snap.counters
    assert c["thermal_ffc_frames"] == 12 and c["thermal_ffc_events"] == 6
    assert c["malformed"] == 0 and c["thermal_received"] == 18
    assert snap.held["thermal_ffc"].total == 12 and snap.held["thermal_ffc"].held
    # events at 1/9 s and 5/9 s of each minute: (120 + 5/9 - 1/9) s over 5 intervals
    assert snap.ffc_interval_s == pytest.approx((120 + 4 / 9) / 5)
    assert set(warned) == {"thermal_ffc"}
    # live: both checks off, the same frames pass
    proc.configure(proc.params.updated({"thermal.ffc.frozen": False, "thermal.ffc.min_spread": 0}))
    assert proc.admit("thermal", _thermal_msg(shutter, 200 * s))
    assert proc.admit("thermal", _thermal_msg(shutter, 201 * s))
    assert proc.admit("rgb", _msgs(24, 32)[0])  # RGB is never a shutter frame
