"""Sc-LRB: Self-correction Long-Range Relationship Branch (paper §3.2.1, Figure 3a).

Self-modal correction, per modality m ∈ {r, i}::

    O^m = F^m + Linear(LN(S6(SiLU(DWConv(Linear(F^m))))))

Cross-modal complementarity with Cross S6 (C matrices swapped between modalities)::

    W^r, W^i = O + Linear(LN(CrossS6(SiLU(DWConv(Linear(O^r, O^i))))))

then ``F^s = Concat(W^r, W^i)`` and SE-style channel attention
``F^S = F^s * σ(Conv1x1(GAP(F^s))) + F^s``.

Choices the paper leaves open (documented here, used by every preset):
- Scan order: the map is flattened row-major into ONE sequence (L = H·W) per modality, as in
  Sigma's cross-Mamba block; the four-direction SS2D is kept for the ICRM decoder. One direction
  halves-to-quarters the cost at stage 1 (L = 19200 at 480×640), which dominates CPU latency.
- A SiLU follows the depthwise conv, as in every Mamba block (the paper's formula omits it).
- Per-modality layers are grouped convolutions over the concatenated pair (groups=2): the same
  maths as two separate layers, one call each. Output channels: 2·C (RGB half, thermal half).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sccosf_ros.model.cross_s6 import CrossS6
from sccosf_ros.model.layer_norm2d import layer_norm_over
from sccosf_ros.model.s6 import S6, default_dt_rank
from sccosf_ros.model.ssm.graph import capturing


class PairLayerNorm(nn.Module):
    """Separate LayerNorms over the d channels of each of k stacked units: (B,k,d,L) → same.

    timm has no per-unit LayerNorm (its ``GroupNorm`` also normalises over the positions).
    """

    def __init__(self, k: int, d: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.d, self.eps = d, eps
        self.weight = nn.Parameter(torch.ones(k, 1, d))
        self.bias = nn.Parameter(torch.zeros(k, 1, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.transpose(2, 3), (self.d,), eps=self.eps)  # (B,k,L,d)
        return (x * self.weight + self.bias).transpose(2, 3)

    def channels_last(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Same normalisation, (B,k,d,L) → (B,k·d,H,W) in channels-last memory (L = H·W).

        Normalising in (B,L,k,d) order makes the result the channels-last map the next 1×1
        conv wants, without the copies of transposing back and reshaping to NCHW. Under graph
        capture the layout is the runtime's choice: there the permutes would be Transposes.
        """
        bsz, k, d, _ = x.shape
        if capturing():  # a graph: normalise over axis 2, no Transposes around the norm
            w, b = self.weight.view(k, d, 1), self.bias.view(k, d, 1)
            return layer_norm_over(x, w, b, self.eps, 2).view(bsz, k * d, height, width)
        y = F.layer_norm(x.permute(0, 3, 1, 2), (d,), eps=self.eps)  # (B,L,k,d)
        y = torch.addcmul(self.bias.view(k, d), y, self.weight.view(k, d))
        return y.view(bsz, height, width, k * d).permute(0, 3, 1, 2)


class _CorrectionStage(nn.Module):
    """One residual stage over the modality pair: (B,2C,H,W) → (B,2C,H,W)."""

    def __init__(self, channels: int, d_inner: int, scan: nn.Module) -> None:
        super().__init__()
        self.d_inner = d_inner
        self.in_proj = nn.Conv2d(2 * channels, 2 * d_inner, 1, groups=2)
        self.dwconv = nn.Conv2d(2 * d_inner, 2 * d_inner, 3, padding=1, groups=2 * d_inner)
        self.scan = scan
        self.norm = PairLayerNorm(2, d_inner)
        self.out_proj = nn.Conv2d(2 * d_inner, 2 * channels, 1, groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bsz, _, h, w = x.shape
        u = F.silu(self.dwconv(self.in_proj(x))).reshape(bsz, 2, self.d_inner, h * w)
        if isinstance(self.scan, CrossS6):
            y = torch.stack(self.scan(u[:, 0], u[:, 1]), dim=1)
        else:
            y = self.scan(u)
        y = self.norm.channels_last(y, h, w)  # (B,2d,H,W)
        return x + self.out_proj(y)


class ScLRB(nn.Module):
    """(F^R, F^I) each (B,C,H,W) → F^S (B,2C,H,W).

    The channel attention is the paper's single Conv1x1, not timm's ``SEModule`` (a
    reduce-ReLU-expand MLP); timm's ``EffectiveSEModule`` has that single conv but nests it as
    ``.fc`` (the frozen nano weights are ``channel_attn.weight``) and leaves out the ``+ F^s``.
    """

    def __init__(
        self,
        channels: int,
        d_state: int = 16,
        ssm_ratio: float = 1.0,
        scan_backend: str = "auto",
    ) -> None:
        super().__init__()
        d_inner = max(1, round(ssm_ratio * channels))
        rank = default_dt_rank(channels)
        self.self_correction = _CorrectionStage(
            channels, d_inner, S6(d_inner, d_state, k=2, dt_rank=rank, scan_backend=scan_backend)
        )
        self.cross_correction = _CorrectionStage(
            channels, d_inner, CrossS6(d_inner, d_state, dt_rank=rank, scan_backend=scan_backend)
        )
        self.channel_attn = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.out_channels = 2 * channels

    def forward(self, f_rgb: torch.Tensor, f_th: torch.Tensor) -> torch.Tensor:
        o = self.self_correction(torch.cat((f_rgb, f_th), dim=1))  # (B,2C,H,W) = [O^r, O^i]
        fs = self.cross_correction(o)  # F^s = [W^r, W^i]
        gate = torch.sigmoid(self.channel_attn(fs.mean(dim=(2, 3), keepdim=True)))
        return torch.addcmul(fs, fs, gate)  # fs * gate + fs in one pass
