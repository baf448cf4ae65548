"""What every backend provides to the Predictor: one network call on prepared tensors.

A ``Runner`` takes the Predictor's pre-processed inputs, rgb (1,3,h,w) and thermal (1,1,h,w)
float32 in [0, 1] on ``runner.device``, and returns the network's (fused, logits) at (h, w) as
torch tensors (None for a head the model does not have). Pre- and post-processing (thermal
normalisation, resizing to the network size and back, argmax, uint8) exist once, in the
Predictor, for every backend. One exception, asked for with ``finished``: where no resize
follows, the OpenVINO runner returns the last step's results itself (uint8 fused (1,3,h,w)
and class ids (1,1,h,w); ``backends.openvino_finish``), which the Predictor passes through.
"""

from __future__ import annotations

import os
from typing import Protocol

import torch

from sccosf_ros.backends.openvino_finish import FUSED_U8, LABELS


class Runner(Protocol):
    name: str  # backend name: torch | onnxruntime | openvino | tensorrt
    device: torch.device  # where the inputs must be and the outputs are
    input_size: tuple[int, int] | None  # the one (h, w) the graph takes; None: any size

    def run(
        self, rgb: torch.Tensor, thermal: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]: ...


def split_outputs(
    names: list[str] | tuple[str, ...], values: list
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Graph outputs by name → (fused, logits) tensors, None for an absent head. A finished
    output (``backends.openvino_finish``: ``fused_u8``, ``labels``, uint8) stands in for its
    float form."""
    out = {n: torch.as_tensor(v) for n, v in zip(names, values, strict=True)}
    fused = out["fused"] if "fused" in out else out.get(FUSED_U8)
    return fused, out["logits"] if "logits" in out else out.get(LABELS)


def passive_waits() -> bool:
    """True when idle worker threads should sleep rather than spin (OMP_WAIT_POLICY=PASSIVE:
    set for processes that share the CPU, see ``sccosf_ros.runtime.passive_openmp``)."""
    return os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"


class TorchRunner:
    """The network in torch eager on its device (the default backend)."""

    name = "torch"
    input_size = None

    def __init__(
        self, model: torch.nn.Module, device: torch.device, autocast: torch.dtype | None = None
    ) -> None:
        self.model = model.to(device).eval()
        self.device = device
        self.autocast = autocast  # None: float32; else torch.autocast's dtype (precision)

    def run(
        self, rgb: torch.Tensor, thermal: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if self.autocast is None:
            out = self.model(rgb, thermal)
        else:
            with torch.autocast(self.device.type, dtype=self.autocast):
                out = self.model(rgb, thermal)
        return out.fused, out.logits
