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

The launcher (block sizes, grid, autograd) is :mod:`.triton_scan`.
"""

from __future__ import annotations

import os

import torch

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
    return triton is not None and type(fwd_kernel).__name__ == "InterpretedFunction"


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
def fwd_kernel(
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
def bwd_kernel(
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


def kernels_for(device: torch.device) -> tuple:
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
    return fwd_kernel, bwd_kernel
