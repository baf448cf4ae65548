"""Selective scan as Triton kernels: the S6 core on any CUDA GPU without compiling mamba-ssm.

Same semantics as :func:`sccosf_ros.model.ssm.selective_scan` (mamba-ssm's
``selective_scan_fn``): Δ = softplus(delta + delta_bias), h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t,
y_t = C_t · h_t + D u_t, out = y ⊙ silu(z); grouped B/C (b, g, n, l). Everything in one kernel
per direction (bias, softplus, D and the z gate are fused, as in mamba-ssm), so a call reads
its inputs once and writes its outputs once.

Layout of the work
------------------
One program owns ``BD`` channels of one batch element, all of them in one B/C group, and walks
the sequence in chunks of ``BL`` steps with the state (BD, n) in registers, accumulated in
float32 (float64 for float64 inputs) whatever the input dtype (fp32 / bf16 / fp16, loaded and
cast on the fly). Within a chunk the (BD, n, BL) tile of decays ``a = exp(ΔA)`` and inputs
``x = Δ u B`` is scanned in parallel by ``tl.associative_scan`` with the affine-map combine
``(a1, x1) ∘ (a2, x2) = (a1 a2, a2 x1 + x2)``; the carried state enters the chunk as
``x_0 += a_0 h_in``, so the scan returns the exact states and no decayed product is ever
divided by (the same reason as in the PyTorch path).

Backward: hand-written, not recompute-through-autograd
------------------------------------------------------
The forward pass, when a gradient is needed, stores the state entering each chunk
(b, d, l/BL, n), 1/BL of the full state. The backward kernel walks the chunks in reverse: it
recomputes the chunk's states from that entry state (one forward scan), then runs the adjoint
``g_t = C_t gy_t + a_{t+1} g_{t+1}`` as a reverse ``associative_scan`` (``a_{t+1}`` read from
Δ shifted by one step, so the next chunk's first decay links the chunks), carrying ``g`` at the
chunk's first step into the previous chunk. With ``a_t h_{t-1} = h_t - x_t`` (mamba-ssm's
identity, no shifted state needed) every gradient is a reduction of the tile::

    w = g ⊙ (h - x)        ∂A = Σ_{b,t} w Δ        ∂Δ = Σ_n (w A + g B u)
    ∂u = Σ_n g B Δ + D gy  ∂B = Σ_d g Δ u          ∂C = Σ_d h gy
    ∂D = Σ_{b,t} gy u      ∂z = gout y silu'(z)    ∂delta = ∂Δ σ(delta + bias) (softplus)

∂B and ∂C (shared by the channels of a group) are added with float32 atomics; ∂A, ∂D and
∂delta_bias are per-program partial sums (summed over the batch afterwards), so the only
nondeterminism is the order of the ∂B/∂C atomics. This costs one forward recompute (2 scans
per chunk in the backward) instead of storing the b·d·n·l states, like mamba-ssm's kernel.

Devices: CUDA tensors run compiled kernels. CPU tensors run the same kernels through
Triton's interpreter when ``TRITON_INTERPRET=1`` was set before triton was first imported
(exact semantics, very slow: tests and tiny shapes only), which is how CI checks values and
gradients without a GPU (test/conftest.py sets it there).

Block sizes (:func:`block_sizes`) were chosen without a GPU, from ptxas's register and spill
report for sm_90 (``sccosf bench gpu`` prints it); ``sccosf bench gpu`` on a GPU times a few
alternatives at the paper preset's shapes.
"""

from __future__ import annotations

import math
import os

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

from sccosf_ros.model.ssm import _compute_dtype

try:
    import triton
    import triton.language as tl

    _jit = triton.jit
except ImportError:  # the torch path works without Triton; triton_available() says False
    triton = tl = None

    def _jit(fn):  # Triton missing: the kernels stay plain functions (never launched)
        return fn


def triton_available() -> bool:
    """True when Triton can be imported (it ships with the CUDA builds of torch)."""
    return triton is not None


def interpreted() -> bool:
    """True when Triton runs kernels in its interpreter (TRITON_INTERPRET=1 when triton was
    first imported); only then can CPU tensors go through the kernels."""
    return triton is not None and type(_fwd_kernel).__name__ == "InterpretedFunction"


# --------------------------------------------------------------------------------- kernels
@_jit
def _combine(a1, x1, a2, x2):
    """Compose two affine steps h ↦ a h + x: first (a1, x1), then (a2, x2)."""
    return a1 * a2, a2 * x1 + x2


@_jit
def _softplus(x):
    """log1p(exp(x)), x itself past 20 (like F.softplus); log1p via Goldberg's exact trick."""
    e = tl.exp(tl.minimum(x, 20.0))
    w = 1.0 + e
    lp = tl.where(w == 1.0, e, tl.log(w) * e / (w - 1.0))
    return tl.where(x > 20.0, x, lp)


@_jit
def _fwd_kernel(
    u_ptr,
    delta_ptr,
    A_ptr,
    B_ptr,
    C_ptr,
    D_ptr,
    z_ptr,
    bias_ptr,
    out_ptr,
    H_ptr,
    L,
    d,
    n,
    dg,
    nblk,
    gB,
    gC,
    gB_div,
    gC_div,
    nchunks,
    HAS_D: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    SOFTPLUS: tl.constexpr,
    SAVE_H: tl.constexpr,
    ACC: tl.constexpr,
    BD: tl.constexpr,
    BN: tl.constexpr,
    BL: tl.constexpr,
):
    pid = tl.program_id(0)
    bi = tl.program_id(1).to(tl.int64)
    gi = pid // nblk  # group of the program (of lcm(gB, gC) groups)
    j = pid % nblk
    cl = j * BD + tl.arange(0, BD)  # channel within its group
    mask_d = cl < dg
    ch = gi * dg + cl  # (BD,) channel index
    nn = tl.arange(0, BN)
    mask_n = nn < n
    tt = tl.arange(0, BL)
    first = (tt == 0)[None, None, :]
    last = (tt == BL - 1)[None, None, :]
    row = (bi * d + ch) * L  # (BD,) start of each channel's sequence
    rowB = ((bi * gB + gi // gB_div) * n + nn) * L  # (BN,)
    rowC = ((bi * gC + gi // gC_div) * n + nn) * L
    mdn = mask_d[:, None] & mask_n[None, :]
    A = tl.load(A_ptr + ch[:, None] * n + nn[None, :], mask=mdn, other=0.0).to(ACC)  # (BD,BN)
    if HAS_D:
        Dv = tl.load(D_ptr + ch, mask=mask_d, other=0.0).to(ACC)
    if HAS_BIAS:
        bias = tl.load(bias_ptr + ch, mask=mask_d, other=0.0).to(ACC)
    hrow = ((bi * d + ch) * nchunks)[:, None] * n + nn[None, :]  # (BD,BN) H[b, ch, 0, n]
    state = tl.full((BD, BN), 0.0, ACC)
    for c in range(nchunks):
        t = c * BL + tt
        mask_t = t < L
        m2 = mask_d[:, None] & mask_t[None, :]
        mnt = mask_n[:, None] & mask_t[None, :]
        off = row[:, None] + t[None, :]
        u = tl.load(u_ptr + off, mask=m2, other=0.0).to(ACC)
        dt = tl.load(delta_ptr + off, mask=m2, other=0.0).to(ACC)
        if HAS_BIAS:
            dt += bias[:, None]
        if SOFTPLUS:
            dt = _softplus(dt)
        dt = tl.where(m2, dt, 0.0)  # padding: identity steps
        Bt = tl.load(B_ptr + rowB[:, None] + t[None, :], mask=mnt, other=0.0).to(ACC)
        Ct = tl.load(C_ptr + rowC[:, None] + t[None, :], mask=mnt, other=0.0).to(ACC)
        if SAVE_H:
            tl.store(H_ptr + hrow + c * n, state, mask=mdn)
        a = tl.exp(dt[:, None, :] * A[:, :, None])  # (BD,BN,BL)
        x = (dt * u)[:, None, :] * Bt[None, :, :]
        x = tl.where(first, x + a * state[:, :, None], x)
        _, h = tl.associative_scan((a, x), 2, _combine)
        state = tl.sum(tl.where(last, h, 0.0), 2)
        y = tl.sum(h * Ct[None, :, :], 1)  # (BD,BL)
        if HAS_D:
            y += Dv[:, None] * u
        if HAS_Z:
            zz = tl.load(z_ptr + off, mask=m2, other=0.0).to(ACC)
            y *= zz / (1.0 + tl.exp(-zz))
        tl.store(out_ptr + off, y, mask=m2)


@_jit
def _bwd_kernel(
    u_ptr,
    delta_ptr,
    A_ptr,
    B_ptr,
    C_ptr,
    D_ptr,
    z_ptr,
    bias_ptr,
    H_ptr,
    gout_ptr,
    du_ptr,
    ddelta_ptr,
    dz_ptr,
    dB_ptr,
    dC_ptr,
    dA_ptr,
    dD_ptr,
    dbias_ptr,
    L,
    d,
    n,
    dg,
    nblk,
    gB,
    gC,
    gB_div,
    gC_div,
    nchunks,
    HAS_D: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    SOFTPLUS: tl.constexpr,
    ACC: tl.constexpr,
    BD: tl.constexpr,
    BN: tl.constexpr,
    BL: tl.constexpr,
):
    pid = tl.program_id(0)
    bi = tl.program_id(1).to(tl.int64)
    gi = pid // nblk
    j = pid % nblk
    cl = j * BD + tl.arange(0, BD)
    mask_d = cl < dg
    ch = gi * dg + cl
    nn = tl.arange(0, BN)
    mask_n = nn < n
    tt = tl.arange(0, BL)
    first = (tt == 0)[None, None, :]
    last = (tt == BL - 1)[None, None, :]
    row = (bi * d + ch) * L
    rowB = ((bi * gB + gi // gB_div) * n + nn) * L
    rowC = ((bi * gC + gi // gC_div) * n + nn) * L
    mdn = mask_d[:, None] & mask_n[None, :]
    A = tl.load(A_ptr + ch[:, None] * n + nn[None, :], mask=mdn, other=0.0).to(ACC)
    if HAS_D:
        Dv = tl.load(D_ptr + ch, mask=mask_d, other=0.0).to(ACC)
    if HAS_BIAS:
        bias = tl.load(bias_ptr + ch, mask=mask_d, other=0.0).to(ACC)
    hrow = ((bi * d + ch) * nchunks)[:, None] * n + nn[None, :]
    G = tl.full((BD, BN), 0.0, ACC)  # adjoint at the first step of the chunk after this one
    dA_acc = tl.full((BD, BN), 0.0, ACC)
    dD_acc = tl.full((BD,), 0.0, ACC)
    dbias_acc = tl.full((BD,), 0.0, ACC)
    for i in range(nchunks):
        c = nchunks - 1 - i
        t = c * BL + tt
        mask_t = t < L
        m2 = mask_d[:, None] & mask_t[None, :]
        mnt = mask_n[:, None] & mask_t[None, :]
        off = row[:, None] + t[None, :]
        u = tl.load(u_ptr + off, mask=m2, other=0.0).to(ACC)
        draw = tl.load(delta_ptr + off, mask=m2, other=0.0).to(ACC)
        # Δ one step ahead (a_{t+1} of the adjoint; 0 past the end of the sequence)
        m2n = mask_d[:, None] & (t + 1 < L)[None, :]
        dnext = tl.load(delta_ptr + off + 1, mask=m2n, other=0.0).to(ACC)
        if HAS_BIAS:
            draw += bias[:, None]
            dnext += bias[:, None]
        if SOFTPLUS:
            dt = _softplus(draw)
            dnext = _softplus(dnext)
        else:
            dt = draw
        dt = tl.where(m2, dt, 0.0)
        Bt = tl.load(B_ptr + rowB[:, None] + t[None, :], mask=mnt, other=0.0).to(ACC)
        Ct = tl.load(C_ptr + rowC[:, None] + t[None, :], mask=mnt, other=0.0).to(ACC)
        gy = tl.load(gout_ptr + off, mask=m2, other=0.0).to(ACC)
        # recompute the chunk's states from the stored entry state
        Hin = tl.load(H_ptr + hrow + c * n, mask=mdn, other=0.0)
        a = tl.exp(dt[:, None, :] * A[:, :, None])
        x = (dt * u)[:, None, :] * Bt[None, :, :]
        _, h = tl.associative_scan((a, tl.where(first, x + a * Hin[:, :, None], x)), 2, _combine)
        if HAS_Z:
            y = tl.sum(h * Ct[None, :, :], 1)
            if HAS_D:
                y += Dv[:, None] * u
            zz = tl.load(z_ptr + off, mask=m2, other=0.0).to(ACC)
            sig = 1.0 / (1.0 + tl.exp(-zz))
            tl.store(dz_ptr + off, gy * y * sig * (1.0 + zz * (1.0 - sig)), mask=m2)
            gy = gy * zz * sig  # gradient of y (before the gate)
        if HAS_D:
            dD_acc += tl.sum(gy * u, 1)
        # adjoint, reverse scan: g_t = a_{t+1} g_{t+1} + C_t gy_t
        anext = tl.where(m2n[:, None, :], tl.exp(dnext[:, None, :] * A[:, :, None]), 0.0)
        xg = Ct[None, :, :] * gy[:, None, :]
        xg = tl.where(last, xg + anext * G[:, :, None], xg)
        _, g = tl.associative_scan((anext, xg), 2, _combine, reverse=True)
        G = tl.sum(tl.where(first, g, 0.0), 2)
        w = g * (h - x)  # g_t a_t h_{t-1}
        dA_acc += tl.sum(w * dt[:, None, :], 2)
        gB_sum = tl.sum(g * Bt[None, :, :], 1)  # Σ_n g B  (BD,BL)
        ddt = tl.sum(w * A[:, :, None], 1) + gB_sum * u
        du = gB_sum * dt
        if HAS_D:
            du += Dv[:, None] * gy
        tl.store(du_ptr + off, du, mask=m2)
        if SOFTPLUS:
            ddt = ddt / (1.0 + tl.exp(-draw))
        ddt = tl.where(m2, ddt, 0.0)
        if HAS_BIAS:
            dbias_acc += tl.sum(ddt, 1)
        tl.store(ddelta_ptr + off, ddt, mask=m2)
        dBp = tl.sum(g * (dt * u)[:, None, :], 0)  # (BN,BL) over this program's channels
        dCp = tl.sum(h * gy[:, None, :], 0)
        tl.atomic_add(dB_ptr + rowB[:, None] + t[None, :], dBp, mask=mnt)
        tl.atomic_add(dC_ptr + rowC[:, None] + t[None, :], dCp, mask=mnt)
    prow = bi * d + ch  # (BD,) partial-sum rows (b, d)
    tl.store(dA_ptr + prow[:, None] * n + nn[None, :], dA_acc, mask=mdn)
    if HAS_D:
        tl.store(dD_ptr + prow, dD_acc, mask=mask_d)
    if HAS_BIAS:
        tl.store(dbias_ptr + prow, dbias_acc, mask=mask_d)


def _kernels_for(device: torch.device) -> tuple:
    """(forward, backward) kernels for tensors on ``device``, or a clear error."""
    if triton is None:
        raise ImportError(
            "backend='triton' needs the triton package (it ships with the CUDA builds of "
            "torch: pip install triton); use backend='auto' or 'torch'"
        )
    if device.type != "cuda" and not interpreted():
        raise RuntimeError(
            f"backend='triton' on {device.type} tensors needs Triton's interpreter, which is "
            "chosen when triton is first imported: run with TRITON_INTERPRET=1 (slow: tests "
            f"and tiny shapes; TRITON_INTERPRET={os.environ.get('TRITON_INTERPRET', '')!r} "
            "now). On CPU use backend='auto' or 'torch'"
        )
    return _fwd_kernel, _bwd_kernel


# ------------------------------------------------------------------------------- launchers
# Values per (BD, BN, BL) tile: 1024 is 8 per thread at 4 warps, where ptxas (sm_90, fp32 and
# bf16) fits both kernels in registers without spilling for n = 1, 4 and 16; 2048 spills in
# the backward kernel.
_TILE = 1024
_NUM_WARPS = 4


def block_sizes(
    b: int, dg: int, n: int, length: int, groups: int, num_sms: int | None = None
) -> tuple[int, int, int]:
    """(BD channels, BN states, BL steps) per program, powers of two, BD·BN·BL ≈ _TILE.

    Chunks as long as the tile allows (up to 256 steps: fewer sequential chunks per program,
    and a longer scan per chunk costs only log2(BL) depth), then channels fill the rest of
    the tile, but no more than leaves ≥ 4 programs per SM when ``num_sms`` is given: programs
    are the only parallelism across the sequence (each walks its l/BL chunks in order).
    """
    BN = triton.next_power_of_2(n)
    BL = max(16, min(256, max(16, _TILE // BN), triton.next_power_of_2(length)))
    BD = max(1, min(triton.next_power_of_2(dg), _TILE // (BN * BL)))
    if num_sms:
        while BD > 1 and b * groups * math.ceil(dg / BD) < 4 * num_sms:
            BD //= 2
    return BD, BN, BL


class _Launch:
    """Shapes, groups, block sizes and the launch grid of one call."""

    def __init__(
        self, u: Tensor, B: Tensor, C: Tensor, n: int, blocks: tuple[int, int] | None
    ) -> None:
        b, d, length = u.shape
        self.b, self.d, self.n, self.length = b, d, n, length
        self.gB, self.gC = B.shape[1], C.shape[1]
        gl = math.lcm(self.gB, self.gC)  # each program's channels share one B and one C group
        self.gl, self.dg = gl, d // gl
        self.interpret = not u.is_cuda
        if blocks is None:
            sms = None
            if u.is_cuda:
                sms = torch.cuda.get_device_properties(u.device).multi_processor_count
            self.BD, self.BN, self.BL = block_sizes(b, self.dg, n, length, gl, sms)
        else:
            self.BD, self.BL = blocks
            self.BN = triton.next_power_of_2(n)
        self.nblk = math.ceil(self.dg / self.BD)
        self.nchunks = math.ceil(length / self.BL)
        self.grid = (gl * self.nblk, b)

    def args(self) -> tuple[int, ...]:
        return (
            self.length,
            self.d,
            self.n,
            self.dg,
            self.nblk,
            self.gB,
            self.gC,
            self.gl // self.gB,
            self.gl // self.gC,
            self.nchunks,
        )

    def meta(self, acc: torch.dtype) -> dict:
        return {
            "ACC": tl.float64 if acc == torch.float64 else tl.float32,
            "BD": self.BD,
            "BN": self.BN,
            "BL": self.BL,
            **({} if self.interpret else {"num_warps": _NUM_WARPS}),
        }


def _forward(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    z: Tensor | None,
    delta_bias: Tensor | None,
    softplus: bool,
    save_states: bool,
    blocks: tuple[int, int] | None,
) -> tuple[Tensor, Tensor | None, _Launch]:
    """out (b,d,l) in u's dtype, and the chunk-entry states (b,d,nchunks,n) when asked."""
    acc = _compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    lp = _Launch(u, B, C, A.shape[1], blocks)
    out = torch.empty_like(u)
    H = u.new_empty((lp.b, lp.d, lp.nchunks, lp.n), dtype=acc) if save_states else None
    _kernels_for(u.device)[0][lp.grid](
        u,
        delta,
        A,
        B,
        C,
        u if D is None else D,  # placeholders: never read when the flag is off
        u if z is None else z,
        u if delta_bias is None else delta_bias,
        out,
        out if H is None else H,
        *lp.args(),
        HAS_D=D is not None,
        HAS_Z=z is not None,
        HAS_BIAS=delta_bias is not None,
        SOFTPLUS=softplus,
        SAVE_H=save_states,
        **lp.meta(acc),
    )
    return out, H, lp


class _TritonScan(torch.autograd.Function):
    """The fused selective scan (forward kernel + hand-written backward kernel)."""

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        u: Tensor,
        delta: Tensor,
        A: Tensor,
        B: Tensor,
        C: Tensor,
        D: Tensor | None,
        z: Tensor | None,
        delta_bias: Tensor | None,
        softplus: bool,
        blocks: tuple[int, int] | None,
    ) -> Tensor:
        out, H, lp = _forward(u, delta, A, B, C, D, z, delta_bias, softplus, True, blocks)
        ctx.save_for_backward(u, delta, A, B, C, D, z, delta_bias, H)
        ctx.softplus, ctx.blocks = softplus, (lp.BD, lp.BL)
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, gout: Tensor) -> tuple[Tensor | None, ...]:
        u, delta, A, B, C, D, z, delta_bias, H = ctx.saved_tensors
        acc = H.dtype
        lp = _Launch(u, B, C, A.shape[1], ctx.blocks)
        gout = gout.contiguous()
        du, ddelta = torch.empty_like(u), torch.empty_like(delta)
        dz = None if z is None else torch.empty_like(z)
        dB = torch.zeros(B.shape, dtype=acc, device=B.device)  # atomics accumulate here
        dC = torch.zeros(C.shape, dtype=acc, device=C.device)
        dA = u.new_empty((lp.b, lp.d, lp.n), dtype=acc)  # per-batch partial sums
        dD = u.new_empty((lp.b, lp.d), dtype=acc) if D is not None else None
        dbias = u.new_empty((lp.b, lp.d), dtype=acc) if delta_bias is not None else None
        _kernels_for(u.device)[1][lp.grid](
            u,
            delta,
            A,
            B,
            C,
            u if D is None else D,
            u if z is None else z,
            u if delta_bias is None else delta_bias,
            H,
            gout,
            du,
            ddelta,
            du if dz is None else dz,
            dB,
            dC,
            dA,
            dA if dD is None else dD,
            dA if dbias is None else dbias,
            *lp.args(),
            HAS_D=D is not None,
            HAS_Z=z is not None,
            HAS_BIAS=delta_bias is not None,
            SOFTPLUS=ctx.softplus,
            **lp.meta(acc),
        )
        return (
            du,
            ddelta,
            dA.sum(0).to(A.dtype),
            dB.to(B.dtype),
            dC.to(C.dtype),
            None if dD is None else dD.sum(0).to(D.dtype),
            dz,
            None if dbias is None else dbias.sum(0).to(delta_bias.dtype),
            None,
            None,
        )


def selective_scan_triton(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None = None,
    z: Tensor | None = None,
    delta_bias: Tensor | None = None,
    delta_softplus: bool = False,
    blocks: tuple[int, int] | None = None,
) -> Tensor:
    """The selective scan through the Triton kernels; shapes checked by the caller.

    u, delta, z (b,d,l); A (d,n); B, C (b,g,n,l) (grouped; (b,n,l) is g = 1); D, delta_bias
    (d,). Any float dtypes (states in float32, float64 if an input is float64); returns u's
    dtype. ``blocks`` = (BD, BL) overrides :func:`block_sizes` (tests use it to force ragged
    chunks and several channel blocks).
    """
    B4 = B.unsqueeze(1) if B.dim() == 3 else B
    C4 = C.unsqueeze(1) if C.dim() == 3 else C
    inputs = [
        None if t is None else t.contiguous() for t in (u, delta, A, B4, C4, D, z, delta_bias)
    ]
    needs_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs)
    if not needs_grad:
        out, _, _ = _forward(*inputs, delta_softplus, False, blocks)
        return out
    out = _TritonScan.apply(*inputs, delta_softplus, blocks)
    return out
