"""S6: the selective state-space layer of Mamba (paper §3.2.1, Figure 3b).

``S6`` holds ``k`` independent S6 units, each with its own ``x_proj`` (u → Δ, B, C), ``dt_proj``,
``A_log`` and ``D``. The units run in ONE ``selective_scan`` call: their channels are folded
into the scan's ``d`` axis and their B/C into its group axis (mamba-ssm grouped semantics), so
the two modalities of Sc-LRB or the four directions of SS2D cost one kernel launch, not k.

Initialisation follows Mamba: ``A_log = log(1..N)``, ``D = 1``, Δ bias = softplus⁻¹(Δ) with
Δ ~ logU(1e-3, 1e-1) clamped ≥ 1e-4, ``dt_rank = ceil(d_model / 16)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from sccosf_ros.model.ssm import selective_scan
from sccosf_ros.model.ssm.graph import capturing


def default_dt_rank(d_model: int) -> int:
    """Mamba's ``dt_rank = ceil(d_model / 16)`` (d_model: the block's outer width)."""
    return max(1, math.ceil(d_model / 16))


class S6(nn.Module):
    """``k`` parallel S6 units over sequences of ``d_inner`` channels with ``d_state`` states.

    Input ``u`` (B, k, d_inner, L) → output (B, k, d_inner, L). Parameters (unit index first):
    ``x_proj_weight`` (k, dt_rank + 2N, d_inner), ``dt_proj_weight`` (k, d_inner, dt_rank),
    ``dt_proj_bias`` (k, d_inner), ``A_log`` (k·d_inner, N), ``D`` (k·d_inner).
    """

    def __init__(
        self,
        d_inner: int,
        d_state: int = 16,
        k: int = 1,
        dt_rank: int | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        dt_init_floor: float = 1e-4,
        scan_backend: str = "auto",
    ) -> None:
        super().__init__()
        self.d_inner, self.d_state, self.k = d_inner, d_state, k
        self.dt_rank = dt_rank if dt_rank is not None else default_dt_rank(d_inner)
        self.scan_backend = scan_backend
        r, n = self.dt_rank, d_state

        bound = d_inner**-0.5  # nn.Linear's default init for x_proj
        self.x_proj_weight = nn.Parameter(
            torch.empty(k, r + 2 * n, d_inner).uniform_(-bound, bound)
        )
        dt_std = r**-0.5
        self.dt_proj_weight = nn.Parameter(torch.empty(k, d_inner, r).uniform_(-dt_std, dt_std))
        dt = torch.exp(
            torch.rand(k, d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        ).clamp(min=dt_init_floor)
        self.dt_proj_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))  # softplus⁻¹(dt)
        a = torch.arange(1, n + 1, dtype=torch.float32).repeat(k * d_inner, 1)
        self.A_log = nn.Parameter(torch.log(a))
        self.D = nn.Parameter(torch.ones(k * d_inner))
        # Mamba keeps these out of weight decay; trainers may read the flag.
        for p in (self.A_log, self.D):
            p._no_weight_decay = True  # type: ignore[attr-defined]

    def scan_flops(self, batch: int, length: int) -> int:
        """Analytic FLOPs of the scan (mamba-ssm's reference count: 9·b·d·n·l, + b·d·l for D).

        The scan is a custom op that FlopCounterMode does not see; benchmarks add this.
        """
        d = self.k * self.d_inner
        return 9 * batch * d * self.d_state * length + batch * d * length

    def project(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """u (B,k,d,L) → Δ before bias/softplus (B,k,d,L), B (B,k,N,L), C (B,k,N,L).

        Under graph capture (ONNX export) the same products are broadcast matmuls: ONNX
        Runtime runs its Einsum op several times slower than MatMul (44 ms against a few at
        480×640, nano).
        """
        if capturing():
            x_dbl = torch.matmul(self.x_proj_weight, u)  # (k,c,d) @ (B,k,d,L) → (B,k,c,L)
            dt, b, c = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], dim=2)
            return torch.matmul(self.dt_proj_weight, dt), b, c  # (k,d,r) @ (B,k,r,L)
        x_dbl = torch.einsum("bkdl,kcd->bkcl", u, self.x_proj_weight)
        dt, b, c = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], dim=2)
        dt = torch.einsum("bkrl,kdr->bkdl", dt, self.dt_proj_weight)
        return dt, b, c

    def scan(
        self, u: torch.Tensor, dt: torch.Tensor, b: torch.Tensor, c: torch.Tensor
    ) -> torch.Tensor:
        """Run the k units as one grouped selective scan; all (B,k,·,L) → y (B,k,d,L)."""
        bsz, k, d, length = u.shape
        if u.device.type == "meta":  # shape propagation only (FLOP counting): nothing to scan
            return torch.empty_like(u)
        if torch.is_autocast_enabled(u.device.type):
            # Under fp16/bf16 autocast the scan takes and gives float32 (like VMamba's
            # force_fp32): its output may pass fp16's range before the LayerNorm after it
            # (the nano checkpoint's stage-3 scan reaches ~7e5), and mamba-ssm's kernel needs
            # u, Δ, B and C in one dtype. The kernels keep float32 states either way.
            u, dt, b, c = u.float(), dt.float(), b.float(), c.float()
        y = selective_scan(
            u.reshape(bsz, k * d, length),
            dt.reshape(bsz, k * d, length),
            -torch.exp(self.A_log.float()),
            b.contiguous(),
            c.contiguous(),
            self.D.float(),
            delta_bias=self.dt_proj_bias.reshape(-1).float(),
            delta_softplus=True,
            backend=self.scan_backend,
        )
        return y.reshape(bsz, k, d, length)

    def forward(self, u: torch.Tensor, c_source: Sequence[int] | None = None) -> torch.Tensor:
        """u (B,k,d,L) → y (B,k,d,L).

        ``c_source[j]`` names the unit whose output matrix C unit j reads out with (default: its
        own). Cross S6 passes (1, 0): each modality is read out through the other's C.
        """
        if u.dim() != 4 or u.shape[1] != self.k or u.shape[2] != self.d_inner:
            raise ValueError(f"S6 expects (B, {self.k}, {self.d_inner}, L), got {tuple(u.shape)}")
        dt, b, c = self.project(u)
        if c_source is not None:
            c = c[:, list(c_source)]
        return self.scan(u, dt, b, c)
