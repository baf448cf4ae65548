"""Input checks shared by every selective-scan backend: shapes, grouping and working dtype.

The working dtype lives here (not in one backend) so that the PyTorch and Triton paths both
use it without importing each other.
"""

from __future__ import annotations

import torch
from torch import Tensor


def compute_dtype(*tensors: Tensor | None) -> torch.dtype:
    """float64 if any input is float64, else float32 (half/bf16 are computed in float32)."""
    if any(t is not None and t.dtype == torch.float64 for t in tensors):
        return torch.float64
    return torch.float32


def as_grouped(M: Tensor, name: str) -> Tensor:
    """(b,n,l) → (b,1,n,l); (b,g,n,l) unchanged."""
    if M.dim() == 3:
        return M.unsqueeze(1)
    if M.dim() == 4:
        return M
    raise ValueError(f"{name} must be (b,n,l) or grouped (b,g,n,l), got shape {tuple(M.shape)}")


def check_shapes(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    z: Tensor | None,
    delta_bias: Tensor | None,
) -> None:
    """Raise ValueError unless the shapes are those of mamba-ssm's ``selective_scan_fn``."""
    if u.dim() != 3:
        raise ValueError(f"u must be (b,d,l), got shape {tuple(u.shape)}")
    b, d, length = u.shape
    if delta.shape != u.shape:
        raise ValueError(f"delta must have u's shape {tuple(u.shape)}, got {tuple(delta.shape)}")
    if A.is_complex():
        raise ValueError("complex A is not supported; pass a real (d,n) A = -exp(A_log)")
    if A.dim() != 2 or A.shape[0] != d:
        raise ValueError(f"A must be (d,n) = ({d}, n), got shape {tuple(A.shape)}")
    n = A.shape[1]
    for name, M in (("B", B), ("C", C)):
        M4 = as_grouped(M, name)
        g = M4.shape[1]
        if M4.shape[0] != b or M4.shape[2] != n or M4.shape[3] != length:
            raise ValueError(
                f"{name} must be (b,n,l) = ({b}, {n}, {length}) or (b,g,n,l), "
                f"got shape {tuple(M.shape)}"
            )
        if g < 1 or d % g:
            raise ValueError(f"{name} has {g} groups, which must divide d = {d}")
    if D is not None and D.shape != (d,):
        raise ValueError(f"D must be (d,) = ({d},), got shape {tuple(D.shape)}")
    if z is not None and z.shape != u.shape:
        raise ValueError(f"z must have u's shape {tuple(u.shape)}, got {tuple(z.shape)}")
    if delta_bias is not None and delta_bias.shape != (d,):
        raise ValueError(f"delta_bias must be (d,) = ({d},), got shape {tuple(delta_bias.shape)}")
