"""TensorRT backend: an engine built from the exported graph, run on torch CUDA tensors.

The engine is built once per (graph, GPU, TensorRT version, precision) into the backends'
cache (``tensorrt/*.engine``, see ``backends.cache``) and deserialised on later starts.
Inputs and outputs are torch CUDA tensors whose device pointers are handed to the execution
context (``set_tensor_address`` + ``execute_async_v3`` on torch's current stream), so no copy
goes through the host and no extra CUDA binding package is needed.

Precision (``backend_options={"precision": ...}``): ``fp32`` (default: what the parity bar
compares against) or ``fp16``: the convolutions in half precision where TensorRT finds that
faster, every other layer held in float32 (``half_precision_convolutions_only``): the exported
selective scan takes exps up to e^±64 (``model/ssm/graph.py``), far past fp16's range (6.5e4);
measure its parity with ``backends.parity.compare`` before deploying it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from sccosf_ros.backends.cache import atomic_write_bytes
from sccosf_ros.backends.errors import EXTRAS, BackendError, require
from sccosf_ros.precision import BACKEND_PRECISIONS

PRECISIONS = BACKEND_PRECISIONS["tensorrt"]
WORKSPACE_BYTES = 2 << 30


def _trt() -> Any:
    return require("tensorrt", EXTRAS["tensorrt"], "backend tensorrt")


def engine_fields(device: torch.device, precision: str) -> dict[str, str]:
    """What an engine depends on besides its ONNX graph (part of its cache key)."""
    trt = _trt()
    props = torch.cuda.get_device_properties(device)
    return {
        "tensorrt": trt.__version__,
        "gpu": props.name,
        "compute_capability": f"{props.major}.{props.minor}",
        "precision": precision,
    }


def build_engine(onnx_path: str | os.PathLike, engine_path: Path, precision: str = "fp32") -> None:
    """Parse the ONNX file, build a serialised engine, write it atomically."""
    trt = _trt()
    if precision not in PRECISIONS:
        raise BackendError(f"tensorrt precision must be one of {', '.join(PRECISIONS)}")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BackendError(f"TensorRT cannot parse {str(onnx_path)!r}: {errors[:500]}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
    if precision == "fp16":
        flag = getattr(trt.BuilderFlag, "FP16", None)
        if flag is None:
            raise BackendError(f"this TensorRT ({trt.__version__}) has no FP16 builder flag")
        config.set_flag(flag)
        half_precision_convolutions_only(trt, network, config)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BackendError(f"TensorRT failed to build an engine from {str(onnx_path)!r}")
    atomic_write_bytes(engine_path, bytes(serialized))


def half_precision_convolutions_only(trt: Any, network: Any, config: Any) -> None:
    """With the FP16 flag set: every layer but the (de)convolutions computes and outputs
    float32 (TensorRT's layer precision constraints, preferred), like torch's autocast keeps
    elementwise maths in float. The graph scan's ``exp(±q)`` and the MatMuls that sum its
    products reach ~1e28 (|q| ≤ 64), which fp16 (max 65504) turns into inf."""
    flag = getattr(trt.BuilderFlag, "PREFER_PRECISION_CONSTRAINTS", None) or getattr(
        trt.BuilderFlag, "OBEY_PRECISION_CONSTRAINTS", None
    )
    if flag is None:
        raise BackendError(
            f"this TensorRT ({trt.__version__}) cannot hold layers in float32 under FP16: "
            "use precision fp32"
        )
    config.set_flag(flag)
    half = {trt.LayerType.CONVOLUTION, trt.LayerType.DECONVOLUTION}
    floats = {trt.float32, trt.float16}
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        if layer.type in half:
            continue
        outputs = [layer.get_output(j) for j in range(layer.num_outputs)]
        if not outputs or any(t.dtype not in floats for t in outputs):
            continue  # shape, index and boolean layers keep their own types
        layer.precision = trt.float32
        for j in range(layer.num_outputs):
            layer.set_output_type(j, trt.float32)


class TensorRTRunner:
    """A deserialised engine and one execution context on a CUDA device."""

    name = "tensorrt"

    def __init__(
        self,
        engine_path: str | os.PathLike,
        device: torch.device,
        outputs: list[str],
        input_size: tuple[int, int],
    ) -> None:
        trt = _trt()
        if device.type != "cuda":
            raise BackendError(
                f"backend tensorrt needs a CUDA device, not {device}: use device cuda (or "
                "auto on a machine with CUDA), or backend openvino/onnxruntime on the CPU"
            )
        self.device = device
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        with torch.cuda.device(device):
            self.engine = self.runtime.deserialize_cuda_engine(Path(engine_path).read_bytes())
            if self.engine is None:
                raise BackendError(f"TensorRT cannot deserialise {str(engine_path)!r}")
            self.context = self.engine.create_execution_context()
        self.outputs = list(outputs)
        self.input_size = input_size
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self.shapes = {n: tuple(self.engine.get_tensor_shape(n)) for n in names}

    def run(
        self, rgb: torch.Tensor, thermal: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        stream = torch.cuda.current_stream(self.device)
        inputs = {"rgb": rgb.contiguous(), "thermal": thermal.contiguous()}
        for name, t in inputs.items():
            self.context.set_tensor_address(name, t.data_ptr())
        out = {n: torch.empty(self.shapes[n], device=self.device) for n in self.outputs}
        for name, t in out.items():
            self.context.set_tensor_address(name, t.data_ptr())
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise BackendError("TensorRT execution failed")
        return out.get("fused"), out.get("logits")
