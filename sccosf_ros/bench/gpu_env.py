"""GPU check part ``env``: versions, the GPU, and which optional packages import (mamba-ssm,
Triton, TensorRT, ONNX Runtime) — what the other parts' figures depend on."""

from __future__ import annotations

import os
import platform

import torch

from sccosf_ros.bench.gpu_context import PartContext, import_status


def part_env(ctx: PartContext) -> None:
    from sccosf_ros.model import ssm
    from sccosf_ros.model.ssm import triton_kernels

    r = ctx.results
    r["python"] = platform.python_version()
    r["torch"] = torch.__version__
    r["torch_cuda"] = torch.version.cuda
    r["cpu_count"] = os.cpu_count()
    r["cuda_available"] = torch.cuda.is_available()
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        r["gpu"] = {
            "name": p.name,
            "capability": f"{p.major}.{p.minor}",
            "sms": p.multi_processor_count,
            "memory_gb": round(p.total_memory / 2**30, 1),
            "count": torch.cuda.device_count(),
        }
    r["triton"] = import_status("triton")
    r["triton"]["interpreter"] = triton_kernels.interpreted()
    kernel = import_status("mamba_ssm.ops.selective_scan_interface")  # the CUDA kernel itself
    r["mamba_ssm"] = import_status("mamba_ssm") if kernel["available"] else kernel
    r["tensorrt"] = import_status("tensorrt")
    r["onnxruntime"] = import_status("onnxruntime")
    if r["onnxruntime"]["available"]:
        import onnxruntime

        r["onnxruntime"]["providers"] = onnxruntime.get_available_providers()
    r["scan_backend_auto_on_cuda"] = ssm.choose_backend(
        "auto", "cuda", mamba_ssm=r["mamba_ssm"]["available"], triton=r["triton"]["available"]
    )
    ctx.save()
