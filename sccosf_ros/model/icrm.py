"""ICRM: Interactive Context Restoration Mamba decoder (paper §3.2.2, Figure 4).

The segmentation head. From the deepest stage up, each fused map is upsampled, merged with the
next shallower Sc-CFM output and refined by ICR-VSS blocks; an MLP classifies at 1/4 scale and
the logits are upsampled to the input size.

ICR-VSS block (VMamba's VSS block with its multiplicative z branch replaced)::

    Υ1 = LN(SS2D(SiLU(DWConv(Linear(Υ)))))
    Υ2 = σ(Θ_C(Θ_S(Linear_z(Υ))))          channel attention after spatial attention (CBAM)
    Ω  = Υ + Linear(Υ1 * Υ2)                 (Υ = LN(input) as in VMamba's pre-norm block)

``Linear_z`` widens Υ to SS2D's inner width so the Hadamard product is defined when
``ssm_ratio != 1`` (it plays the role of VMamba's z projection).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from sccosf_ros.model.layer_norm2d import ChannelLayerNorm2d
from sccosf_ros.model.s6 import default_dt_rank
from sccosf_ros.model.ss2d import SS2D

# torch's LayerNorm eps, which the shipped checkpoint was trained with (timm's default is 1e-6)
LN_EPS = 1e-5


class SpatialAttention(nn.Module):
    """Θ_S (CBAM): x * σ(Conv7x7([mean_c(x), max_c(x)])).

    Not timm's ``cbam.SpatialAttn``: that one is a bias-free conv followed by BatchNorm, not
    the biased conv here (a different layer and state dict).
    """

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat((x.mean(1, keepdim=True), x.amax(1, keepdim=True)), dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class ChannelAttention(nn.Module):
    """Θ_C (CBAM): x * σ(MLP(GAP(x)) + MLP(GMP(x))).

    timm's ``cbam.ChannelAttn(rd_channels=mid, mlp_bias=True)`` computes the same, but names
    its weights ``fc1``/``fc2`` where the frozen nano state dict has ``mlp.0``/``mlp.2``.
    """

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        mid = max(4, channels // reduction)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, mid, 1), nn.ReLU(inplace=True), nn.Conv2d(mid, channels, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.mlp(x.mean((2, 3), keepdim=True)) + self.mlp(x.amax((2, 3), keepdim=True))
        return x * torch.sigmoid(a)


class ICRVSSBlock(nn.Module):
    """x (B,C,H,W) → (B,C,H,W)."""

    def __init__(
        self, dim: int, d_state: int = 16, ssm_ratio: float = 1.0, scan_backend: str = "auto"
    ) -> None:
        super().__init__()
        d_inner = max(1, round(ssm_ratio * dim))
        self.norm = ChannelLayerNorm2d(dim, eps=LN_EPS)
        self.in_proj = nn.Conv2d(dim, d_inner, 1)
        self.dwconv = nn.Conv2d(d_inner, d_inner, 3, padding=1, groups=d_inner)
        self.ss2d = SS2D(d_inner, d_state, dt_rank=default_dt_rank(dim), scan_backend=scan_backend)
        self.out_norm = ChannelLayerNorm2d(d_inner, eps=LN_EPS)
        self.z_proj = nn.Conv2d(dim, d_inner, 1)
        self.spatial_attn = SpatialAttention()
        self.channel_attn = ChannelAttention(d_inner)
        self.out_proj = nn.Conv2d(d_inner, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(x)
        b1 = self.out_norm(self.ss2d(F.silu(self.dwconv(self.in_proj(y)))))
        b2 = torch.sigmoid(self.channel_attn(self.spatial_attn(self.z_proj(y))))
        return x + self.out_proj(b1 * b2)


class ICRM(nn.Module):
    """Fused maps [F_1..F_4] (strides 4..32) → logits (B, num_classes, H/4, W/4).

    ``dims[i]``/``depths[i]``: decoder width and ICR-VSS block count at stage i (i = 0 is 1/4).
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        num_classes: int,
        dims: Sequence[int] = (64, 128, 192, 256),
        depths: Sequence[int] = (1, 1, 1, 1),
        d_state: int = 16,
        ssm_ratio: float = 1.0,
        scan_backend: str = "auto",
    ) -> None:
        super().__init__()
        n = len(in_channels)
        if len(dims) != n or len(depths) != n:
            raise ValueError(f"ICRM needs {n} dims and depths, got {dims} and {depths}")
        # stage n-1 takes F_{n-1} alone; shallower stages take [upsampled x, F_i]
        self.lateral = nn.ModuleList(
            nn.Conv2d(in_channels[i] + (dims[i + 1] if i + 1 < n else 0), dims[i], 1)
            for i in range(n)
        )
        self.blocks = nn.ModuleList(
            nn.Sequential(
                *(ICRVSSBlock(dims[i], d_state, ssm_ratio, scan_backend) for _ in range(depths[i]))
            )
            for i in range(n)
        )
        self.classifier = nn.Sequential(  # the MLP classifier (per pixel)
            nn.Conv2d(dims[0], dims[0], 1), nn.GELU(), nn.Conv2d(dims[0], num_classes, 1)
        )

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        x = self.blocks[-1](self.lateral[-1](feats[-1]))
        for i in reversed(range(len(feats) - 1)):
            x = self.blocks[i](self._merge(i, x, feats[i]))
        return self.classifier(x)

    def _merge(self, i: int, x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """``lateral[i](cat(upsample(x), f))`` computed as ``upsample(W_x x) + W_f f + bias``.

        A 1×1 conv and a bilinear resize (weights summing to 1) commute, so x's share of the
        lateral conv runs at x's coarser scale and the resize moves dims[i] channels instead of
        dims[i+1]; no concatenated map at the finer scale is ever written.
        """
        lateral = self.lateral[i]
        cx = x.shape[1]
        x = F.conv2d(x, lateral.weight[:, :cx])
        x = F.interpolate(x, size=f.shape[-2:], mode="bilinear", align_corners=False)
        return x + F.conv2d(f, lateral.weight[:, cx:], lateral.bias)
