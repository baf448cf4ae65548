"""``backend: auto`` / ``precision: auto``: what is chosen here, why, and that it stays at the
parity bar; the bf16 verdict is measured once and read from the cache after."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sccosf_ros.backends.auto import (
    Choice,
    bf16_hardware,
    cached_parity,
    choose_backend,
    choose_precision,
    is_x86,
    probe_pairs,
    runtime_version,
    selection_line,
)
from sccosf_ros.backends.cache import ArtifactCache
from sccosf_ros.backends.compiled import installed
from sccosf_ros.backends.errors import BackendError
from sccosf_ros.backends.parity import ParityReport, compare, thermal_is_raw

SIZE = (96, 128)


@pytest.fixture(autouse=True)
def _real_auto(real_auto_backend):
    """These tests are about the real ``auto`` choice (conftest pins it to torch elsewhere)."""


def _report(labels: float, fused: int = 1) -> ParityReport:
    return ParityReport("openvino", 4, 1000, labels, fused, 0.1)


def test_a_set_backend_or_precision_is_kept_as_it_is():
    assert choose_backend("onnxruntime", "cpu") == Choice("onnxruntime", False, "set")
    assert choose_precision("fp32", "openvino", lambda: _report(1.0)).value == "fp32"
    line = selection_line(Choice("torch", False, "set"), Choice("fp16", False, "set"))
    assert line == "backend torch (set); precision fp16 (set)"


def test_auto_on_the_cpu_prefers_openvino_then_onnxruntime_then_torch():
    choice = choose_backend("auto", "cpu")
    if is_x86() and installed("openvino"):
        assert choice.value == "openvino" and "x86 CPU, openvino" in choice.reason
    elif installed("onnxruntime"):
        assert choice.value == "onnxruntime"
    else:
        assert choice.value == "torch"
    assert choice.auto and choice.describe("backend").startswith("backend auto → ")
    if installed("onnxruntime"):
        assert runtime_version("onnxruntime")[0].isdigit()
    assert runtime_version("no-such-runtime") == "?"


def test_bf16_hardware_from_the_cpu_flags_and_openvino():
    assert bf16_hardware(frozenset({"avx2", "amx_bf16", "avx512_bf16"})) == "AMX"
    assert bf16_hardware(frozenset({"avx512_bf16"})) == "AVX512-BF16"
    assert bf16_hardware(frozenset({"avx2"})) is None
    assert bf16_hardware(frozenset({"amx_bf16"}), openvino_says=False) is None
    assert bf16_hardware(frozenset(), openvino_says=True) == "BF16 per OpenVINO"


def test_precision_auto_takes_bf16_only_within_the_parity_bar(monkeypatch):
    import sccosf_ros.backends.auto as auto

    monkeypatch.setattr(auto, "bf16_hardware", lambda openvino_says=None: "AMX")
    assert choose_precision("auto", "openvino", lambda: _report(0.9995)).value == "bf16"
    low = choose_precision("auto", "openvino", lambda: _report(0.998))
    assert low.value == "fp32" and "misses the parity bar" in low.reason
    assert choose_precision("auto", "openvino", lambda: _report(1.0, fused=3)).value == "fp32"
    assert choose_precision("auto", "openvino", lambda: None).value == "fp32"
    never = choose_precision("auto", "onnxruntime", lambda: pytest.fail("measured"))
    assert never.value == "fp32"
    monkeypatch.setattr(auto, "bf16_hardware", lambda openvino_says=None: None)
    plain = choose_precision("auto", "openvino", lambda: pytest.fail("measured"))
    assert plain.value == "fp32" and "without AMX" in plain.reason


def test_the_verdict_is_measured_once_then_read_from_the_cache(tmp_path):
    cache = ArtifactCache(tmp_path, notify=lambda _: None)
    calls = []

    def measure() -> ParityReport:
        calls.append(1)
        return _report(0.9996)

    fields = {"weights_sha256": "abc", "openvino": "x"}
    first = cached_parity(cache, "m", SIZE, fields, measure)
    again = cached_parity(cache, "m", SIZE, fields, measure)
    assert calls == [1] and first == again and again.passed
    (entry,) = (tmp_path / "parity").glob("m-96x128-*.json")
    entry.write_text("{not json")  # a damaged entry is measured again
    assert cached_parity(cache, "m", SIZE, fields, measure) == first and len(calls) == 2
    assert json.loads(entry.read_text())["passed"] is True
    cached_parity(cache, "m", SIZE, {**fields, "openvino": "y"}, measure)
    assert len(calls) == 3  # another runtime version: another verdict


def test_probe_pairs_are_fixed_frames_of_the_size_and_range():
    a, b = probe_pairs(SIZE, (7000.0, 9000.0), n=2), probe_pairs(SIZE, (7000.0, 9000.0), n=2)
    assert all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    rgb, thermal = a[0]
    assert rgb.shape == (*SIZE, 3) and rgb.dtype == np.uint8 and thermal.dtype == np.uint16
    assert thermal.min() >= 7000 and thermal.max() <= 9000 and rgb.std() > 10
    assert probe_pairs(SIZE, None, n=1)[0][1].dtype == np.uint8


def test_backend_auto_meets_the_parity_bar_and_says_what_it_chose(backend_cache):
    """The node's path (load_predictor) with the defaults backend/precision auto: one line
    saying what runs, and outputs within the parity bar of torch fp32 on the parity pairs."""
    from sccosf_ros.inference import Predictor
    from sccosf_ros.paths import default_checkpoint
    from sccosf_ros.pipeline.params import NodeParams
    from sccosf_ros.pipeline.processor import load_predictor
    from sccosf_ros.synthetic.pairs import frame_pairs

    params = NodeParams.from_dict(
        {
            "checkpoint": str(default_checkpoint()),
            "device": "cpu",
            "num_threads": 1,
            "inference.height": SIZE[0],
            "inference.width": SIZE[1],
            "backend.cache_dir": str(backend_cache),
        }
    )
    assert (params.backend, params.precision) == ("auto", "auto")  # the defaults
    lines: list[str] = []
    auto = load_predictor(params, info=lines.append)
    assert lines == [auto.selection] and lines[0].startswith("backend auto → ")
    assert f"precision auto → {auto.precision} (" in lines[0]
    assert auto.backend == choose_backend("auto", "cpu").value
    reference = Predictor.from_checkpoint(default_checkpoint(), "cpu", input_size=SIZE)
    report = compare(reference, auto, frame_pairs(3, SIZE, thermal_is_raw(reference)))
    assert report.passed, report.to_dict()
    again: list[str] = []
    assert load_predictor(params, info=again.append).precision == auto.precision
    assert again == lines  # the same choice from the cached verdict


def test_the_environment_can_pick_for_auto(monkeypatch):
    monkeypatch.setenv("SCCOSF_AUTO_BACKEND", "onnxruntime")
    chosen = choose_backend("auto", "cpu")
    assert chosen.value == "onnxruntime" and "SCCOSF_AUTO_BACKEND=onnxruntime" in chosen.reason
    assert choose_backend("torch", "cpu").value == "torch"  # a set backend wins
    monkeypatch.setenv("SCCOSF_AUTO_BACKEND", "fastest")
    with pytest.raises(BackendError, match=r"SCCOSF_AUTO_BACKEND='fastest'.*expected one of"):
        choose_backend("auto", "cpu")
