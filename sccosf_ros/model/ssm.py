"""Selective scan, the S6 core of Sc-LRB / Cross S6 / SS2D (paper §3.2.1, Mamba's Eq. 2).

Semantics and shapes are exactly those of mamba-ssm's ``selective_scan_fn``::

    Δ = softplus(delta + delta_bias)            (bias and softplus optional)
    h_t = exp(Δ_t A) ⊙ h_{t-1} + Δ_t B_t u_t    h_{-1} = 0, state (n,) per (batch, channel)
    y_t = C_t · h_t + D u_t
    out = y ⊙ silu(z)                           (when z is given)

with u, delta, z (b,d,l); A (d,n) real; B, C (b,n,l) or grouped (b,g,n,l) where channel i
reads group i // (d/g); D, delta_bias (d,). The result has u's dtype; half/bfloat16 inputs
are computed in float32 (float64 inputs stay float64).

Backends (``selective_scan(..., backend=)``):

* ``"mamba_ssm"``: mamba-ssm's fused CUDA kernel (CUDA tensors, package installed).
* ``"triton"``: the Triton kernels of :mod:`sccosf_ros.model.ssm_triton` (forward and
  backward; CUDA tensors, or CPU tensors under Triton's interpreter, ``TRITON_INTERPRET=1``).
  Triton ships with torch's CUDA wheels: no compiling against the local CUDA toolkit.
* ``"torch"``: the pure-PyTorch path below, used on CPU and wherever no kernel is available.
* ``"auto"`` (:func:`choose_backend`): on CUDA tensors mamba_ssm when importable, else triton
  when importable, else torch; on other devices torch.

The PyTorch path: chunked two-level scan with a hand-written backward
----------------------------------------------------------------------
The length l is cut into ``nc`` chunks of ``T`` steps (32 on CPU, 16 on CUDA; the ragged
tail is padded with Δ = 0, u = 0, an identity step, and sliced off again). Channels are
processed in blocks of ``db`` (on CPU so that one block's (T, n, db, b, nc) work buffers stay
a few MB, in cache, whatever b·d·n·l is; on CUDA all channels of the call at once, within a
memory bound, since there each op is a kernel launch: see ``_Blocking``), in the layout
(T, ..., nc): "step t of every chunk" is one contiguous slice and the long chunk axis is
innermost.

Forward, two passes over the blocks:

1. Local scans: ``a = exp(Δ A)``, ``x = Δ u B``, then a Python loop over the T steps,
   vectorised over all chunks at once, ``x[t] += a[t] ⊙ x[t-1]`` (zero state per chunk).
   Only the chunk-end states are kept (1/T of the state).
2. Chunk carry, all channels at once: ``S_c = exp(A Σ_{t∈c} Δ_t) ⊙ S_{c-1} + x_end,c``; the
   state entering chunk c is ``H_c = S_{c-1}``. This is again a linear recurrence (length
   nc), solved by the same chunked scheme recursively (chunks of 16, local loop, carry,
   correction ``x += p ⊙ H`` with the in-chunk decay products ``p_t = Π_{r≤t} a_r``, which
   are ≤ 1 for A ≤ 0: nothing overflows and nothing is divided by a decayed product, unlike
   log-space or cumulative-product formulations).
3. Second pass: recompute a and x, inject the carry ``x[0] += a[0] ⊙ H``, rerun the local
   loop (now exact states h) and reduce ``y = Σ_n C ⊙ h`` block by block.

Backward: h (b·d·n·l floats, 472 MB at b=2, d=192, n=16, l=19200) is never stored, only the
chunk-entry states H (1/T of it). Two passes again recompute h per block and run the adjoint
recurrence ``g_t = C_t gy_t + a_{t+1} ⊙ g_{t+1}`` backwards inside each chunk; its carry (the
adjoint G_c at each chunk's first step, ``G_c = g_first,c + λ_c G_{c+1}``) is a forward scan
over the flipped chunks. The second pass forms

    ∂B_t = Σ_d g_t Δ_t u_t     ∂C_t = Σ_d h_t gy_t     ∂(Δu)_t = Σ_n g_t B_t
    w_t = g_t ⊙ a_t ⊙ h_{t-1}  ∂A = Σ_{b,t} w_t Δ_t    ∂Δ_t = Σ_n w_t A + ∂(Δu)_t u_t

(grouped B/C reduce over the channels of their group). delta_bias, softplus, D and the z
gate are ordinary autograd ops around this core (O(b·d·l), no state dimension).

Complexity: O(b·d·n·l) work each way (forward ≈ 2 exp + 6 cheap elementwise passes over
the state, backward ≈ 2 exp + 14), about 2T sequential Python steps per channel block per
direction plus O(log l) for the carry (≈ 10⁴ small ops per call at the sizes above, where a
step-by-step loop needs several per position), and O(b·d·n·l/T) extra memory
plus a few block buffers and the O(b·d·l) inputs/outputs. Every step is a multiply-add of
the exact recurrence in the working precision, so results match a sequential float64 scan
to float32 rounding. Compare mambapy's Blelloch pscan: O(b·d·n·l') work and memory with
l' = next power of two, through generic autograd of the whole (b, l', d, n) state.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx


def _compute_dtype(*tensors: Tensor | None) -> torch.dtype:
    """float64 if any input is float64, else float32 (half/bf16 are computed in float32)."""
    if any(t is not None and t.dtype == torch.float64 for t in tensors):
        return torch.float64
    return torch.float32


def _as_grouped(M: Tensor, name: str) -> Tensor:
    """(b,n,l) → (b,1,n,l); (b,g,n,l) unchanged."""
    if M.dim() == 3:
        return M.unsqueeze(1)
    if M.dim() == 4:
        return M
    raise ValueError(f"{name} must be (b,n,l) or grouped (b,g,n,l), got shape {tuple(M.shape)}")


def _check_shapes(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    z: Tensor | None,
    delta_bias: Tensor | None,
) -> None:
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
        M4 = _as_grouped(M, name)
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
    _check_shapes(u, delta, A, B, C, D, z, delta_bias)
    dtype_in = u.dtype
    ct = _compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    u, delta, A = u.to(ct), delta.to(ct), A.to(ct)
    b, d, length = u.shape
    B4, C4 = _as_grouped(B, "B").to(ct), _as_grouped(C, "C").to(ct)
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


# ----------------------------------------------------------------------------------------
# PyTorch path
# ----------------------------------------------------------------------------------------

# Chunk length at every level of the chunked scan; the chunk-level recurrences are scanned
# the same way recursively, so a level costs ~T sequential steps (16+16+16+5 at l = 19200).
_T = 16
# The first level's chunk length (per channel block, on the full state; the chunk-level
# tensors, states entering/leaving chunks, are 1/T1 of the state) and the channel-block size
# depend on the device: see _Blocking.

# Layouts. "natural": sequence last, (..., L). "chunked": (T, ..., nc) with sequence position
# c·T + t, so that step t of every chunk is one contiguous slice and the long chunk axis is
# innermost (broadcasts over n, d and b then run as long vectorised inner loops). State
# tensors are (..., n, db, b, seq); Δ-like tensors (..., 1, db, b, seq); A is passed as
# A_ = (n, db, 1, 1), so exp(Δ ⊗ A) is exp(dl * A_) in either layout.


def _chunk_last(x: Tensor, T: int, nc: int) -> Tensor:
    """Natural (..., L) → chunked (T, ..., nc), contiguous, tail zero-padded to nc·T."""
    lead = x.shape[:-1]
    pad = nc * T - x.shape[-1]
    if pad:
        x = F.pad(x, (0, pad))
    # two cheap copies (a batched 2-D transpose, then moving whole nc-runs) instead of one
    # element-wise gather, which is 3-4x slower on CPU
    y = x.reshape(-1, nc, T).transpose(1, 2).contiguous()  # (M, T, nc)
    return y.view(*lead, T, nc).movedim(-2, 0).contiguous()


def _unchunk_last(x: Tensor, length: int) -> Tensor:
    """Chunked (T, ..., nc) → natural (..., L), contiguous."""
    T, nc = x.shape[0], x.shape[-1]
    lead = x.shape[1:-1]
    y = x.movedim(0, -2).contiguous().view(-1, T, nc)
    y = y.transpose(1, 2).contiguous().view(*lead, nc * T)
    return y[..., :length] if nc * T > length else y


def _to_chunks(x: Tensor, T: int, nc: int) -> Tensor:
    """(b, m, l) → (T, m, b, nc)."""
    b, m, length = x.shape
    if nc * T > length:
        x = F.pad(x, (0, nc * T - length))
    y = x.reshape(b * m, nc, T).transpose(1, 2).contiguous()  # see _chunk_last
    return y.view(b, m, T, nc).permute(2, 1, 0, 3).contiguous()


def _from_chunks(x: Tensor, length: int) -> Tensor:
    """(T, m, b, nc) → (b, m, l)."""
    T, m, b, nc = x.shape
    y = x.permute(2, 1, 0, 3).contiguous().view(b * m, T, nc)
    y = y.transpose(1, 2).contiguous().view(b, m, nc * T)
    return y[..., :length].contiguous() if nc * T > length else y


def _bc_to_chunks(M: Tensor, T: int, nc: int) -> Tensor:
    """(b, g, n, l) → (T, n, g, b, nc)."""
    return _chunk_last(M.permute(2, 1, 0, 3), T, nc)


def _bc_from_chunks(M: Tensor, length: int) -> Tensor:
    """(T, n, g, b, nc) → (b, g, n, l)."""
    return _unchunk_last(M, length).permute(2, 1, 0, 3).contiguous()


def _decay(dl: Tensor, A_: Tensor, out: Tensor | None = None) -> Tensor:
    """exp(dl ⊗ A): dl (..., 1, db, b, s) with A_ (n, db, 1, 1) → (..., n, db, b, s)."""
    if out is None:
        return torch.exp(dl * A_)
    return torch.mul(dl, A_, out=out).exp_()


def _scan_natural(x: Tensor, dl: Tensor, A_: Tensor) -> Tensor:
    """Inclusive scan along the last dim, ``x_k ← exp(dl_k A) x_{k-1} + x_k``, zero state.

    x (n, db, b, L), dl (1, db, b, L) (dl_0 is not used). Short sequences are a plain loop;
    longer ones go through :func:`_scan_chunks`, which recurses here for its chunk carry.
    Returns the states (x itself or a new tensor).
    """
    length = x.shape[-1]
    if length <= _T:
        if length > 1:
            xs, as_ = x.unbind(-1), _decay(dl[..., 1:], A_).unbind(-1)
            for k in range(1, length):
                xs[k].addcmul_(as_[k - 1], xs[k - 1])
        return x
    nc = math.ceil(length / _T)
    xl, dll = _chunk_last(x, _T, nc), _chunk_last(dl, _T, nc)
    h, _, _ = _scan_chunks(xl, _decay(dll, A_), dll, A_)
    return _unchunk_last(h, length)


def _scan_chunks(
    x: Tensor, a: Tensor, dl: Tensor, A_: Tensor, xp: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Chunked inclusive scan: x, a = exp(dl ⊗ A) (T, n, db, b, nc), dl (T, 1, db, b, nc).

    xp: optional (T, 2, n, db, b, nc) work buffer with xp[:, 0] = x (then x is scanned in
    place). Returns the states h (T, n, db, b, nc), H (n, db, b, nc), the true state entering
    each chunk (H[..., 0] = 0), and the chunk sums of dl (1, db, b, nc).
    """
    T, nc = x.shape[0], x.shape[-1]
    total = dl.sum(0)
    if nc == 1:
        xs, as_ = x.unbind(0), a.unbind(0)
        for t in range(1, T):
            xs[t].addcmul_(as_[t], xs[t - 1])
        return x, x.new_zeros(x.shape[1:]), total
    # x and the in-chunk decay products p_t = Π_{r≤t} a_r obey the same recurrence
    # (p_{-1} = 1), so one stacked (T, 2, ...) scan updates both with one op per step.
    xp = _stacked(x, xp)
    xp[:, 1].zero_()
    xp[0, 1].copy_(a[0])
    xps, as_ = xp.unbind(0), a.unsqueeze(1).unbind(0)
    for t in range(1, T):  # local scan from a zero state, every chunk at once
        xps[t].addcmul_(as_[t], xps[t - 1])
    x, p = xp[:, 0], xp[:, 1]
    H = x.new_empty(x.shape[1:])
    H[..., 0] = 0
    # chunk-end states: S_c = exp(A Σ_{t∈c} dl) S_{c-1} + x[T-1, c]
    H[..., 1:] = _scan_natural(x[-1, ..., :-1].clone(), total[..., :-1], A_)
    x[..., 1:].addcmul_(p[..., 1:], H[..., 1:])  # p ≤ 1 for A ≤ 0: nothing overflows
    return x, H, total


def _stacked(x: Tensor, buf: Tensor | None) -> Tensor:
    """A (T, 2, ...) tensor whose [:, 0] holds x: buf itself when buf[:, 0] is x."""
    if buf is not None and buf[:, 0].data_ptr() == x.data_ptr():
        return buf
    out = x.new_empty((x.shape[0], 2, *x.shape[1:]))
    out[:, 0] = x
    return out


@dataclass(frozen=True)
class _Blocking:
    """How the PyTorch path cuts a call into chunks and channel blocks on one device type.

    T1: first-level chunk length (a level costs ~T sequential steps of whole-block ops).
    block_bytes: target bytes of one (T, n, db, b, nc) work buffer; blocks are sized up to it.
    infer_bytes: the inference path keeps the whole state when it is at most this big.
    wide: blocks may span several B/C groups, and ∂B/∂C are reduced over a block's channels
    in one op (else blocks stay within a group and the reduction loops over the channels,
    which is faster on CPU for the few channels of a cache-sized block).
    """

    T1: int
    block_bytes: int
    infer_bytes: int
    wide: bool


# CPU: a channel block's buffers stay in cache (3 MB), chunks of 32; inference keeps the
# whole state up to 48 MB. CUDA: every op is a kernel launch, so all channels of a call form
# one block unless its buffers would pass 512 MB each (then the fewest blocks that fit), and
# first-level chunks of 16: at l = 19200 the levels are 16 + 16 + 16 + 5 sequential steps
# instead of 32 + 16 + 16 + 3, each on block-wide tensors.
_BLOCKING = {
    "cpu": _Blocking(T1=32, block_bytes=3 << 20, infer_bytes=48 << 20, wide=False),
    "cuda": _Blocking(T1=16, block_bytes=512 << 20, infer_bytes=1 << 30, wide=True),
}


def _blocking(device_type: str) -> _Blocking:
    return _BLOCKING.get(device_type, _BLOCKING["cpu"])


def _plan(
    length: int, b: int, d: int, g: int, n: int, itemsize: int, blocking: _Blocking
) -> tuple[int, int, int]:
    """Chunk length T, chunk count nc and channels per block db.

    db divides d/g (a block within one B/C group) or, with ``blocking.wide``, is a multiple
    of d/g dividing d (whole groups): the largest such db whose (T, n, db, b, nc) buffer fits
    ``block_bytes``.
    """
    T = min(length, blocking.T1)
    nc = math.ceil(length / T)
    per_channel = T * nc * b * n * itemsize
    dg = d // g
    want = max(1, blocking.block_bytes // max(per_channel, 1))
    if blocking.wide and want >= dg:  # whole groups
        return T, nc, dg * max(k for k in range(1, min(want // dg, g) + 1) if g % k == 0)
    db = max(k for k in range(1, min(want, dg) + 1) if dg % k == 0)
    return T, nc, db


def _grouped_mul(x: Tensor, M: Tensor, out: Tensor) -> Tensor:
    """out = x ⊙ M per B/C group: x (T, 1|n, db, b, nc) channels, M (T, n, k, b, nc) the
    matrices of the k groups the block spans (each for db/k consecutive channels)."""
    k = M.shape[2]
    if k == 1:
        return torch.mul(x, M, out=out)
    T, _, db, b, nc = out.shape
    torch.mul(
        x.view(T, x.shape[1], k, db // k, b, nc),
        M.unsqueeze(3),
        out=out.view(T, out.shape[1], k, db // k, b, nc),
    )
    return out


class _Block:
    """Views of the chunked inputs for channels [d0, d0 + db): within one B/C group, or whole
    groups (then Bl/Cl hold the matrices of every group the block spans)."""

    def __init__(self, x: _Chunked, d0: int, db: int) -> None:
        d1 = d0 + db
        self.sl = slice(d0, d1)
        self.dl = x.dl[:, :, d0:d1]  # (T,1,db,b,nc) Δ
        self.dul = x.dul[:, :, d0:d1]  # (T,1,db,b,nc) Δ·u
        self.A_ = x.A_[:, d0:d1]  # (n,db,1,1)
        gs_B, gs_C = x.d // x.Bl.shape[2], x.d // x.Cl.shape[2]  # channels per group
        self.gi_B, self.gi_C = d0 // gs_B, d0 // gs_C
        self.gB = slice(self.gi_B, max(self.gi_B + 1, d1 // gs_B))
        self.gC = slice(self.gi_C, max(self.gi_C + 1, d1 // gs_C))
        self.Bl = x.Bl[:, :, self.gB]  # (T,n,k,b,nc), k groups (k = 1 within a group)
        self.Cl = x.Cl[:, :, self.gC]


class _Chunked:
    """All inputs in the chunked layout (see _plan), plus the work buffers of one channel
    block and the per-block local scans of both passes."""

    def __init__(self, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor) -> None:
        b, d, length = u.shape
        n = A.shape[1]
        self.b, self.d, self.n, self.length = b, d, n, length
        self.blocking = _blocking(u.device.type)
        g = math.lcm(B.shape[1], C.shape[1])
        T, nc, db = _plan(length, b, d, g, n, u.element_size(), self.blocking)
        self.T, self.nc, self.db = T, nc, db
        self.dl = _to_chunks(delta, T, nc).unsqueeze(1)  # (T,1,d,b,nc)
        self.ul = _to_chunks(u, T, nc).unsqueeze(1)
        self.dul = self.dl * self.ul
        self.Bl, self.Cl = _bc_to_chunks(B, T, nc), _bc_to_chunks(C, T, nc)  # (T,n,g,b,nc)
        self.A_ = A.t()[:, :, None, None]  # (n,d,1,1)
        self.total = self.dl.sum(0)  # (1,d,b,nc) Σ_chunk Δ
        shape = (T, n, db, b, nc)
        self.a, self.h, self.p = (u.new_empty(shape) for _ in range(3))
        self.g: Tensor | None = None  # allocated by the backward pass only

    def blocks(self):
        return (_Block(self, d0, self.db) for d0 in range(0, self.d, self.db))

    def local_states(self, blk: _Block, H: Tensor | None) -> tuple[Tensor, Tensor]:
        """a = exp(ΔA) and the states of one block, from state H entering each chunk
        (zero when None): h_0 = a_0 H + ΔuB_0, h_t = a_t h_{t-1} + ΔuB_t."""
        a = _decay(blk.dl, blk.A_, out=self.a)
        h = _grouped_mul(blk.dul, blk.Bl, self.h)
        if H is not None:
            h[0].addcmul_(a[0], H[:, blk.sl])
        hs, as_ = h.unbind(0), a.unbind(0)
        for t in range(1, self.T):  # every chunk at once
            hs[t].addcmul_(as_[t], hs[t - 1])
        return a, h

    def reduce_groups(self, s: Tensor, w: Tensor, out: Tensor) -> None:
        """out (T,n,k,b,nc) += Σ over each group's channels of s ⊙ w; s (T,n,db,b,nc), w
        (T,1,db,b,nc); the block's channels are k consecutive groups."""
        T, n, db, b, nc = s.shape
        k = out.shape[2]
        if not self.blocking.wide:  # within one group (k = 1)
            acc = out[:, :, 0]
            for c in range(db):  # CPU: cheaper than materialising the product
                acc.addcmul_(s[:, :, c], w[:, :, c])
            return
        prod = torch.mul(s, w, out=self.p)
        out.add_(prod.view(T, n, k, db // k, b, nc).sum(3))

    def local_adjoint(self, blk: _Block, a: Tensor, gyl: Tensor, K: Tensor | None) -> Tensor:
        """Adjoint g_t = C_t gy_t + a_{t+1} g_{t+1} of one block, with K (n,d,b,nc) the
        adjoint flowing into each chunk's last position from the next chunk."""
        if self.g is None:
            self.g = torch.empty_like(self.h)
        g = _grouped_mul(gyl[:, :, blk.sl], blk.Cl, self.g)
        if K is not None:
            g[-1].add_(K[:, blk.sl])
        gs, as_ = g.unbind(0), a.unbind(0)
        for t in range(self.T - 2, -1, -1):
            gs[t].addcmul_(as_[t + 1], gs[t + 1])
        return g

    def entry_states(self, hend: Tensor) -> Tensor:
        """State entering each chunk (n,d,b,nc) from the chunk-end states of zero-started
        local scans: H_c = S_{c-1}, S_c = exp(A Σ_c Δ) S_{c-1} + hend_c."""
        H = torch.zeros_like(hend)
        H[..., 1:] = _scan_natural(hend[..., :-1], self.total[..., :-1], self.A_)
        return H

    def exit_adjoints(self, gfirst: Tensor) -> Tensor:
        """K_c = a[0,c+1] G_{c+1}: adjoint flowing into chunk c's last position, where
        G_c = gfirst_c + λ_c G_{c+1} is the true adjoint at chunk c's first position and
        log λ_c = (Σ_c Δ - Δ[0,c] + Δ[0,c+1]) A; scanned forwards over the flipped chunks."""
        d0 = self.dl[0]  # (1,d,b,nc)
        lam = torch.cat([self.total[..., :-1] - d0[..., :-1] + d0[..., 1:], d0[..., :1]], -1)
        G = _scan_natural(gfirst.flip(-1), lam.flip(-1), self.A_).flip(-1)
        K = torch.zeros_like(gfirst)
        K[..., :-1] = _decay(d0[..., 1:], self.A_) * G[..., 1:]
        return K


def _blocked_forward(
    u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor
) -> tuple[Tensor, Tensor | None]:
    """y = Σ_n C ⊙ h (b,d,l) in two passes over channel blocks, and the chunk-entry states H
    (None for one chunk). u, delta (b,d,l); A (d,n); B, C (b,g,n,l)."""
    x = _Chunked(u, delta, A, B, C)
    H = None
    if x.nc > 1:  # pass 1: chunk-end states of zero-started chunks → carry
        hend = u.new_empty(x.n, x.d, x.b, x.nc)
        for blk in x.blocks():
            _, h = x.local_states(blk, None)
            hend[:, blk.sl] = h[-1]
        H = x.entry_states(hend)
    y = u.new_empty(x.T, x.d, u.shape[0], x.nc)
    for blk in x.blocks():  # pass 2: true states, y = Σ_n C h
        _, h = x.local_states(blk, H)
        torch.sum(_grouped_mul(h, blk.Cl, x.p), 1, out=y[:, blk.sl])
    return _from_chunks(y, x.length), H


class _SelectiveScanCore(torch.autograd.Function):
    """y = Σ_n C ⊙ h with h_t = exp(Δ_t A) h_{t-1} + Δ_t u_t B_t (no D, z, bias, softplus).

    u, delta (b,d,l); A (d,n); B, C (b,g,n,l); one floating dtype.
    """

    @staticmethod
    def forward(
        ctx: FunctionCtx, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor
    ) -> Tensor:
        y, H = _blocked_forward(u, delta, A, B, C)
        # H (1/T of the state) spares the backward its own forward carry
        ctx.save_for_backward(u, delta, A, B, C, H)
        return y

    @staticmethod
    def backward(ctx: FunctionCtx, gy: Tensor) -> tuple[Tensor, ...]:
        u, delta, A, B, C, H = ctx.saved_tensors
        x = _Chunked(u, delta, A, B, C)
        gyl = _to_chunks(gy.to(u.dtype), x.T, x.nc).unsqueeze(1)  # (T,1,d,b,nc)
        K = None
        if x.nc > 1:  # pass 1: adjoints at chunk starts from zero-started chunks → carry
            gfirst = u.new_empty(x.n, x.d, x.b, x.nc)
            for blk in x.blocks():
                a = _decay(blk.dl, blk.A_, out=x.a)
                gfirst[:, blk.sl] = x.local_adjoint(blk, a, gyl, None)[0]
            K = x.exit_adjoints(gfirst)
        g_dl = torch.empty_like(x.dl)  # ∂Δ
        g_dul = torch.empty_like(x.dl)  # ∂(Δu)
        g_A = torch.empty_like(x.A_[..., 0, 0])  # (n,d)
        g_Bl = torch.zeros_like(x.Bl)
        g_Cl = torch.zeros_like(x.Cl)
        p = x.p  # scratch
        for blk in x.blocks():  # pass 2: true states and adjoints → gradients
            a, h = x.local_states(blk, H)
            g = x.local_adjoint(blk, a, gyl, K)
            gyb = gyl[:, :, blk.sl]
            # ∂C_t = Σ_d h_t gy_t and ∂B_t = Σ_d g_t Δ_t u_t over this block's channels
            x.reduce_groups(h, gyb, g_Cl[:, :, blk.gC])
            x.reduce_groups(g, blk.dul, g_Bl[:, :, blk.gB])
            torch.sum(_grouped_mul(g, blk.Bl, p), 1, keepdim=True, out=g_dul[:, :, blk.sl])
            # w_t = g_t a_t h_{t-1} = ∂(ΔA)_t, where h_{-1} of chunk c is H[..., c]
            w = g.mul_(a)
            w[1:].mul_(h[:-1])
            if H is None:
                w[0].zero_()
            else:
                w[0].mul_(H[:, blk.sl])
            torch.sum(torch.mul(w, blk.A_, out=p), 1, keepdim=True, out=g_dl[:, :, blk.sl])
            torch.sum(torch.mul(w, blk.dl, out=p), (0, 3, 4), out=g_A[:, blk.sl])
        g_dl.addcmul_(g_dul, x.ul)
        g_ul = g_dul.mul_(x.dl)
        return (
            _from_chunks(g_ul.squeeze(1), x.length),
            _from_chunks(g_dl.squeeze(1), x.length),
            g_A.t(),
            _bc_from_chunks(g_Bl, x.length),
            _bc_from_chunks(g_Cl, x.length),
        )


def _softplus_inference(x: Tensor) -> Tensor:
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


def _scan_inference(
    u: Tensor, delta: Tensor, A: Tensor, B4: Tensor, C4: Tensor, D: Tensor | None
) -> Tensor:
    """Forward only, no autograd bookkeeping: y = Σ_n C ⊙ h (+ D u), (b,d,l).

    The full chunked state is formed once and scanned in place by :func:`_scan_chunks`
    (local scans of x and of the in-chunk decay products together, chunk carry, one
    correction), instead of the training forward's two recomputing passes over channel
    blocks; states over the device's ``infer_bytes`` go through that blocked forward.
    u, delta (b,d,l) with Δ already biased/activated; B4, C4 (b,g,n,l).
    """
    b, d, length = u.shape
    n = A.shape[1]
    blocking = _blocking(u.device.type)
    T = min(length, blocking.T1)
    nc = math.ceil(length / T)
    if 2 * T * nc * n * d * b * u.element_size() > blocking.infer_bytes:
        y, _ = _blocked_forward(u, delta, A, B4, C4)
        return y if D is None else y.addcmul_(D[:, None], u)
    gB, gC = B4.shape[1], C4.shape[1]
    dl = _to_chunks(delta, T, nc)  # (T,d,b,nc)
    ul = _to_chunks(u, T, nc)
    Bl, Cl = _bc_to_chunks(B4, T, nc), _bc_to_chunks(C4, T, nc)  # (T,n,g,b,nc)
    A_ = A.t()[:, :, None, None]  # (n,d,1,1)
    dl1 = dl.unsqueeze(1)  # (T,1,d,b,nc)
    xp = u.new_empty(T, 2, n, d, b, nc)  # [:, 0] states, [:, 1] decay products
    x = xp[:, 0]
    torch.mul(
        (dl * ul).view(T, 1, gB, d // gB, b, nc),
        Bl.unsqueeze(3),
        out=x.view(T, n, gB, d // gB, b, nc),
    )  # Δ u B
    h, _, _ = _scan_chunks(x, _decay(dl1, A_), dl1, A_, xp)
    Cx = Cl.unsqueeze(3)  # (T,n,gC,1,b,nc)
    hv = h.view(T, n, gC, d // gC, b, nc)
    if n == 1:
        y = torch.mul(hv[:, 0], Cx[:, 0]).view(T, d, b, nc)
    else:
        y = torch.mul(hv, Cx).sum(1).view(T, d, b, nc)
    if D is not None:
        y.addcmul_(D[None, :, None, None], ul)
    return _from_chunks(y, length)


def _prepare(
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
    B4 = _as_grouped(B, "B").to(ct).contiguous()
    C4 = _as_grouped(C, "C").to(ct).contiguous()
    return delta.contiguous(), B4, C4


def _selective_scan_torch(
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
    ct = _compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    inputs = (u, delta, A, B, C, D, z, delta_bias)
    if not (torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs)):
        return _selective_scan_no_grad(*inputs, delta_softplus, ct).to(dtype_in)
    uc = u.to(ct)
    delta, B4, C4 = _prepare(delta, B, C, delta_bias, delta_softplus, ct, F.softplus)
    y = _SelectiveScanCore.apply(uc.contiguous(), delta, A.to(ct), B4, C4)
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
    ``model/ssm_graph.py``: the eager path's in-place views and ``.item()`` test do not trace.
    """
    from sccosf_ros.model.ssm_graph import capturing, scan_graph, softplus_graph

    uc = u.to(ct).contiguous()
    graph = capturing()
    softplus = softplus_graph if graph else _softplus_inference
    delta, B4, C4 = _prepare(delta, B, C, delta_bias, delta_softplus, ct, softplus)
    scan = scan_graph if graph else _scan_inference
    y = scan(uc, delta, A.to(ct), B4, C4, None if D is None else D.to(ct))
    if z is not None:
        y = y * F.silu(z.to(ct))
    return y


BACKENDS = ("auto", "torch", "triton", "mamba_ssm")


def _mamba_ssm_kernel():
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except ImportError as e:
        raise ImportError(
            "backend='mamba_ssm' needs the mamba-ssm package with its CUDA kernel "
            "(pip install mamba-ssm --no-build-isolation, on a machine with CUDA); "
            f"import failed: {e}. Use backend='auto' or 'torch' for the PyTorch path."
        ) from e
    return selective_scan_fn


@functools.cache
def mamba_ssm_available() -> bool:
    """True when mamba-ssm's selective-scan kernel can be imported (checked once)."""
    try:
        _mamba_ssm_kernel()
    except ImportError:
        return False
    return True


@functools.cache
def triton_available() -> bool:
    """True when Triton can be imported (it ships with torch's CUDA wheels; checked once)."""
    from sccosf_ros.model.ssm_triton import triton_available as available

    return available()


def choose_backend(backend: str, device_type: str, *, mamba_ssm: bool, triton: bool) -> str:
    """The backend a call runs on: ``backend`` itself unless it is "auto", which picks, for
    CUDA tensors, mamba_ssm when importable, else triton when importable, else torch, and for
    tensors on any other device torch (Triton on CPU is its interpreter: tests only)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend != "auto":
        return backend
    if device_type == "cuda":
        if mamba_ssm:
            return "mamba_ssm"
        if triton:
            return "triton"
    return "torch"


def resolve_backend(backend: str, device_type: str) -> str:
    """:func:`choose_backend` with what is installed here."""
    if backend != "auto" or device_type != "cuda":
        return choose_backend(backend, device_type, mamba_ssm=False, triton=False)
    return choose_backend(
        backend, device_type, mamba_ssm=mamba_ssm_available(), triton=triton_available()
    )


def selective_scan(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None = None,
    z: Tensor | None = None,
    delta_bias: Tensor | None = None,
    delta_softplus: bool = False,
    backend: str = "auto",
) -> Tensor:
    """Selective scan with mamba-ssm ``selective_scan_fn`` semantics (module docstring).

    u, delta, z: (b,d,l); A: (d,n); B, C: (b,n,l) or (b,g,n,l); D, delta_bias: (d,).
    Returns (b,d,l) in u's dtype. ``backend``: "auto" | "torch" | "triton" | "mamba_ssm"
    (:func:`choose_backend`).
    """
    chosen = resolve_backend(backend, u.device.type)
    _check_shapes(u, delta, A, B, C, D, z, delta_bias)
    if chosen == "mamba_ssm":
        kernel = _mamba_ssm_kernel()
        f32 = torch.float32
        return kernel(
            u,
            delta,
            A.to(f32),
            B,
            C,
            D=None if D is None else D.to(f32),
            z=z,
            delta_bias=None if delta_bias is None else delta_bias.to(f32),
            delta_softplus=delta_softplus,
        )
    if chosen == "triton":
        from sccosf_ros.model.ssm_triton import selective_scan_triton

        return selective_scan_triton(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    return _selective_scan_torch(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
