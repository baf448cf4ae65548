"""The Predictor's last step inside OpenVINO (backends/openvino_finish.py): the finished outputs
equal the Predictor's own post-processing of the float outputs, for the same network run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("openvino")
pytest.importorskip("onnxscript")

from sccosf_ros.backends.onnx_export import export_onnx
from sccosf_ros.backends.openvino_finish import FUSED_U8, LABELS
from sccosf_ros.backends.openvino_runner import OpenVINORunner
from sccosf_ros.inference import Predictor
from sccosf_ros.model.network import build_model
from sccosf_ros.paths import default_checkpoint
from sccosf_ros.synthetic.pairs import frame_pairs

SIZE = (64, 96)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    torch.manual_seed(0)
    model = build_model("nano", num_classes=5).eval()
    path = tmp_path_factory.mktemp("finish") / "nano.onnx"
    return export_onnx(model, path, SIZE, {})


def _inputs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, *SIZE, generator=gen), torch.rand(1, 1, *SIZE, generator=gen)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_finished_outputs_equal_the_predictors_postprocessing(graph, precision):
    cpu = torch.device("cpu")
    plain = OpenVINORunner(graph, cpu, 2, ["fused", "logits"], SIZE, precision=precision)
    done = OpenVINORunner(
        graph, cpu, 2, ["fused", "logits"], SIZE, precision=precision, finished=True
    )
    assert done.outputs == [FUSED_U8, LABELS] and done.finished
    post = Predictor(build_model("nano", num_classes=5), "cpu").postprocess
    for seed in range(3):
        rgb, thermal = _inputs(seed)
        fused, logits = plain.run(rgb, thermal)
        want_fused, want_labels = post(fused, logits, SIZE)
        fused_u8, labels = done.run(rgb, thermal)
        assert fused_u8.dtype == labels.dtype == torch.uint8
        assert fused_u8.shape == (1, 3, *SIZE) and labels.shape == (1, 1, *SIZE)
        got_fused, got_labels = post(fused_u8, labels, SIZE)
        np.testing.assert_array_equal(got_fused, want_fused)
        np.testing.assert_array_equal(got_labels, want_labels)


def test_ties_go_to_the_first_class_as_in_class_ids(tmp_path):
    """Equal logits (a constant classifier): TopK's stable sort picks class 0, as the
    Predictor's ``class_ids`` does."""
    torch.manual_seed(0)
    model = build_model("nano", num_classes=4).eval()
    head = model.seg_head.classifier[-1]  # ICRM's last 1x1 conv: every logit its bias
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(0.5)
    path = export_onnx(model, tmp_path / "flat.onnx", SIZE, {})
    runner = OpenVINORunner(path, torch.device("cpu"), 2, ["fused", "logits"], SIZE, finished=True)
    _, labels = runner.run(*_inputs(0))
    assert int(labels.max()) == 0


def test_predictor_finishes_at_the_native_size_and_resizes_floats_otherwise():
    """At the frames' own size the OpenVINO Predictor gets finished outputs; with an input
    size of its own it gets floats and resizes them back, as every backend does."""
    pairs = frame_pairs(2, SIZE, thermal_raw=False, seed=3)
    native = Predictor.from_checkpoint(default_checkpoint(), "cpu", backend="openvino")
    pred = native.predict(*pairs[0])
    runner = native.compiled.runner(SIZE, finished=True)
    assert runner.finished and pred.labels.shape == SIZE and pred.fused.shape == (*SIZE, 3)
    resized = Predictor.from_checkpoint(
        default_checkpoint(), "cpu", backend="openvino", input_size=(32, 48)
    )
    out = resized.predict(*pairs[1])
    assert not resized.compiled.runner((32, 48)).finished
    assert out.labels.shape == SIZE and out.fused.shape == (*SIZE, 3)


def test_prepare_builds_the_runner_predict_uses(tmp_path):
    """prepare() at start builds the variant the frames will need: the finishing one at the
    frames' own size, the float one where frames are resized to an input size."""
    native = Predictor.from_checkpoint(
        default_checkpoint(), "cpu", backend="openvino", cache_dir=tmp_path
    )
    native.prepare(SIZE)
    assert [k[2] for k in native.compiled._runners] == [True]
    fixed = Predictor.from_checkpoint(
        default_checkpoint(), "cpu", backend="openvino", cache_dir=tmp_path, input_size=SIZE
    )
    fixed.prepare()
    assert [k[2] for k in fixed.compiled._runners] == [False]
    fixed.predict(*frame_pairs(1, (32, 48), thermal_raw=False, seed=4)[0])  # resized frames
    assert [k[2] for k in fixed.compiled._runners] == [False]  # nothing built on the frame
