"""Inference backends behind the one ``Predictor``: torch eager, ONNX Runtime, OpenVINO and
TensorRT, and the ONNX export and on-disk cache they share.

One file per part: ``runner`` (the interface, and the torch runner), ``onnx_export`` (graph +
metadata), ``cache`` (keys, atomic files), ``compiled`` (runners per input size, built through
the cache), ``onnxruntime_runner``, ``openvino_runner``, ``tensorrt_runner``, ``parity`` (the
exported graph against torch), ``errors``, ``cli_args`` (the backend flags the commands
share), ``auto`` (what ``backend: auto`` / ``precision: auto`` choose here). Optional
dependencies come from pip extras:
``[onnx]`` (onnx, onnxscript, onnxruntime), ``[openvino]``, ``[tensorrt]`` (tensorrt,
onnxruntime-gpu); a missing one is a MissingExtraError naming the extra.
"""

from sccosf_ros.backends.errors import BackendError, MissingExtraError

# Light on purpose (no torch import): pipeline.params and the CLI read these names.
BACKENDS = ("torch", "onnxruntime", "openvino", "tensorrt")
GRAPH_BACKENDS = BACKENDS[1:]  # the ones that run an exported ONNX graph
BACKEND_CHOICES = ("auto", *BACKENDS)  # what a user may ask for (auto: ``backends.auto``)

__all__ = ["BACKENDS", "BACKEND_CHOICES", "GRAPH_BACKENDS", "BackendError", "MissingExtraError"]
