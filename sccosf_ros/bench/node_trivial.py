"""The ROS-path baseline of ``sccosf bench node``: a trivial network behind the real
``Predictor``, and the real node serving it (``python -m sccosf_ros.bench.node_trivial
--ros-args ...``), so that what the node costs besides the model can be measured."""

from __future__ import annotations

import os
import sys
from typing import Any

import torch
from torch import nn

from sccosf_ros.inference import Predictor
from sccosf_ros.model import SCCoSFOutput


class TrivialModel(nn.Module):
    """The ROS-path baseline: a real (tiny) network with SCCoSF's interface and ~no cost.

    fused = mean of RGB and thermal; logits = one 1×1 convolution of the 4 input channels.
    """

    def __init__(self, num_classes: int = 9) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.head = nn.Conv2d(4, num_classes, kernel_size=1)

    def forward(self, rgb: torch.Tensor, thermal: torch.Tensor) -> SCCoSFOutput:
        th = thermal[:, :1]  # (B,1,H,W)
        fused = (rgb + th) * 0.5  # (B,3,H,W) in [0,1]
        logits = self.head(torch.cat([rgb, th], dim=1))  # (B,C,H,W)
        return SCCoSFOutput(fused=fused, logits=logits)


def trivial_predictor(device: str = "cpu", **kwargs: Any) -> Predictor:
    """A Predictor around TrivialModel with MFNet classes (same code path as a checkpoint)."""
    from sccosf_ros.classes import MFNET_CLASSES, MFNET_PALETTE

    torch.manual_seed(0)
    kwargs.setdefault("class_names", MFNET_CLASSES)
    kwargs.setdefault("palette", MFNET_PALETTE)
    kwargs.setdefault("thermal_norm", {"mode": "fixed", "low": 7000.0, "high": 9000.0})
    return Predictor(TrivialModel(len(MFNET_CLASSES)), device, **kwargs)


def serve() -> int:
    """The node (``ros.node.run``) with ``trivial_predictor()``; exits the process."""
    from sccosf_ros.ros.node import run as run_node

    code = run_node(list(sys.argv), predictor=trivial_predictor())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    serve()
