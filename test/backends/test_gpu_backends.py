"""TensorRT and ONNX Runtime's CUDA / TensorRT execution providers against torch fp32 (GPU
machines only: marked gpu, skipped without CUDA)."""

from __future__ import annotations

import pytest

from sccosf_ros.backends.parity import compare
from sccosf_ros.inference import Predictor
from sccosf_ros.paths import default_checkpoint
from sccosf_ros.synthetic.pairs import frame_pairs

SIZE = (128, 192)


@pytest.fixture(scope="module")
def reference():
    return Predictor.from_checkpoint(default_checkpoint(), "cpu")


@pytest.fixture(scope="module")
def pairs():
    return frame_pairs(3, SIZE, thermal_raw=False, seed=11)


@pytest.mark.gpu
def test_tensorrt_engine_meets_the_bar_and_is_cached(reference, pairs, tmp_path, capsys):
    pytest.importorskip("tensorrt")
    pred = Predictor.from_checkpoint(
        default_checkpoint(), "cuda", backend="tensorrt", cache_dir=tmp_path
    )
    pred.prepare(SIZE)
    assert "building TensorRT engine" in capsys.readouterr().err
    r = compare(reference, pred, pairs)
    assert r.passed, r.line()
    again = Predictor.from_checkpoint(
        default_checkpoint(), "cuda", backend="tensorrt", cache_dir=tmp_path
    )
    again.prepare(SIZE)
    assert "building" not in capsys.readouterr().err
    assert len(list((tmp_path / "tensorrt").glob("*.engine"))) == 1


@pytest.mark.gpu
def test_onnxruntime_cuda_provider_meets_the_bar(reference, pairs, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip("onnxruntime-gpu is not installed")
    pred = Predictor.from_checkpoint(
        default_checkpoint(), "cuda", backend="onnxruntime", cache_dir=tmp_path
    )
    assert pred.device.type == "cuda"
    r = compare(reference, pred, pairs)
    assert r.passed, r.line()


@pytest.mark.gpu
def test_onnxruntime_tensorrt_provider_meets_the_bar(reference, pairs, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    if "TensorrtExecutionProvider" not in ort.get_available_providers():
        pytest.skip("onnxruntime-gpu without the TensorRT provider")
    providers = [
        (
            "TensorrtExecutionProvider",
            {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(tmp_path / "ort_trt")},
        ),
        "CUDAExecutionProvider",
    ]
    pred = Predictor.from_checkpoint(
        default_checkpoint(),
        "cuda",
        backend="onnxruntime",
        cache_dir=tmp_path,
        backend_options={"providers": providers},
    )
    r = compare(reference, pred, pairs)
    assert r.passed, r.line()
