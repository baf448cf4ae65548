"""Errors of the inference backends, and the one-line message for a missing optional extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from sccosf_ros.errors import SccosfError

# backend → the pip extra that installs what it needs (setup.py extras_require)
EXTRAS = {
    "onnx": "onnx",  # the exporter: onnx + onnxscript (torch.onnx's dynamo exporter)
    "onnxruntime": "onnx",
    "openvino": "openvino",
    "tensorrt": "tensorrt",
}


class BackendError(SccosfError, RuntimeError):
    """An inference backend cannot run: bad ONNX file, unsupported device, failed build."""


class MissingExtraError(BackendError):
    """An optional dependency is not installed; the message names the extra to install."""


def require(module: str, extra: str, why: str) -> ModuleType:
    """Import ``module`` or raise MissingExtraError naming ``pip install 'sccosf_ros[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtraError(
            f"{why} needs the Python package {module.split('.')[0]!r}, which is not installed "
            f"({e}); install it with: pip install 'sccosf_ros[{extra}]'"
        ) from None
