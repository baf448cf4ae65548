"""The PyTorch path: chunked two-level scan with a hand-written backward.

The length l is cut into ``nc`` chunks of ``T`` steps (32 on CPU, 16 on CUDA; the ragged
tail is padded with Δ = 0, u = 0, an identity step, and sliced off again). Channels are
processed in blocks of ``db`` (on CPU so that one block's (T, n, db, b, nc) work buffers stay
a few MB, in cache, whatever b·d·n·l is; on CUDA all channels of the call at once, within a
memory bound, since there each op is a kernel launch: see ``Blocking``), in the layout
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

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

from sccosf_ros.model.ssm.recurrence import (
    bc_from_chunks,
    bc_to_chunks,
    decay,
    from_chunks,
    scan_natural,
    to_chunks,
)


@dataclass(frozen=True)
class Blocking:
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
BLOCKING = {
    "cpu": Blocking(T1=32, block_bytes=3 << 20, infer_bytes=48 << 20, wide=False),
    "cuda": Blocking(T1=16, block_bytes=512 << 20, infer_bytes=1 << 30, wide=True),
}


def blocking_for(device_type: str) -> Blocking:
    return BLOCKING.get(device_type, BLOCKING["cpu"])


def plan(
    length: int, b: int, d: int, g: int, n: int, itemsize: int, blocking: Blocking
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

    def __init__(self, x: Chunked, d0: int, db: int) -> None:
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


class Chunked:
    """All inputs in the chunked layout (see plan), plus the work buffers of one channel
    block and the per-block local scans of both passes."""

    def __init__(self, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor) -> None:
        b, d, length = u.shape
        n = A.shape[1]
        self.b, self.d, self.n, self.length = b, d, n, length
        self.blocking = blocking_for(u.device.type)
        g = math.lcm(B.shape[1], C.shape[1])
        T, nc, db = plan(length, b, d, g, n, u.element_size(), self.blocking)
        self.T, self.nc, self.db = T, nc, db
        self.dl = to_chunks(delta, T, nc).unsqueeze(1)  # (T,1,d,b,nc)
        self.ul = to_chunks(u, T, nc).unsqueeze(1)
        self.dul = self.dl * self.ul
        self.Bl, self.Cl = bc_to_chunks(B, T, nc), bc_to_chunks(C, T, nc)  # (T,n,g,b,nc)
        self.A_ = A.t()[:, :, None, None]  # (n,d,1,1)
        self.total = self.dl.sum(0)  # (1,d,b,nc) Σ_chunk Δ
        shape = (T, n, db, b, nc)
        self.a, self.h, self.p = (u.new_empty(shape) for _ in range(3))
        self.g: Tensor | None = None  # allocated by the backward pass only

    def blocks(self) -> Iterator[_Block]:
        return (_Block(self, d0, self.db) for d0 in range(0, self.d, self.db))

    def local_states(self, blk: _Block, H: Tensor | None) -> tuple[Tensor, Tensor]:
        """a = exp(ΔA) and the states of one block, from state H entering each chunk
        (zero when None): h_0 = a_0 H + ΔuB_0, h_t = a_t h_{t-1} + ΔuB_t."""
        a = decay(blk.dl, blk.A_, out=self.a)
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
        H[..., 1:] = scan_natural(hend[..., :-1], self.total[..., :-1], self.A_)
        return H

    def exit_adjoints(self, gfirst: Tensor) -> Tensor:
        """K_c = a[0,c+1] G_{c+1}: adjoint flowing into chunk c's last position, where
        G_c = gfirst_c + λ_c G_{c+1} is the true adjoint at chunk c's first position and
        log λ_c = (Σ_c Δ - Δ[0,c] + Δ[0,c+1]) A; scanned forwards over the flipped chunks."""
        d0 = self.dl[0]  # (1,d,b,nc)
        lam = torch.cat([self.total[..., :-1] - d0[..., :-1] + d0[..., 1:], d0[..., :1]], -1)
        G = scan_natural(gfirst.flip(-1), lam.flip(-1), self.A_).flip(-1)
        K = torch.zeros_like(gfirst)
        K[..., :-1] = decay(d0[..., 1:], self.A_) * G[..., 1:]
        return K


def blocked_forward(
    u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor
) -> tuple[Tensor, Tensor | None]:
    """y = Σ_n C ⊙ h (b,d,l) in two passes over channel blocks, and the chunk-entry states H
    (None for one chunk). u, delta (b,d,l); A (d,n); B, C (b,g,n,l)."""
    x = Chunked(u, delta, A, B, C)
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
    return from_chunks(y, x.length), H


class SelectiveScanCore(torch.autograd.Function):
    """y = Σ_n C ⊙ h with h_t = exp(Δ_t A) h_{t-1} + Δ_t u_t B_t (no D, z, bias, softplus).

    u, delta (b,d,l); A (d,n); B, C (b,g,n,l); one floating dtype.
    """

    @staticmethod
    def forward(
        ctx: FunctionCtx, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor
    ) -> Tensor:
        y, H = blocked_forward(u, delta, A, B, C)
        # H (1/T of the state) spares the backward its own forward carry
        ctx.save_for_backward(u, delta, A, B, C, H)
        return y

    @staticmethod
    def backward(ctx: FunctionCtx, gy: Tensor) -> tuple[Tensor, ...]:
        u, delta, A, B, C, H = ctx.saved_tensors
        x = Chunked(u, delta, A, B, C)
        gyl = to_chunks(gy.to(u.dtype), x.T, x.nc).unsqueeze(1)  # (T,1,d,b,nc)
        K = None
        if x.nc > 1:  # pass 1: adjoints at chunk starts from zero-started chunks → carry
            gfirst = u.new_empty(x.n, x.d, x.b, x.nc)
            for blk in x.blocks():
                a = decay(blk.dl, blk.A_, out=x.a)
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
            from_chunks(g_ul.squeeze(1), x.length),
            from_chunks(g_dl.squeeze(1), x.length),
            g_A.t(),
            bc_from_chunks(g_Bl, x.length),
            bc_from_chunks(g_Cl, x.length),
        )
