"""The ``"torch"`` backend: inputs prepared once, then the autograd scan or the inference scan.

With a gradient to compute the call goes through :class:`~.chunked.SelectiveScanCore` (chunked
two-level scan, hand-written backward). Without one (inference) the full chunked state is
formed once and scanned in place; under graph capture (ONNX export, torch.compile) the same
maths runs as the static graph of :mod:`.graph`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from sccosf_ros.model.ssm.checks import as_grouped, compute_dtype
from sccosf_ros.model.ssm.chunked import SelectiveScanCore, blocked_forward, blocking_for
from sccosf_ros.model.ssm.graph import capturing, scan_graph, softplus_graph
from sccosf_ros.model.ssm.recurrence import (
    bc_to_chunks,
    decay,
    from_chunks,
    scan_chunks,
    to_chunks,
)


def softplus_inference(x: Tensor) -> Tensor:
    """softplus(x) = log1p(exp(x)) (x itself for x > 20, like F.softplus), in x's dtype.

    torch's float32 CPU softplus/log1p kernels run ~8 ns per element on this path; going
    through float64 (exp, log1p, round back) is ~3.5x faster and correctly rounded for
    float32. Inference only (no autograd formula needed). Not on GPUs, where float64 is slow
    and the overflow check would synchronise.
    """
    if x.dtype == torch.float64 or x.device.type != "cpu":
        return F.softplus(x)
    r = x.double().exp_().log1p_().to(x.dtype)
    if x.numel() and x.max().item() > 20:  # exp overflows float64 past ~709; softplus is x there
        r = torch.where(x > 20, x, r)
    return r


def scan_inference(
    u: Tensor, delta: Tensor, A: Tensor, B4: Tensor, C4: Tensor, D: Tensor | None
) -> Tensor:
    """Forward only, no autograd bookkeeping: y = Σ_n C ⊙ h (+ D u), (b,d,l).

    The full chunked state is formed once and scanned in place by :func:`scan_chunks`
    (local scans of x and of the in-chunk decay products together, chunk carry, one
    correction), instead of the training forward's two recomputing passes over channel
    blocks; states over the device's ``infer_bytes`` go through that blocked forward.
    u, delta (b,d,l) with Δ already biased/activated; B4, C4 (b,g,n,l).
    """
    b, d, length = u.shape
    n = A.shape[1]
    blocking = blocking_for(u.device.type)
    T = min(length, blocking.T1)
    nc = math.ceil(length / T)
    if 2 * T * nc * n * d * b * u.element_size() > blocking.infer_bytes:
        y, _ = blocked_forward(u, delta, A, B4, C4)
        return y if D is None else y.addcmul_(D[:, None], u)
    gB, gC = B4.shape[1], C4.shape[1]
    dl = to_chunks(delta, T, nc)  # (T,d,b,nc)
    ul = to_chunks(u, T, nc)
    Bl, Cl = bc_to_chunks(B4, T, nc), bc_to_chunks(C4, T, nc)  # (T,n,g,b,nc)
    A_ = A.t()[:, :, None, None]  # (n,d,1,1)
    dl1 = dl.unsqueeze(1)  # (T,1,d,b,nc)
    xp = u.new_empty(T, 2, n, d, b, nc)  # [:, 0] states, [:, 1] decay products
    x = xp[:, 0]
    torch.mul(
        (dl * ul).view(T, 1, gB, d // gB, b, nc),
        Bl.unsqueeze(3),
        out=x.view(T, n, gB, d // gB, b, nc),
    )  # Δ u B
    h, _, _ = scan_chunks(x, decay(dl1, A_), dl1, A_, xp)
    Cx = Cl.unsqueeze(3)  # (T,n,gC,1,b,nc)
    hv = h.view(T, n, gC, d // gC, b, nc)
    if n == 1:
        y = torch.mul(hv[:, 0], Cx[:, 0]).view(T, d, b, nc)
    else:
        y = torch.mul(hv, Cx).sum(1).view(T, d, b, nc)
    if D is not None:
        y.addcmul_(D[None, :, None, None], ul)
    return from_chunks(y, length)


def prepare(
    delta: Tensor,
    B: Tensor,
    C: Tensor,
    delta_bias: Tensor | None,
    delta_softplus: bool,
    ct: torch.dtype,
    softplus: Callable[[Tensor], Tensor],
) -> tuple[Tensor, Tensor, Tensor]:
    """Δ with bias and softplus applied, B and C as contiguous (b,g,n,l), all in ``ct``."""
    delta = delta.to(ct)
    if delta_bias is not None:
        delta = delta + delta_bias.to(ct)[:, None]
    if delta_softplus:
        delta = softplus(delta)
    B4 = as_grouped(B, "B").to(ct).contiguous()
    C4 = as_grouped(C, "C").to(ct).contiguous()
    return delta.contiguous(), B4, C4


def selective_scan_torch(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    z: Tensor | None,
    delta_bias: Tensor | None,
    delta_softplus: bool,
) -> Tensor:
    dtype_in = u.dtype
    ct = compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    inputs = (u, delta, A, B, C, D, z, delta_bias)
    if not (torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs)):
        return _selective_scan_no_grad(*inputs, delta_softplus, ct).to(dtype_in)
    uc = u.to(ct)
    delta, B4, C4 = prepare(delta, B, C, delta_bias, delta_softplus, ct, F.softplus)
    y = SelectiveScanCore.apply(uc.contiguous(), delta, A.to(ct), B4, C4)
    if D is not None:
        y = y + D.to(ct)[:, None] * uc
    if z is not None:
        y = y * F.silu(z.to(ct))
    return y.to(dtype_in)


def _selective_scan_no_grad(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    z: Tensor | None,
    delta_bias: Tensor | None,
    delta_softplus: bool,
    ct: torch.dtype,
) -> Tensor:
    """The torch path when nothing needs a gradient (inference): same maths, fewer passes.

    Under graph capture (ONNX export, torch.compile) the same maths runs as the static graph of
    ``model/ssm/graph.py``: the eager path's in-place views and ``.item()`` test do not trace.
    """
    uc = u.to(ct).contiguous()
    graph = capturing()
    softplus = softplus_graph if graph else softplus_inference
    delta, B4, C4 = prepare(delta, B, C, delta_bias, delta_softplus, ct, softplus)
    scan = scan_graph if graph else scan_inference
    y = scan(uc, delta, A.to(ct), B4, C4, None if D is None else D.to(ct))
    if z is not None:
        y = y * F.silu(z.to(ct))
    return y
