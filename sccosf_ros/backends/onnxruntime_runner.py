"""ONNX Runtime backend: an exported graph in an ``onnxruntime.InferenceSession``.

Execution providers by device: ``cpu`` → CPUExecutionProvider; ``cuda[:N]`` → CUDA (device N)
with CPU fallback for any op CUDA lacks (``pip install 'sccosf_ros[tensorrt]'`` brings
onnxruntime-gpu). ``providers`` overrides the list, e.g. ``["TensorrtExecutionProvider",
"CUDAExecutionProvider"]`` for ONNX Runtime's TensorRT provider. CPU sessions use the
process's torch thread count (``num_threads``) for intra-op work, one inter-op thread, full graph
optimisation, and no spin-waiting when OMP_WAIT_POLICY=PASSIVE (as the node sets).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from sccosf_ros.backends.errors import EXTRAS, BackendError, require
from sccosf_ros.backends.runner import passive_waits, split_outputs


def _providers(device: torch.device, ort: Any) -> list[Any]:
    if device.type == "cpu":
        return ["CPUExecutionProvider"]
    available = ort.get_available_providers()
    if "CUDAExecutionProvider" not in available:
        raise BackendError(
            f"backend onnxruntime on {device} needs onnxruntime-gpu (CUDAExecutionProvider; "
            f"this onnxruntime has {', '.join(available)}): pip install "
            "'sccosf_ros[tensorrt]', or use device cpu"
        )
    return [("CUDAExecutionProvider", {"device_id": device.index or 0}), "CPUExecutionProvider"]


class OnnxRuntimeRunner:
    """One InferenceSession over an exported file (see ``onnx_export`` for its I/O)."""

    name = "onnxruntime"

    def __init__(
        self,
        path: str | os.PathLike,
        device: torch.device,
        threads: int,
        outputs: list[str],
        input_size: tuple[int, int],
        providers: list[Any] | None = None,
    ) -> None:
        ort = require("onnxruntime", EXTRAS["onnxruntime"], "backend onnxruntime")
        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, int(threads))
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3  # errors only: constant-folding notes are not for users
        if passive_waits():
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(path), so, providers=providers or _providers(device, ort)
            )
        except Exception as e:  # InvalidProtobuf, Fail, NoSuchFile, ...
            raise BackendError(
                f"ONNX Runtime cannot load {str(path)!r} ({type(e).__name__}: {str(e)[:300]})"
            ) from None
        self.device = device if device.type == "cuda" else torch.device("cpu")
        self.outputs = list(outputs)
        self.input_size = input_size
        self._cuda = self.device.type == "cuda"

    def run(
        self, rgb: torch.Tensor, thermal: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if self._cuda:
            return self._run_cuda(rgb, thermal)
        feeds = {"rgb": rgb.contiguous().numpy(), "thermal": thermal.contiguous().numpy()}
        return split_outputs(self.outputs, self.session.run(self.outputs, feeds))

    def _run_cuda(
        self, rgb: torch.Tensor, thermal: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Inputs and outputs stay on the GPU (IO binding over torch CUDA tensors)."""
        binding = self.session.io_binding()
        index = self.device.index or 0
        for name, t in (("rgb", rgb.contiguous()), ("thermal", thermal.contiguous())):
            binding.bind_input(name, "cuda", index, np.float32, tuple(t.shape), t.data_ptr())
        shapes = {o.name: tuple(o.shape) for o in self.session.get_outputs()}
        values = [torch.empty(shapes[n], device=self.device) for n in self.outputs]
        for name, t in zip(self.outputs, values, strict=True):
            binding.bind_output(name, "cuda", index, np.float32, tuple(t.shape), t.data_ptr())
        binding.synchronize_inputs()
        self.session.run_with_iobinding(binding)
        binding.synchronize_outputs()
        return split_outputs(self.outputs, values)
