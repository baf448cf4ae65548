"""Sc-FGB: Self-correction Fine-Grained Branch (paper §3.2.1, Figure 3c; after SegNeXt).

Per modality m::

    H^m(k) = Conv_k×k(Conv1x1(F^m)),  k ∈ {3, 5, 7};   H̃^m = H^m(3) + H^m(5) + H^m(7)
    Ĥ^m = σ(DWConv(GAP(H̃^m))) * H̃^m

then ``F^v = Concat(Ĥ^r, Ĥ^i)``, a depthwise-separable conv that doubles the channels, split
into F_α, F_β and ``F^V = Conv1x1(F_α * σ(F_β))``.

Choices: the k×k convs are depthwise (SegNeXt's multi-scale convs are; full convs would cost
83·C² parameters per modality at stage 4); the channel weight's DWConv acts on the 1×1 pooled
map, i.e. a learned per-channel scale and bias. Output channels 2·C, to add to Sc-LRB's F^S.
"""

from __future__ import annotations

import torch
from torch import nn


class ScFGB(nn.Module):
    """(F^R, F^I) each (B,C,H,W) → F^V (B,2C,H,W); hidden width per modality = ratio·C.

    The channel weight σ(DWConv(GAP)) is a per-channel scale and bias: timm's ``SEModule`` (an
    MLP across channels) and ``EcaModule`` (a 1-D conv across channels) mix channels, it does not.
    """

    def __init__(
        self, channels: int, ratio: float = 1.0, kernel_sizes: tuple[int, ...] = (3, 5, 7)
    ) -> None:
        super().__init__()
        hid = 2 * max(1, round(ratio * channels))  # both modalities, concatenated
        self.reduce = nn.Conv2d(2 * channels, hid, 1, groups=2)  # Conv1x1 per modality
        self.multi_scale = nn.ModuleList(
            nn.Conv2d(hid, hid, k, padding=k // 2, groups=hid) for k in kernel_sizes
        )
        self.channel_weight = nn.Conv2d(hid, hid, 1, groups=hid)  # DWConv on GAP
        self.ds_depthwise = nn.Conv2d(hid, hid, 3, padding=1, groups=hid)
        self.ds_pointwise = nn.Conv2d(hid, 2 * hid, 1)  # expands: → [F_α, F_β]
        self.out_proj = nn.Conv2d(hid, 2 * channels, 1)
        self.out_channels = 2 * channels

    def forward(self, f_rgb: torch.Tensor, f_th: torch.Tensor) -> torch.Tensor:
        x = self.reduce(torch.cat((f_rgb, f_th), dim=1))  # (B,hid,H,W)
        h = self.multi_scale[0](x)
        for conv in self.multi_scale[1:]:
            h = h.add_(conv(x))  # H̃ for both modalities (h is this block's own tensor)
        # DWConv on the 1×1 pooled map = per-channel scale + bias (written out: a grouped conv
        # with groups=channels runs one tiny kernel per channel on CPU)
        cw = self.channel_weight
        pooled = h.mean(dim=(2, 3), keepdim=True)
        weight = pooled * cw.weight.view(1, -1, 1, 1) + cw.bias.view(1, -1, 1, 1)
        h = h * torch.sigmoid(weight)  # Ĥ for both modalities, concatenated = F^v
        a, b = self.ds_pointwise(self.ds_depthwise(h)).chunk(2, dim=1)
        return self.out_proj(a * torch.sigmoid(b))
