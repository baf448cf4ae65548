"""The selective scan as a static dataflow graph: what ONNX export (and any graph capture) runs.

The eager inference path of :mod:`sccosf_ros.model.ssm` is written for PyTorch's CPU kernels:
it scans in place through views of one preallocated buffer (``addcmul_`` on ``unbind``
slices), checks a buffer's ``data_ptr`` and tests ``x.max().item() > 20`` before deciding
whether softplus needs its large-input branch. None of that survives graph capture faithfully:

* ``.item()`` is data-dependent control flow: a tracer freezes the branch taken on the example
  input (``torch.jit.trace`` silently; ``torch.export`` refuses), so a graph traced on inputs
  without large Δ drops the ``x > 20`` branch and is wrong on the inputs that have them;
* ``data_ptr`` does not exist on the fake tensors graph capture traces with;
* in-place updates of views become, after functionalisation, one scatter of the whole buffer
  per step: O(T²) memory traffic instead of O(T).

This module computes the same recurrence (same chunked two-level scheme, same chunk length,
same layouts, see ``ssm``'s module docstring) with pure tensor functions and no data-dependent
Python: every branch depends on shapes only, which are static in an exported graph.

* Δ = softplus(Δ + bias) is ``softplus_graph`` (its threshold-20 branch is an elementwise
  ``Where``, not a Python ``if``).
* local scans are ``h_t = a_t ⊙ h_{t-1} + x_t`` over ``unbind`` → ``stack`` (ONNX Split and
  Concat around T multiply-adds);
* the in-chunk decay products ``p_t = Π_{r≤t} a_r`` are ``exp(A · cumsum(Δ))`` (one CumSum),
  not a second recurrence; A ≤ 0 and Δ ≥ 0 keep the exponent ≤ 0, so nothing overflows;
* the chunk carry and the correction ``h += p ⊙ H`` are the same as in eager.

``capturing()`` tells the eager code when to come here; plain eager inference never does, so
the torch path keeps its speed. ``test/model/test_ssm_graph.py`` checks this path against the
sequential reference and the eager path, and ``sccosf export`` checks the exported model
against the eager network.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from sccosf_ros.model import ssm


def capturing() -> bool:
    """True while a graph is being captured (torch.export / ONNX export, torch.compile,
    torch.jit.trace): shape-only Python control flow is allowed, data-dependent is not."""
    return bool(torch.compiler.is_compiling() or torch.jit.is_tracing())


def softplus_graph(x: Tensor) -> Tensor:
    """softplus with F.softplus's threshold (x itself for x > 20), as elementwise ops.

    ``F.softplus`` exports as ONNX Softplus + Where; ONNX Runtime's Softplus kernel took
    25 ms over nano's scans at 480×640, Exp/Log/Where a fraction of it. ``exp`` overflowing to
    inf past x ≈ 88 is harmless: Where takes x there. log1p exports as Log(1 + ·), which is
    0 instead of e^x for x < -16.6, an absolute difference below 6e-8 in Δ.
    """
    return torch.where(x > 20, x, torch.log1p(torch.exp(x)))


def _local_scan(x: Tensor, a: Tensor, dim: int = 0) -> Tensor:
    """Inclusive scan along ``dim`` from a zero state: h_0 = x_0, h_t = a_t ⊙ h_{t-1} + x_t.

    ``split(1)`` keeps the scanned dim (size 1) and ``cat`` joins the steps back: one ONNX
    Split and one Concat, where ``unbind``/``stack`` would add a Squeeze/Unsqueeze (a copy in
    ONNX Runtime) per step.
    """
    xs, as_ = x.split(1, dim), a.split(1, dim)
    hs = [xs[0]]
    for t in range(1, len(xs)):
        hs.append(torch.addcmul(xs[t], as_[t], hs[-1]))
    return torch.cat(hs, dim)


def _scan_last(x: Tensor, dl: Tensor, A_: Tensor) -> Tensor:
    """Inclusive scan along the last dim, ``x_k ← exp(dl_k A) x_{k-1} + x_k`` (dl_0 unused).

    x (n, d, b, L), dl (1, d, b, L), A_ (n, d, 1, 1). The graph form of ``ssm._scan_natural``.
    """
    length = x.shape[-1]
    if length <= ssm._T:
        return x if length == 1 else _local_scan(x, torch.exp(dl * A_), -1)
    nc = math.ceil(length / ssm._T)
    xl, dll = _chunk_last(x, ssm._T, nc), _chunk_last(dl, ssm._T, nc)
    return _unchunk_last(_scan_chunked(xl, dll, A_), length)


def _scan_chunked(x: Tensor, dl: Tensor, A_: Tensor) -> Tensor:
    """Chunked inclusive scan: x (T, n, d, b, nc), dl (T, 1, d, b, nc) → states h, same shape.

    The graph form of ``ssm._scan_chunks``: local scans from a zero state, the carry H (state
    entering each chunk) by a scan over the chunk ends, then ``h = h_local + p ⊙ H``.
    """
    cum = dl.cumsum(0)  # (T,1,d,b,nc): Σ_{r≤t} Δ_r within each chunk
    a = torch.exp(dl * A_)
    h = _local_scan(x, a)
    if x.shape[-1] == 1:
        return h
    p = torch.exp(cum * A_)  # in-chunk decay products, ≤ 1
    total = cum[-1]  # (1,d,b,nc)
    carry = _scan_last(h[-1, ..., :-1], total[..., :-1], A_)  # state entering chunks 1..nc-1
    H = torch.cat([torch.zeros_like(carry[..., :1]), carry], -1)  # (n,d,b,nc)
    return torch.addcmul(h, p, H)


def scan_graph(
    u: Tensor, delta: Tensor, A: Tensor, B4: Tensor, C4: Tensor, D: Tensor | None
) -> Tensor:
    """y = Σ_n C ⊙ h (+ D u), (b,d,l): ``ssm._scan_inference`` without in-place updates.

    u, delta (b,d,l) with Δ already biased and activated; A (d,n); B4, C4 (b,g,n,l).
    """
    b, d, length = u.shape
    n = A.shape[1]
    T = min(length, ssm._blocking(u.device.type).T1)
    nc = math.ceil(length / T)
    gB, gC = B4.shape[1], C4.shape[1]
    dl = _chunk_last(delta.transpose(0, 1), T, nc)  # (T,d,b,nc)
    ul = _chunk_last(u.transpose(0, 1), T, nc)
    Bl = _chunk_last(B4.permute(2, 1, 0, 3), T, nc)  # (T,n,g,b,nc)
    Cl = _chunk_last(C4.permute(2, 1, 0, 3), T, nc)
    A_ = A.t()[:, :, None, None]  # (n,d,1,1)
    x = ((dl * ul).view(T, 1, gB, d // gB, b, nc) * Bl.unsqueeze(3)).reshape(T, n, d, b, nc)
    h = _scan_chunked(x, dl.unsqueeze(1), A_)  # (T,n,d,b,nc)
    y = (h.view(T, n, gC, d // gC, b, nc) * Cl.unsqueeze(3)).sum(1).reshape(T, d, b, nc)
    if D is not None:
        y = torch.addcmul(y, D[None, :, None, None], ul)
    return _unchunk_last(y, length).transpose(0, 1)  # (b,d,l)


def _chunk_last(x: Tensor, T: int, nc: int) -> Tensor:
    """(..., L) → (T, ..., nc), tail zero-padded: one Pad, Reshape and Transpose in ONNX
    (``ssm._chunk_last`` uses two cheaper-in-eager copies instead)."""
    pad = nc * T - x.shape[-1]
    if pad:
        x = F.pad(x, (0, pad))
    k = x.dim()
    y = x.reshape(*x.shape[:-1], nc, T)
    return y.permute(k, *range(k - 1), k - 1)


def _unchunk_last(x: Tensor, length: int) -> Tensor:
    """(T, ..., nc) → (..., L)."""
    k = x.dim()
    y = x.permute(*range(1, k), 0).reshape(*x.shape[1:-1], -1)
    return y[..., :length] if y.shape[-1] > length else y
