"""Precision per backend: OpenVINO's bfloat16 stays within the parity bar; the rest is refused."""

from __future__ import annotations

import pytest

from sccosf_ros.backends.parity import compare, thermal_is_raw
from sccosf_ros.inference import Predictor
from sccosf_ros.paths import default_checkpoint
from sccosf_ros.synthetic.pairs import frame_pairs

SIZE = (96, 128)


def test_openvino_bf16_meets_the_parity_bar(backend_cache):
    pytest.importorskip("openvino")
    ckpt = default_checkpoint()
    torch_pred = Predictor.from_checkpoint(ckpt, "cpu")
    bf16 = Predictor.from_checkpoint(
        ckpt, "cpu", backend="openvino", precision="bf16", cache_dir=backend_cache
    )
    assert bf16.precision == "bf16"
    report = compare(torch_pred, bf16, frame_pairs(3, SIZE, thermal_is_raw(torch_pred)))
    assert report.passed, report.to_dict()


@pytest.mark.parametrize(
    ("backend", "precision"), [("onnxruntime", "bf16"), ("openvino", "fp16"), ("torch", "int8")]
)
def test_a_precision_the_backend_cannot_run_is_refused(backend, precision):
    with pytest.raises(ValueError, match="precision"):
        Predictor.from_checkpoint(
            default_checkpoint(), "cpu", backend=backend, precision=precision
        )
