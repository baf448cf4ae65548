"""DCR: Dual-branch Collaborative Recalibration (paper §3.2.1, Figure 3d).

``F = F^S + F^V``; coordinate attention (Hou et al. 2021): average-pool along W → (H,1) and
along H → (1,W), concatenate, Conv1x1 → BN → h-swish into a reduced channel space, split, one
Conv1x1 + sigmoid per axis, and ``F * α̂^h * β̂^w``.
"""

from __future__ import annotations

import torch
from torch import nn


class CoordinateAttention(nn.Module):
    """x (B,C,H,W) → x * a_h (B,C,H,1) * a_w (B,C,1,W).

    timm's ``coord_attn.CoordAttn`` has the same maths but one ``bias`` flag for all three
    convs and other names (``conv1``/``bn1``/``conv_h``/``conv_w``); here the reduce conv has
    no bias (BatchNorm follows) and the per-axis convs have one, as the frozen nano weights do.
    """

    def __init__(self, channels: int, reduction: int = 32, min_mid: int = 8) -> None:
        super().__init__()
        mid = max(min_mid, channels // reduction)
        self.squeeze = nn.Sequential(
            nn.Conv2d(channels, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.Hardswish()
        )
        self.attn_h = nn.Conv2d(mid, channels, 1)
        self.attn_w = nn.Conv2d(mid, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        pooled_h = x.mean(dim=3, keepdim=True)  # (B,C,H,1)
        pooled_w = x.mean(dim=2, keepdim=True).transpose(2, 3)  # (B,C,W,1)
        y = self.squeeze(torch.cat((pooled_h, pooled_w), dim=2))  # (B,mid,H+W,1)
        y_h, y_w = torch.split(y, [h, w], dim=2)
        a_h = torch.sigmoid(self.attn_h(y_h))
        a_w = torch.sigmoid(self.attn_w(y_w)).transpose(2, 3)
        return (x * a_h).mul_(a_w)


class DCR(nn.Module):
    """(F^S, F^V) each (B,C,H,W) → recalibrated F (B,C,H,W)."""

    def __init__(self, channels: int, reduction: int = 32) -> None:
        super().__init__()
        self.coord_attn = CoordinateAttention(channels, reduction)

    def forward(self, fs: torch.Tensor, fv: torch.Tensor) -> torch.Tensor:
        return self.coord_attn(fs + fv)
