"""Launching the Triton selective-scan kernels: block sizes, grid, and the autograd Function.

The kernels and the work they do are described in :mod:`.triton_kernels`. Block sizes
(:func:`block_sizes`) were chosen without a GPU, from ptxas's register and spill report for
sm_90 (``sccosf bench gpu`` prints it); ``sccosf bench gpu`` on a GPU times a few alternatives
at the paper preset's shapes.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

from sccosf_ros.model.ssm.checks import compute_dtype
from sccosf_ros.model.ssm.triton_kernels import kernels_for, tl, triton

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
    acc = compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    lp = _Launch(u, B, C, A.shape[1], blocks)
    out = torch.empty_like(u)
    H = u.new_empty((lp.b, lp.d, lp.nchunks, lp.n), dtype=acc) if save_states else None
    kernels_for(u.device)[0][lp.grid](
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
        kernels_for(u.device)[1][lp.grid](
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
