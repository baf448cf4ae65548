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

This module computes the same recurrence (chunks scanned from a zero state, a scan over the
chunk ends for the carry, recursively) with pure tensor functions and no data-dependent
Python: every branch depends on shapes only, which are static in an exported graph. What
differs is shaped by what ONNX Runtime and OpenVINO make of it (nano's 11 scans at 480×640,
2 threads):

* layout: states are (b, n, d, nc, T), chunks cut by a Reshape of the natural (..., L) (the
  eager path's (T, ..., nc) needed 3 full-size Transposes per scan);
* a chunk's scan is two MatMuls with constant triangles: with ``q`` the prefix sums of the
  log decays ``la = Δ·A ≤ 0`` less their value at the chunk's middle step,
  ``h_t = Σ_{s≤t} exp(q_t − q_s) x_s = exp(q_t) · Σ_{s≤t} exp(−q_s) x_s``. OpenVINO runs them
  as FullyConnected nodes (AMX in bf16) and fuses the exps and products around them. Before
  (issue 26), a log-depth Hillis–Steele scan over chunks of 64: six levels, each two Pads
  (OpenVINO's reference kernel: 284 Pad nodes, 7 % of nano's bf16 time) and a pass over
  the whole state; the MatMul form made nano's whole bf16 graph ~10 % faster (ONNX Runtime
  329 → 262 ms) at the same labels (99.96 % against torch fp32 on 8 probe pairs, before and
  after). In fp16 (TensorRT) these exps overflow: its fp16 engines hold everything but the
  convolutions in float32 (``backends/tensorrt_runner.py``);
* the factorisation needs finite ``exp(±q)``: a step's log decay is floored at
  ``LOG_DECAY_FLOOR`` = −8 in chunks of ``CHUNK`` = 16 (|q| ≤ 8 · 8 = 64, so exp(−q) ⊙ x
  overflows float32 or bfloat16 only past |x| ≈ 5e10). A step that keeps less than
  exp(−8) ≈ 3.4e-4 of the state before it (a reset: Δ·A < −8) keeps exactly that much: at
  most 3.4e-4 of a state, below bfloat16's resolution (2⁻⁸) and far below the parity bar.
  Where no step is floored the scan is exact;
* the carry, a scan over the chunk ends, is recursive doubling (``_scan_doubling``): ⌈log₂⌉
  levels of a Pad and a fused multiply-add on 1/16 of the state. Few nodes matter more than
  passes there: the chunked MatMul form recursively over the ends (four levels of ~16 small
  nodes per scan) was 8 % of nano's bf16 time, the doubling form ~2 %;
* decays travel as logs and are exponentiated once each (never a product of decays, never a
  division): OpenVINO's bf16 hint runs these ops in bfloat16, where a decay near 1 lies on a
  grid of 2⁻⁸ (multiplying decays as such had moved nano's labels by 0.18 %);
* Δ = softplus(Δ + bias) is ``softplus_graph`` (its threshold-20 branch is an elementwise
  ``Where``, not a Python ``if``); y sums over n with a Squeeze, not a ReduceSum, at n = 1.

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

# Chunk length and the floor of a step's log decay: the exponents stay within
# ±CHUNK/2 · |floor| = ±64 (module docstring).
CHUNK, LOG_DECAY_FLOOR = 16, -8.0


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


def _triangles(T: int, like: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The constant matrices of a chunk of T steps (right factors of a MatMul over the steps):
    ``M[s, t] = 1`` for s ≤ t (prefix sums), ``Mq = M − w`` (prefix sums less the sum up to
    the chunk's middle step ``T/2 − 1``) and ``w`` (T, 1) (that middle sum)."""
    steps = torch.arange(T, device=like.device)
    M = (steps[:, None] <= steps[None, :]).to(like.dtype)
    w = (steps <= max(T // 2 - 1, 0)).to(like.dtype)[:, None]
    return M, M - w, w


def _shift(x: Tensor, o: int) -> Tensor:
    """x moved o steps later along the last dim, zeros in front: one ONNX Pad (its negative
    end pad drops the last o)."""
    return F.pad(x, (o, -o))


def _scan_doubling(x: Tensor, la: Tensor) -> Tensor:
    """Inclusive scan along the last dim from a zero state by recursive doubling
    (Hillis–Steele), ``h_t = a_t ⊙ h_{t-1} + x_t``, decays as logs ``la ≤ 0``, exact.

    Before the level of offset o, h_t sums the window (t-o, t] and lp_t the log decays over
    it; a level doubles the window: ``h += exp(lp) ⊙ shift(h, o)``, ``lp += shift(lp, o)``.
    ⌈log₂ L⌉ levels of a few nodes, every one a pass over the whole input: the carry's form,
    where the input is the chunk ends (1/CHUNK of the state) and few nodes matter more than
    passes.
    """
    h, lp, o = x, la, 1
    while o < x.shape[-1]:
        h = h + torch.exp(lp) * _shift(h, o)
        if 2 * o < x.shape[-1]:
            lp = lp + _shift(lp, o)
        o *= 2
    return h


def _scan_last(x: Tensor, la: Tensor) -> Tensor:
    """Inclusive scan along the last dim, ``h_t = a_t ⊙ h_{t-1} + x_t`` from a zero state,
    decays given as logs ``la = log a ≤ 0`` (floored at ``LOG_DECAY_FLOOR``), any length.
    x, la (..., L). The graph form of ``recurrence.scan_natural``.

    In chunks of T = ``CHUNK`` steps, with ``lp`` the prefix sums of la inside a chunk and
    ``m`` their value at the middle step, ``q = lp − m``:
    ``h_t = Σ_{s≤t} exp(lp_t − lp_s) x_s = exp(q_t) · Σ_{s≤t} exp(−q_s) x_s`` — the prefix
    sums of q and of ``exp(−q) ⊙ x`` are MatMuls with constant triangles. The floor keeps
    |q| ≤ T/2 · |floor| = 64, so the exps stay finite in float32 and bfloat16. The states
    entering the chunks come from a scan over the chunk ends (``_scan_doubling``, exact),
    then ``h_t += exp(q_t + m) · H``.
    """
    length = x.shape[-1]
    T = min(length, CHUNK)
    nc = math.ceil(length / T)
    pad = nc * T - length
    if pad:  # identity steps (x = 0, decay 1) on the ragged tail
        x, la = F.pad(x, (0, pad)), F.pad(la, (0, pad))
    xb = x.reshape(*x.shape[:-1], nc, T)
    lab = la.clamp(min=LOG_DECAY_FLOOR).reshape(*la.shape[:-1], nc, T)
    M, Mq, w = _triangles(T, x)
    q = lab @ Mq  # (..., nc, T)
    cs = (torch.exp(-q) * xb) @ M
    if nc == 1:
        h = torch.exp(q) * cs
    else:
        m = lab @ w  # (..., nc, 1)
        ends = torch.exp(q[..., -1]) * cs[..., -1]  # chunk-end states from a zero start
        lc = q[..., :-1, -1] + m[..., :-1, 0]  # chunk log decays
        S = _scan_doubling(ends[..., :-1], lc)
        H = F.pad(S, (1, 0))[..., None]  # state entering each chunk: (0, S_0, …, S_{nc-2})
        h = torch.exp(q) * (cs + torch.exp(m) * H)
    h = h.reshape(*h.shape[:-2], nc * T)
    return h[..., :length] if pad else h


def scan_graph(
    u: Tensor, delta: Tensor, A: Tensor, B4: Tensor, C4: Tensor, D: Tensor | None
) -> Tensor:
    """y = Σ_n C ⊙ h (+ D u), (b,d,l): ``torch_backend.scan_inference`` without in-place updates.

    u, delta (b,d,l) with Δ already biased and activated; A (d,n); B4, C4 (b,g,n,l).
    States are (b, n, d, nc, T).
    """
    b, d, length = u.shape
    n = A.shape[1]
    gB, gC = B4.shape[1], C4.shape[1]
    Bn = B4.transpose(1, 2).unsqueeze(3)  # (b,n,gB,1,l)
    x = ((delta * u).view(b, 1, gB, d // gB, length) * Bn).reshape(b, n, d, length)
    h = _scan_last(x, delta.unsqueeze(1) * A.t()[None, :, :, None])  # log decays Δ·A ≤ 0
    hc = h.view(b, n, gC, d // gC, length) * C4.transpose(1, 2).unsqueeze(3)
    # a ReduceSum over a size-1 axis is still a pass over the state (1.5 ms a scan in ONNX Runtime)
    y = (hc.squeeze(1) if n == 1 else hc.sum(1)).reshape(b, d, length)
    if D is not None:
        y = y + D[:, None] * u
    return y
