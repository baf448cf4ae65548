"""The ``--backend`` / ``--cache-dir`` flags (``commands.model_options`` adds them with the
other model flags)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sccosf_ros.backends import BACKEND_CHOICES

BACKEND_HELP = (
    "inference runtime: auto (default: tensorrt on an NVIDIA GPU when installed, else torch "
    "on CUDA, openvino on an x86 CPU when installed, else onnxruntime, else torch) | torch "
    "(eager) | onnxruntime | openvino (CPU) | tensorrt (CUDA); the non-torch ones export the "
    "checkpoint to ONNX once per input size into the cache folder"
)


def add_backend_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, default: str | None = "auto"
) -> None:
    """``--backend`` (``default`` None: unset, e.g. to leave a parameter file's value) and
    ``--cache-dir``."""
    parser.add_argument("--backend", choices=BACKEND_CHOICES, default=default, help=BACKEND_HELP)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="folder for exported ONNX graphs / engines (default ~/.cache/sccosf_ros; node "
        "parameter backend.cache_dir)",
    )
