"""Selective-scan inputs and comparisons, shared by the scan tests (torch path, Triton), the scan
benchmark (``bench.scan``) and the GPU check's scan parts (``bench.gpu_scan``): one definition
of the cases they all judge and time by."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

NAMES = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")
Inputs = dict[str, torch.Tensor | None]


def make_inputs(
    b: int = 2,
    d: int = 4,
    n: int = 3,
    length: int = 37,
    groups: int | None = None,
    groups_c: int | None = None,
    with_z: bool = True,
    dtype: torch.dtype = torch.float64,
    seed: int = 0,
) -> Inputs:
    """Mamba-like inputs (dt pre-activation around -1, A = -exp(A_log) < 0); B/C (b,n,l), or
    grouped (b,g,n,l) with ``groups``; D, z and delta_bias on."""
    gen = torch.Generator().manual_seed(seed)

    def rnd(*shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale + shift).to(dtype)

    def bc(g: int | None) -> torch.Tensor:
        return rnd(b, n, length) if g is None else rnd(b, g, n, length)

    return {
        "u": rnd(b, d, length),
        "delta": rnd(b, d, length, scale=0.5, shift=-1.0),
        "A": -torch.exp(rnd(d, n, scale=0.5)),
        "B": bc(groups),
        "C": bc(groups if groups_c is None else groups_c),
        "D": rnd(d),
        "z": rnd(b, d, length) if with_z else None,
        "delta_bias": rnd(d, scale=0.3),
    }


def timing_inputs(
    b: int, d: int, n: int, length: int, device: str, seed: int = 0, groups: int = 0
) -> Inputs:
    """Mamba-like float32 inputs for timing: dt in softplus range, A = -[1..n] (S4D-real), unit
    D; B, C (b,n,l), or grouped (b,groups,n,l) when ``groups`` > 0; no z, no delta_bias."""
    gen = torch.Generator().manual_seed(seed)

    def rnd(*shape: int, scale: float = 1.0) -> torch.Tensor:
        return (torch.randn(*shape, generator=gen) * scale).to(device)

    return {
        "u": rnd(b, d, length),
        "delta": rnd(b, d, length, scale=0.5) - 4.0,  # softplus → dt ≈ 0.02
        "A": -torch.arange(1, n + 1, dtype=torch.float32).repeat(d, 1).to(device),
        "B": rnd(b, groups, n, length) if groups else rnd(b, n, length),
        "C": rnd(b, groups, n, length) if groups else rnd(b, n, length),
        "D": torch.ones(d, device=device),
    }


def leaves(x: Inputs, grad: bool = True) -> Inputs:
    """Fresh leaf copies of the inputs (requiring gradients when ``grad``)."""
    return {
        k: None if v is None else v.detach().clone().requires_grad_(grad) for k, v in x.items()
    }


def run(fn: Callable[..., torch.Tensor], x: Inputs, softplus: bool, **kw: Any) -> torch.Tensor:
    """``fn`` with selective_scan's positional signature on the inputs ``x``."""
    return fn(
        x["u"], x["delta"], x["A"], x["B"], x["C"], x["D"], x["z"], x["delta_bias"], softplus, **kw
    )


def values_and_grads(
    fn: Callable[..., torch.Tensor], x: Inputs, softplus: bool, **kw: Any
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Output and the gradient of every input under a fixed, non-uniform output weighting."""
    inputs = leaves(x)
    y = run(fn, inputs, softplus, **kw)
    weight = torch.linspace(-1.0, 2.0, y.numel(), dtype=y.dtype, device=y.device)
    (y * weight.reshape(y.shape)).sum().backward()
    grads = {k: v.grad for k, v in inputs.items() if v is not None}
    return y.detach(), grads


def rel_err(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """max |actual - expected| / max |expected| (in float64 on the CPU)."""
    a, e = actual.detach().double().cpu(), expected.detach().double().cpu()
    return float((a - e).abs().max() / e.abs().max().clamp_min(1e-12))


def assert_close_rel(actual: torch.Tensor, expected: torch.Tensor, rtol: float, what: str) -> None:
    err = rel_err(actual, expected)
    assert err <= rtol, f"{what}: relative error {err:.2e} > {rtol:.0e}"
