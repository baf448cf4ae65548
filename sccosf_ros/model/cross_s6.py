"""Cross S6 (paper §3.2.1, Sc-LRB cross-modal complementarity; after Sigma's cross-Mamba).

Two S6 units, one per modality, each with its own x_proj / dt_proj / A_log / D. The output
matrices are swapped::

    h1_t = exp(Δ1 A1) h1_{t-1} + Δ1 B1 x1_t      y1_t = C2 · h1_t + D1 x1_t   (RGB)
    h2_t = exp(Δ2 A2) h2_{t-1} + Δ2 B2 x2_t      y2_t = C1 · h2_t + D2 x2_t   (thermal)

so each modality's state is read out by what the other modality asks for. Both scans run as one
grouped ``selective_scan`` call.
"""

from __future__ import annotations

import torch
from torch import nn

from sccosf_ros.model.s6 import S6


class CrossS6(nn.Module):
    """(u_rgb, u_th) each (B, d_inner, L) → (y_rgb, y_th) each (B, d_inner, L)."""

    def __init__(
        self,
        d_inner: int,
        d_state: int = 16,
        dt_rank: int | None = None,
        scan_backend: str = "auto",
    ) -> None:
        super().__init__()
        # unit 0 = RGB, unit 1 = thermal
        self.s6 = S6(d_inner, d_state, k=2, dt_rank=dt_rank, scan_backend=scan_backend)

    def forward(
        self, u_rgb: torch.Tensor, u_th: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.s6(torch.stack((u_rgb, u_th), dim=1), c_source=(1, 0))  # (B,2,d,L)
        return y[:, 0], y[:, 1]
