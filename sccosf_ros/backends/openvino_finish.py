"""The Predictor's last step run inside OpenVINO's graph: class ids and the uint8 fused image.

Where no resize follows the network (frames at the graph's own size), the Predictor's
post-processing is ``labels = first index of the largest logit`` and ``fused = rint(clip(255 ·
fused, 0, 255))`` as uint8 (H, W, 3) (``inference.predictor.class_ids`` / ``fused_uint8``). As
Python work after the network it costs ~3.5 ms a 640×480 pair on two cores (more right after an
OpenVINO call, whose worker threads still hold the cores), and the float outputs it reads are
15 MB that OpenVINO first converts from its bf16 channels-last layout to planar float32 (~1 ms).
``finish_outputs`` appends the same step to the OpenVINO model before it is compiled:

* ``labels``: TopK (k = 1 over the classes, ``stable``: the first of equal logits, as
  ``class_ids``) → uint8, (1, 1, H, W);
* ``fused_u8``: ×255 → clamp to [0, 255] → round half to even (numpy's ``rint``) → uint8,
  (1, 3, H, W) planes (the Predictor interleaves them with OpenCV in 0.05 ms; OpenVINO's
  uint8 Transpose took 0.8).

They replace the float outputs, so only what the Predictor keeps leaves the graph. The exported
ONNX file is unchanged (ONNX Runtime, TensorRT and ``sccosf export`` see the network's own
outputs); ``test/backends/test_openvino_finish.py`` checks the finished outputs equal the
Predictor's post-processing of the float ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FUSED_U8 = "fused_u8"
LABELS = "labels"


def _result_named(model: Any, name: str) -> Any | None:
    for result in model.get_results():
        if name in result.input(0).get_source_output().get_names() or name in (
            result.output(0).get_names()
        ):
            return result
    return None


def _labels(ops: Any, logits: Any) -> Any:
    top = ops.topk(logits, np.int64(1), 1, "max", "value", "i32", stable=True)
    return ops.convert(top.output(1), "u8")


def _fused_u8(ops: Any, fused: Any) -> Any:
    x = ops.clamp(ops.multiply(ops.convert(fused, "f32"), np.float32(255.0)), 0.0, 255.0)
    return ops.convert(ops.round(x, "half_to_even"), "u8")


# network output → (its finished form's name, the nodes that make it)
FINISHED = {"fused": (FUSED_U8, _fused_u8), "logits": (LABELS, _labels)}


def finish_outputs(model: Any, outputs: list[str]) -> list[str]:
    """Replace the network outputs ``outputs`` ("fused", "logits") of the OpenVINO ``model``
    (read, not compiled) by their finished forms, in place; returns the new output names in
    the same order."""
    import openvino.opset13 as ops

    names = []
    for name in outputs:
        result = _result_named(model, name)
        if result is None or name not in FINISHED:
            names.append(name)
            continue
        new_name, make = FINISHED[name]
        finished = ops.result(make(ops, result.input(0).get_source_output()))
        finished.output(0).get_tensor().set_names({new_name})
        model.remove_result(result)
        model.add_results([finished])
        names.append(new_name)
    return names
