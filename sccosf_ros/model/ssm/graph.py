"""The selective scan as a static dataflow graph: what ONNX export (and any graph capture) runs.

The eager inference path of :mod:`~sccosf_ros.model.ssm.torch_backend` is written for PyTorch's
CPU kernels: it scans in place through views of one preallocated buffer (``addcmul_`` on ``unbind``
slices), checks a buffer's ``data_ptr`` and tests ``x.max().item() > 20`` before deciding
whether softplus needs its large-input branch. None of that survives graph capture faithfully:

* ``.item()`` is data-dependent control flow: a tracer freezes the branch taken on the example
  input (``torch.jit.trace`` silently; ``torch.export`` refuses), so a graph traced on inputs
  without large Δ drops the ``x > 20`` branch and is wrong on the inputs that have them;
* ``data_ptr`` does not exist on the fake tensors graph capture traces with;
* in-place updates of views become, after functionalisation, one scatter of the whole buffer
  per step: O(T²) memory traffic instead of O(T).

This module computes the same recurrence (the same two-level chunked scheme as :mod:`.chunked`'s
module docstring describes: local scans from a zero state, a scan over the chunk ends for the
carry, recursively) with pure tensor functions and no data-dependent Python: every branch
depends on shapes only, which are static in an exported graph. What differs is shaped by
what ONNX Runtime and OpenVINO make of it (nano's 11 scans at 480×640, 2 threads; before:
the T steps of a chunk unrolled as T multiply-adds, ~2450 nodes for the 11 scans):

* layout: states are (b, n, d, nc, T), sequence blocks cut by a Reshape of the natural
  (..., L) (the eager path's (T, ..., nc) needed 3 full-size Transposes per scan, which were
  half of ONNX Runtime's time);
* local scans are log-depth (Hillis–Steele, ``_local_scan``): ⌈log₂ T⌉ levels, each a Pad
  (a shift along the chunk) and a fused multiply-add over the whole state, instead of T
  steps of a few small nodes each;
* decays travel as logs, log a = Δ·A ≤ 0: a level adds shifted log sums and multiplies by
  their exp, the in-chunk decay products come out as ``p_t = exp(Σ_{r≤t} Δ_r A)`` (no CumSum),
  and the carry scans the chunk ends with their chunk log decays. Never a division. Why logs:
  OpenVINO's bf16 hint runs these ops in bfloat16, where a decay near 1 lies on a grid of
  2⁻⁸; multiplying decays as such (no Exp per level) moved nano's 480×640 labels by
  0.18 % and the fused image by up to 19/255 in bf16, against 0.02 % and 2/255 for logs;
* chunks are ``CHUNK`` = 64 steps at every level: in graph form each level is a pass over the
  whole state, so the eager path's chunk lengths (32/16, set by its in-place loops) do not
  apply; 64 was the fastest of 16…256 (ONNX Runtime ~10 % faster than 32 and 128,
  OpenVINO alike within noise);
* Δ = softplus(Δ + bias) is ``softplus_graph`` (its threshold-20 branch is an elementwise
  ``Where``, not a Python ``if``); y sums over n with a Squeeze, not a ReduceSum, at n = 1.

Measured on the scans alone (p50, runs interleaved on a shared 2-core machine): ONNX Runtime
86 → 52 ms, OpenVINO 74 → 54 ms; 2451 → 1139 nodes (the whole nano graph: 3372 → 2060).

``capturing()`` tells the eager code when to come here; plain eager inference never does, so
the torch path keeps its speed. ``test/model/ssm/test_graph.py`` checks this path against the
sequential reference and the eager path, and ``sccosf export`` checks the exported model
against the eager network.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

# Chunk length of the graph form at every level (see the module docstring).
CHUNK = 64


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


def _shift(x: Tensor, o: int) -> Tensor:
    """x moved o steps later along the last dim, zeros in front: one ONNX Pad (its negative
    end pad drops the last o), cheaper in both runtimes than Slice + Pad or Concat."""
    return F.pad(x, (o, -o))


def _local_scan(x: Tensor, la: Tensor) -> tuple[Tensor, Tensor]:
    """Inclusive scan along the last dim from a zero state, log-depth (Hillis–Steele):
    h_t = a_t ⊙ h_{t-1} + x_t with decays given as logs, la = log a ≤ 0.

    Returns h and lp, lp_t = Σ_{r≤t} la_r (so p_t = Π_{r≤t} a_r = exp(lp_t); la_0 enters lp
    only). Before the level of offset o, h_t sums the window (t-o, t] and lp_t is the sum of la
    over it (both clipped at step 0); a level doubles the window: h += exp(lp) ⊙ (h shifted by
    o), lp += lp shifted by o (zeros shifted in: nothing before step 0). ⌈log₂ T⌉ levels of
    whole-tensor ops instead of T steps on slices; exp of sums ≤ 0 only, no division.
    """
    h, lp, o = x, la, 1
    while o < x.shape[-1]:
        h = h + torch.exp(lp) * _shift(h, o)
        lp = lp + _shift(lp, o)
        o *= 2
    return h, lp


def _scan_last(x: Tensor, la: Tensor) -> Tensor:
    """Inclusive scan along the last dim, ``x_k ← a_k x_{k-1} + x_k`` (la = log a, la_0
    unused), any length. x, la (..., L). The graph form of ``recurrence.scan_natural``."""
    length = x.shape[-1]
    if length <= CHUNK:
        return _local_scan(x, la)[0]
    nc = math.ceil(length / CHUNK)
    return _unblock(_scan_blocks(_blocks(x, CHUNK, nc), _blocks(la, CHUNK, nc)), length)


def _scan_blocks(x: Tensor, la: Tensor) -> Tensor:
    """Chunked inclusive scan: x, la (..., nc, T), chunk c holding steps c·T … c·T + T-1.

    The graph form of ``recurrence.scan_chunks``: local scans from a zero state (with their log
    decay products lp), the states leaving chunks 0…nc-2 by a scan over the chunk ends (a
    chunk's log decay is lp at its last step), then ``h += exp(lp) ⊙ H`` with H the state
    entering each chunk.
    """
    h, lp = _local_scan(x, la)
    if x.shape[-2] == 1:
        return h
    S = _scan_last(h[..., :-1, -1], lp[..., :-1, -1])
    return h + torch.exp(lp) * F.pad(S, (1, 0))[..., None]  # H = (0, S_0, …, S_{nc-2})


def scan_graph(
    u: Tensor, delta: Tensor, A: Tensor, B4: Tensor, C4: Tensor, D: Tensor | None
) -> Tensor:
    """y = Σ_n C ⊙ h (+ D u), (b,d,l): ``torch_backend.scan_inference`` without in-place updates.

    u, delta (b,d,l) with Δ already biased and activated; A (d,n); B4, C4 (b,g,n,l).
    States are (b, n, d, nc, T).
    """
    b, d, length = u.shape
    n = A.shape[1]
    T = min(length, CHUNK)
    nc = math.ceil(length / T)
    gB, gC = B4.shape[1], C4.shape[1]
    dl = _blocks(delta, T, nc)  # (b,d,nc,T)
    ul = _blocks(u, T, nc)
    Bl = _blocks(B4.transpose(1, 2), T, nc).unsqueeze(3)  # (b,n,g,1,nc,T)
    Cl = _blocks(C4.transpose(1, 2), T, nc).unsqueeze(3)
    A_ = A.t()[None, :, :, None, None]  # (1,n,d,1,1)
    x = ((dl * ul).view(b, 1, gB, d // gB, nc, T) * Bl).reshape(b, n, d, nc, T)
    h = _scan_blocks(x, dl.unsqueeze(1) * A_)  # log decays Δ·A ≤ 0
    hc = h.view(b, n, gC, d // gC, nc, T) * Cl
    # a ReduceSum over a size-1 axis is still a pass over the state (1.5 ms a scan in ONNX Runtime)
    y = (hc.squeeze(1) if n == 1 else hc.sum(1)).reshape(b, d, nc, T)
    if D is not None:
        y = y + D[None, :, None, None] * ul
    return _unblock(y, length)


def _blocks(x: Tensor, T: int, nc: int) -> Tensor:
    """(..., L) → (..., nc, T), tail zero-padded to nc·T: a Reshape, no Transpose."""
    pad = nc * T - x.shape[-1]
    if pad:
        x = F.pad(x, (0, pad))
    return x.reshape(*x.shape[:-1], nc, T)


def _unblock(x: Tensor, length: int) -> Tensor:
    """(..., nc, T) → (..., L)."""
    y = x.reshape(*x.shape[:-2], -1)
    return y[..., :length] if y.shape[-1] > length else y
