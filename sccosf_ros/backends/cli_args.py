"""The ``--backend`` / ``--cache-dir`` flags (``commands.model_options`` adds them with the
other model flags)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sccosf_ros.backends import BACKENDS

BACKEND_HELP = (
    "inference runtime: torch (eager, default) | onnxruntime | openvino (CPU) | tensorrt "
    "(CUDA); the non-torch ones export the checkpoint to ONNX once per input size into the "
    "cache folder"
)


def add_backend_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, default: str | None = "torch"
) -> None:
    """``--backend`` (``default`` None: unset, e.g. to leave a parameter file's value) and
    ``--cache-dir``."""
    parser.add_argument("--backend", choices=BACKENDS, default=default, help=BACKEND_HELP)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="folder for exported ONNX graphs / engines (default ~/.cache/sccosf_ros; node "
        "parameter backend.cache_dir)",
    )
