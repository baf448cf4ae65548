"""The sequential reference scan: the recurrence written out step by step (tests, benchmarks)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from sccosf_ros.model.ssm.checks import as_grouped, check_shapes, compute_dtype


def selective_scan_ref(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None = None,
    z: Tensor | None = None,
    delta_bias: Tensor | None = None,
    delta_softplus: bool = False,
) -> Tensor:
    """Sequential reference: a Python loop over l through autograd (slow; tests/bench only).

    Same signature, shapes and result as :func:`selective_scan`. Computed in float32 (float64
    if any input is float64) and returned in u's dtype.
    """
    check_shapes(u, delta, A, B, C, D, z, delta_bias)
    dtype_in = u.dtype
    ct = compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    u, delta, A = u.to(ct), delta.to(ct), A.to(ct)
    b, d, length = u.shape
    B4, C4 = as_grouped(B, "B").to(ct), as_grouped(C, "C").to(ct)
    Bx = B4.repeat_interleave(d // B4.shape[1], dim=1)  # (b,d,n,l) or (b,1,n,l)
    Cx = C4.repeat_interleave(d // C4.shape[1], dim=1)
    if delta_bias is not None:
        delta = delta + delta_bias.to(ct)[:, None]
    if delta_softplus:
        delta = F.softplus(delta)
    dA = torch.exp(delta.unsqueeze(2) * A[:, :, None])  # (b,d,n,l)
    dBu = delta.unsqueeze(2) * Bx * u.unsqueeze(2)  # (b,d,n,l)
    h = u.new_zeros(b, d, A.shape[1])
    ys = []
    for t in range(length):
        h = dA[..., t] * h + dBu[..., t]
        ys.append((h * Cx[..., t]).sum(-1))  # (b,d)
    y = torch.stack(ys, dim=-1)
    if D is not None:
        y = y + D.to(ct)[:, None] * u
    if z is not None:
        y = y * F.silu(z.to(ct))
    return y.to(dtype_in)
