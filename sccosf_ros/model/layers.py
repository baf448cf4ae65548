"""Small building blocks shared by the SC-CoSF modules (channels-first tensors throughout)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channel axis of a (B,C,H,W) map (the paper's LN on feature maps)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


def linear2d(c_in: int, c_out: int, bias: bool = True) -> nn.Conv2d:
    """The paper's per-pixel ``Linear`` on a (B,C,H,W) map (a 1×1 convolution)."""
    return nn.Conv2d(c_in, c_out, 1, bias=bias)


def dwconv(c: int, k: int = 3, bias: bool = True) -> nn.Conv2d:
    """Depthwise k×k convolution with 'same' padding."""
    return nn.Conv2d(c, c, k, padding=k // 2, groups=c, bias=bias)
