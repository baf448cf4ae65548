"""SS2D: VMamba's 2-D selective scan (paper §3.2.2, Figure 4 upper part).

The (H, W) map is unrolled into four sequences — row-major (top-left → bottom-right),
column-major (top-left → bottom-right down the columns) and both reversed — each scanned by its
own S6 unit; the four results are mapped back to row-major order and summed::

    y = y0 + flip(y2) + T(y1 + flip(y3))

The four directions are folded into one grouped ``selective_scan`` call (see ``S6``).
"""

from __future__ import annotations

import torch
from torch import nn

from sccosf_ros.model.s6 import S6
from sccosf_ros.model.ssm.graph import capturing


def cross_scan(x: torch.Tensor) -> torch.Tensor:
    """x (B,C,H,W) → the four scan orders (B,4,C,H·W): rows, columns, both reversed.

    Under graph capture: stack and concatenate (writes into views of an empty tensor export
    as ScatterElements, 2 ms each in ONNX Runtime).
    """
    if capturing():
        y = torch.stack((x.flatten(2), x.transpose(2, 3).flatten(2)), 1)  # (B,2,C,L)
        return torch.cat((y, y.flip(-1)), 1)
    bsz, c, h, w = x.shape
    out = x.new_empty(bsz, 4, c, h * w)  # written in place: no per-direction temporaries
    out[:, 0].view(bsz, c, h, w).copy_(x)
    out[:, 1].view(bsz, c, w, h).copy_(x.transpose(2, 3))
    out[:, 2:].copy_(out[:, :2].flip(-1))
    return out


def cross_merge(y: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """y (B,4,C,H·W) in the four scan orders → (B,C,H·W) row-major sum of the four."""
    bsz, _, c, length = y.shape
    rows = y[:, 0] + y[:, 2].flip(-1)
    cols = y[:, 1] + y[:, 3].flip(-1)  # column-major: index w·H + h
    cols = cols.view(bsz, c, width, height).transpose(2, 3).reshape(bsz, c, length)
    return rows + cols


class SS2D(nn.Module):
    """Four-direction selective scan: x (B,d,H,W) → (B,d,H,W) (the core between SiLU and LN)."""

    def __init__(
        self,
        d_inner: int,
        d_state: int = 16,
        dt_rank: int | None = None,
        scan_backend: str = "auto",
    ) -> None:
        super().__init__()
        self.s6 = S6(d_inner, d_state, k=4, dt_rank=dt_rank, scan_backend=scan_backend)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bsz, c, h, w = x.shape
        y = self.s6(cross_scan(x))  # (B,4,d,L)
        return cross_merge(y, h, w).view(bsz, c, h, w)
