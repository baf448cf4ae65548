"""The target line of ``sccosf bench runtime`` (issue 26's bar), judged from the measurements."""

from __future__ import annotations

from sccosf_ros.bench.runtime import TARGET_LABELS, TARGET_SPEEDUP, _verdict


def _results(**rows: dict) -> dict:
    base = {"device": "cpu", "p50_ms": 100.0}
    return {"presets": {"nano": {name: {**base, **r} for name, r in rows.items()}}}


def _torch() -> dict:
    return {"p50_ms": 300.0, "speedup_vs_torch": 1.0, "label_agreement": 1.0}


def test_the_target_is_issue_26s_bar():
    assert TARGET_SPEEDUP == 3.0 and TARGET_LABELS == 0.999


def test_the_fastest_cpu_backend_meets_the_target_with_both_parts():
    bf16 = {"p50_ms": 90.0, "speedup_vs_torch": 3.3, "label_agreement": 0.9995}
    fp32 = {"p50_ms": 150.0, "speedup_vs_torch": 2.0, "label_agreement": 1.0}
    line = _verdict(_results(torch=_torch(), openvino=fp32, **{"openvino:bf16": bf16}))
    assert line.startswith("best CPU backend for nano: openvino:bf16, 90.0 ms p50, 3.30x torch")
    assert "labels 99.950 % = torch" in line
    assert line.endswith(": meets the target (>= 3x torch eager at >= 99.9 % labels = torch fp32)")


def test_too_slow_or_too_few_equal_labels_misses_and_says_which():
    slow = _results(torch=_torch(), openvino={"speedup_vs_torch": 2.9, "label_agreement": 1.0})
    assert ": misses (speed-up) the target (>= 3x" in _verdict(slow)
    wrong = _results(torch=_torch(), openvino={"speedup_vs_torch": 3.5, "label_agreement": 0.998})
    assert "labels 99.800 % = torch: misses (labels) the target" in _verdict(wrong)
    both = _results(torch=_torch(), openvino={"speedup_vs_torch": 1.2, "label_agreement": 0.99})
    assert "misses (speed-up and labels)" in _verdict(both)


def test_without_torch_eager_in_the_run_the_target_is_missed_not_assumed():
    line = _verdict(_results(onnxruntime={}))
    assert "no torch eager run, labels not compared: misses (speed-up and labels)" in line


def test_no_cpu_backend_but_torch_gives_no_line():
    assert _verdict(_results(torch=_torch())) is None
    assert _verdict(_results(tensorrt={"device": "cuda", "speedup_vs_torch": 9.0})) is None
    assert _verdict({"presets": {"tiny": {}}}) is None
