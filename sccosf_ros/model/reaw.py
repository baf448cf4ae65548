"""ReAW: Region-adaptive Weighted reconstruction decoder (paper §3.2.3).

The fusion head. For every stage's fused map F_i, ``l`` region branches of different kernel
sizes ``e_j(F_i) = ReLU(BN(Conv_kj(F_i)))`` are weighted by
``λ = softmax(Linear(ReLU(Linear(GAP(F_i)))))`` and summed: ``B_i = Σ_j λ_j e_j(F_i)``.
The B_i are upsampled and summed into the multi-scale fusion result, which is upsampled to the
input size, concatenated with the source images (RGB + thermal) and reconstructed by two 3×3
convs with an activation between; a sigmoid puts the fused RGB image in [0, 1].

Cost choice: the B_i are upsampled to 1/4 scale, summed there, and the sum is upsampled to full
size once; only the two reconstruction convs run at full resolution. This is NOT the same as
upsampling each B_i straight to full size: bilinear resizing is linear, so the sum commutes,
but two resizes in a row (1/32 → 1/4 → 1) apply a wider interpolation kernel than one
(1/32 → 1). Measured at 480×640 (relative L2 of the difference, two-step vs direct;
``test/model/test_reaw_upsampling.py``): on white-noise maps 22 % at stage 2, 7.6 % at stage 3,
2.6 % at stage 4; on the B_i of the untrained nano network for a synthetic scene, whose maps
are smooth, 1.8 %, 0.5 % and 0.4 %. Stage 1 is already at 1/4 scale: identical. The network
learns with the two-step path, so it is what it is trained for; it is cheaper because the sum
is formed on a 16× smaller map.

Output form (``ReAW(output=...)``, ``SCCoSFConfig.reaw_output``):

* ``image`` (the paper): the reconstruction convs predict the fused RGB image itself through a
  sigmoid. Nothing ties its contrast or colour to the sources but the fusion loss; a short
  from-scratch run lands on a low-contrast veil on real cameras (issue 27: SD 22 on RoadScene
  pairs against 32 for the plain average of luminance and infrared).
* ``luma_weights`` (a departure, used by the shipped demo model): the same convs predict one
  per-pixel weight ``w = sigmoid(·)`` and the fused luminance is the convex combination
  ``Y_F = w·Y_RGB + (1 − w)·T`` of the RGB luminance and the thermal image; the RGB image is
  shifted by ``Y_F − Y_RGB`` on all three channels, which keeps its chroma (Cb, Cr) exactly up
  to the [0, 1] clamp. Every fused pixel lies between its two sources, so the head can neither
  veil nor wash out an image; it only chooses, per pixel, how much of each source to show.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from sccosf_ros.model.ssm.graph import capturing


class RegionWeighting(nn.Module):
    """F_i (B,C,h,w) → B_i (B,width,h,w): softmax-weighted sum of multi-kernel region branches.

    Not timm's ``SelectiveKernelAttn``: that gives per-channel weights from the branches' sum
    (with BatchNorm); the paper's λ is one weight per branch from GAP(F_i).
    """

    def __init__(
        self,
        channels: int,
        width: int,
        kernel_sizes: Sequence[int] = (1, 3, 5),
        reduction: int = 4,
    ) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(channels, width, k, padding=k // 2, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            )
            for k in kernel_sizes
        )
        hidden = max(8, channels // reduction)
        self.weights = nn.Sequential(
            nn.Linear(channels, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, len(kernel_sizes)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lam = torch.softmax(self.weights(x.mean(dim=(2, 3))), dim=1)  # (B,l)
        out = None
        for j, branch in enumerate(self.branches):
            term = lam[:, j, None, None, None] * branch(x)
            out = term if out is None else out + term
        return out


REAW_OUTPUTS = ("image", "luma_weights")


def luma_weighted(rgb: torch.Tensor, thermal: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``Y_F = w·Y_RGB + (1 − w)·T``, put back into the RGB image with its chroma kept.

    rgb (B,3,H,W), thermal and weight (B,1,H,W), all in [0, 1] → (B,3,H,W) in [0, 1]. Adding
    the same offset to R, G and B leaves ``B − Y`` and ``R − Y`` (hence Cb, Cr) unchanged.
    """
    y = 0.299 * rgb[:, 0:1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:3]
    fused_y = weight * y + (1.0 - weight) * thermal
    return (rgb + (fused_y - y)).clamp(0.0, 1.0)


def one_channel_conv_graph(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """``conv(x)`` for a k×k conv with ONE output channel (stride 1, "same" padding), as a
    graph runtime runs it fast: a 1×1 conv to the k² taps' partial sums, each moved into
    place by a depthwise conv with a one-hot kernel, summed over the taps, plus the bias.

    Same sum, reordered: ``y = Σ_{dy,dx} (W[:, :, dy, dx] · x)`` shifted by (dy, dx).
    OpenVINO's AMX convolution pads the one output channel to a block of 16 (ReAW's last conv
    at 640×480: 3.3 ms of 77 in bf16); the two convs here take ~1 ms.
    """
    _, c, kh, kw = conv.weight.shape
    taps = conv.weight.reshape(c, kh * kw).t().reshape(kh * kw, c, 1, 1)
    z = F.conv2d(x, taps)  # (B, k², H, W): channel t = the partial sum of tap t
    one_hot = torch.eye(kh * kw, dtype=x.dtype, device=x.device).reshape(kh * kw, 1, kh, kw)
    y = F.conv2d(z, one_hot, padding=(kh // 2, kw // 2), groups=kh * kw).sum(1, keepdim=True)
    return y if conv.bias is None else y + conv.bias.view(1, 1, 1, 1)


class ReAW(nn.Module):
    """Fused maps [F_1..F_4] + source images → fused RGB image (B,3,H,W) in [0,1].

    ``output``: ``image`` (paper: the convs reconstruct the image) or ``luma_weights`` (they
    predict a per-pixel source weight for the luminance, the RGB chroma is kept; module
    docstring).
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        width: int = 16,
        kernel_sizes: Sequence[int] = (1, 3, 5),
        recon_width: int = 16,
        output: str = "image",
    ) -> None:
        super().__init__()
        if output not in REAW_OUTPUTS:
            raise ValueError(f"ReAW output must be one of {REAW_OUTPUTS}, not {output!r}")
        self.output = output
        self.regions = nn.ModuleList(RegionWeighting(c, width, kernel_sizes) for c in in_channels)
        self.recon = nn.Sequential(
            nn.Conv2d(width + 4, recon_width, 3, padding=1),  # + RGB (3) + thermal (1)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(recon_width, 3 if output == "image" else 1, 3, padding=1),
        )

    def forward(
        self, feats: Sequence[torch.Tensor], rgb: torch.Tensor, thermal: torch.Tensor
    ) -> torch.Tensor:
        size0 = feats[0].shape[-2:]
        fused = None
        for f, region in zip(feats, self.regions, strict=True):
            b = region(f)
            if b.shape[-2:] != size0:
                b = F.interpolate(b, size=size0, mode="bilinear", align_corners=False)
            fused = b if fused is None else fused + b
        fused = F.interpolate(fused, size=rgb.shape[-2:], mode="bilinear", align_corners=False)
        if capturing():
            out = torch.sigmoid(self._recon_graph(torch.cat((fused, rgb, thermal), dim=1)))
        else:
            # concatenated in channels-last memory (a cat over (B,H,W,C) views): a plain
            # channel cat of these thin maps comes out NCHW, where the full-resolution convs
            # run slower and converting afterwards costs a slow strided copy
            x = torch.cat([m.permute(0, 2, 3, 1) for m in (fused, rgb, thermal)], dim=3)
            out = torch.sigmoid(self.recon(x.permute(0, 3, 1, 2)))  # input (B,width+4,H,W)
        if self.output == "image":
            return out
        return luma_weighted(rgb, thermal, out)

    def _recon_graph(self, x: torch.Tensor) -> torch.Tensor:
        """``self.recon(x)`` under graph capture: x a plain channel cat (OpenVINO concatenates
        planar maps without copies; the channels-last views of the eager path cost it a
        reference-kernel Concat, 2.2 ms at 640×480), a one-channel last conv as
        ``one_channel_conv_graph``."""
        conv1, act, conv2 = self.recon
        y = act(conv1(x))
        kh, kw = conv2.kernel_size
        same = conv2.padding == (kh // 2, kw // 2) and conv2.dilation == (1, 1)
        if conv2.out_channels == 1 and conv2.stride == (1, 1) and conv2.groups == 1 and same:
            return one_channel_conv_graph(conv2, y)
        return conv2(y)
