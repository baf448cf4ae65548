"""LayerNorm over the channels of an NCHW map, written for graph capture without Transposes.

timm's ``LayerNorm2d`` (the ConvNeXt encoder's stem, downsample and block norms, and the ICR-VSS
blocks' norms) permutes to NHWC, normalises the last axis and permutes back. In eager PyTorch on
channels-last tensors those permutes are free views; in an exported graph they are two
Transposes per norm, which OpenVINO runs as copies between its own channels-last layout and the
planar one the ONNX graph names (nano at 480×640: 37 Transposes, 6 % of OpenVINO's bf16 time,
plus the Reorders around them). Written as reductions over axis 1 the same maths runs in
OpenVINO as two ReduceMeans and a fused elementwise chain, in whatever layout the neighbouring
convolutions use (its CPU plugin does not turn a norm over the channels alone into one MVN
node; the Transpose form had been fused into one node between the Transposes).
"""

from __future__ import annotations

import torch
from timm.layers import LayerNorm2d
from torch import nn

from sccosf_ros.model.ssm.graph import capturing


def layer_norm_over(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float, dim: int
) -> torch.Tensor:
    """LayerNorm of ``x`` over axis ``dim`` (weight and bias shaped to broadcast along it).

    Written as ``(x - mean) / sqrt(var + eps)``: two reductions and elementwise ops, which a
    runtime computes in any memory layout.
    """
    centred = x - x.mean(dim, keepdim=True)
    var = centred.pow(2).mean(dim, keepdim=True)
    return centred / torch.sqrt(var + eps) * weight + bias


class ChannelLayerNorm2d(LayerNorm2d):
    """timm's ``LayerNorm2d`` (same parameters and state-dict keys); under graph capture the
    normalisation is written over axis 1 instead of between two permutes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not capturing():
            return super().forward(x)
        shape = (-1, 1, 1)
        return layer_norm_over(x, self.weight.view(shape), self.bias.view(shape), self.eps, 1)


def use_channel_norms(module: nn.Module) -> None:
    """Replace every timm ``LayerNorm2d`` inside ``module`` by a ``ChannelLayerNorm2d``
    holding the same weights (a third-party backbone's norms, e.g. timm's ConvNeXt)."""
    for name, child in list(module.named_children()):
        if type(child) is LayerNorm2d:
            norm = ChannelLayerNorm2d(child.normalized_shape[0], eps=child.eps)
            norm.load_state_dict(child.state_dict())
            setattr(module, name, norm.to(child.weight.device, child.weight.dtype))
        else:
            use_channel_norms(child)
