"""OpenVINO backend: an exported graph compiled for the CPU by OpenVINO Runtime.

Settings and why:

* ``INFERENCE_PRECISION_HINT = f32`` unless ``precision`` is ``bf16``: on CPUs with
  AVX-512 BF16 / AMX (this project's machines among them) OpenVINO otherwise runs in bfloat16,
  which moved 0.08 % of the nano model's labels on random input and would not be the fp32
  model the parity bar is about. ``precision: bf16`` asks for exactly that on purpose: 1.4×
  faster for nano at 480×640 here, 99.96–99.99 % of the labels and fused images within 2/255
  of fp32 on synthetic scenes (inside the parity bar);
* ``INFERENCE_NUM_THREADS`` = the process's torch thread count (``num_threads``), one stream,
  ``PERFORMANCE_HINT = LATENCY`` (one pair at a time, as the node runs);
* ``CACHE_DIR`` = ``<backend.cache_dir>/openvino``: OpenVINO keys and stores the compiled
  model itself (its key covers the model, the OpenVINO version and these settings), so a
  restart skips most of the compile. A compiled-cache entry OpenVINO cannot read is dropped and
  compiled again.

Only the CPU device: ``device`` must be ``auto`` or ``cpu`` (OpenVINO's GPU plugin is for
Intel GPUs, which this project does not target; use onnxruntime or tensorrt on NVIDIA).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import torch

from sccosf_ros.backends.errors import EXTRAS, BackendError, require
from sccosf_ros.backends.openvino_finish import finish_outputs
from sccosf_ros.backends.runner import split_outputs

PRECISION_HINTS = {"fp32": "f32", "bf16": "bf16"}  # precision → INFERENCE_PRECISION_HINT


def compile_options(threads: int, precision: str, *, profile: bool = False) -> dict:
    """The CPU plugin's settings (module docstring); ``profile`` adds ``PERF_COUNT``, OpenVINO's
    per-node performance counters (``sccosf bench runtime --profile``; they cost time, so
    the runner that is timed never has them)."""
    config = {
        "INFERENCE_NUM_THREADS": max(1, int(threads)),
        "INFERENCE_PRECISION_HINT": PRECISION_HINTS[precision],
        "PERFORMANCE_HINT": "LATENCY",
        "NUM_STREAMS": 1,
    }
    return {**config, "PERF_COUNT": True} if profile else config


class OpenVINORunner:
    """One compiled model and infer request over an exported file."""

    name = "openvino"

    def __init__(
        self,
        path: str | os.PathLike,
        device: torch.device,
        threads: int,
        outputs: list[str],
        input_size: tuple[int, int],
        cache_dir: str | os.PathLike | None = None,
        precision: str = "fp32",
        profile: bool = False,
        finished: bool = False,
    ) -> None:
        ov = require("openvino", EXTRAS["openvino"], "backend openvino")
        if precision not in PRECISION_HINTS:
            raise BackendError(
                f"backend openvino runs {' or '.join(PRECISION_HINTS)}, not precision {precision}"
            )
        if device.type != "cpu":
            raise BackendError(
                f"backend openvino runs on the CPU only, not on {device}: use device cpu (or "
                "auto), or backend onnxruntime/tensorrt for NVIDIA GPUs"
            )
        config = compile_options(threads, precision, profile=profile)
        self.core = ov.Core()
        try:
            model = self.core.read_model(str(path))
        except Exception as e:
            raise BackendError(
                f"OpenVINO cannot read {str(path)!r} ({type(e).__name__}: {str(e)[:300]})"
            ) from None
        self.outputs = list(outputs)
        if finished:  # the Predictor's last step in the graph (backends/openvino_finish.py)
            self.outputs = finish_outputs(model, self.outputs)
        self.finished = finished
        self.compiled = self._compile(model, config, cache_dir)
        self.request = self.compiled.create_infer_request()
        self.device = torch.device("cpu")
        self.input_size = input_size

    def _compile(self, model: object, config: dict, cache_dir: str | os.PathLike | None):
        if cache_dir is None:
            return self.core.compile_model(model, "CPU", config)
        folder = Path(cache_dir)
        try:
            return self.core.compile_model(model, "CPU", {**config, "CACHE_DIR": str(folder)})
        except Exception:  # a damaged compiled-model cache: drop it and compile afresh
            shutil.rmtree(folder, ignore_errors=True)
            return self.core.compile_model(model, "CPU", config)

    def run(
        self, rgb: torch.Tensor, thermal: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        feeds = {
            "rgb": np.ascontiguousarray(rgb.numpy()),
            "thermal": np.ascontiguousarray(thermal.numpy()),
        }
        # the request's own output buffers, valid until the next run (the Predictor
        # post-processes them at once; copying 15 MB at 480x640 would cost ~3 ms a pair)
        result = self.request.infer(feeds, share_inputs=True, share_outputs=True)
        values = [result[self.compiled.output(n)] for n in self.outputs]
        return split_outputs(self.outputs, values)

    def node_times(self) -> list[tuple[str, str, float]]:
        """(node type, execution type, ms) of every node the last ``run`` executed, from
        ``InferRequest.profiling_info``; empty unless the runner was made with ``profile``.

        The node types are the CPU plugin's after its fusions (``Subgraph``: fused elementwise
        chains; ``Reorder``: layout or precision conversions it inserted)."""
        executed = []
        for info in self.request.profiling_info:
            if info.status == info.Status.EXECUTED:
                ms = info.real_time.total_seconds() * 1e3
                executed.append((info.node_type, info.exec_type, ms))
        return executed
