"""Numeric precisions, once: their names, which backend runs which, and torch's dtype for each.

No torch import at module level: the parameter table and argparse choices read the names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sccosf_ros.errors import SccosfError

if TYPE_CHECKING:
    import torch

PRECISIONS = ("fp32", "fp16", "bf16")
PRECISION_CHOICES = ("auto", *PRECISIONS)  # what a user may ask for (auto: backends.auto)
# backend → the precisions it runs (anything not named runs fp32 only)
BACKEND_PRECISIONS: dict[str, tuple[str, ...]] = {
    "torch": PRECISIONS,
    "tensorrt": ("fp32", "fp16"),
    "openvino": ("fp32", "bf16"),
    "onnxruntime": ("fp32",),
}


class PrecisionError(SccosfError, ValueError):
    """A precision that does not exist, or that the chosen backend cannot run."""


def backend_precisions(backend: str) -> tuple[str, ...]:
    return BACKEND_PRECISIONS.get(backend, ("fp32",))


def check_precision(precision: str, backend: str) -> str:
    """``precision`` if ``backend`` can run it; PrecisionError saying what can."""
    if precision not in PRECISIONS:
        raise PrecisionError(
            f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}"
        )
    allowed = backend_precisions(backend)
    if precision not in allowed:
        raise PrecisionError(
            f"precision {precision} is not available on backend {backend} "
            f"(it runs {', '.join(allowed)})"
        )
    return precision


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The dtype torch.autocast runs the network in for ``precision`` (None = float32)."""
    import torch

    return {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
