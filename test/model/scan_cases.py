"""Selective-scan test inputs and comparisons, shared by the torch-path and Triton tests."""

from __future__ import annotations

import torch

NAMES = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")


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
) -> dict[str, torch.Tensor | None]:
    """Mamba-like inputs (dt pre-activation around -2, A = -exp(A_log) < 0)."""
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


def leaves(x: dict) -> dict:
    return {
        k: None if v is None else v.detach().clone().requires_grad_(True) for k, v in x.items()
    }


def run(fn, x: dict, softplus: bool, **kw) -> torch.Tensor:
    return fn(
        x["u"], x["delta"], x["A"], x["B"], x["C"], x["D"], x["z"], x["delta_bias"], softplus, **kw
    )


def values_and_grads(fn, x: dict, softplus: bool, **kw):
    inputs = leaves(x)
    y = run(fn, inputs, softplus, **kw)
    weight = torch.linspace(-1.0, 2.0, y.numel(), dtype=y.dtype).reshape(y.shape)
    (y * weight).sum().backward()
    grads = {k: v.grad for k, v in inputs.items() if v is not None}
    return y.detach(), grads


def assert_close_rel(actual: torch.Tensor, expected: torch.Tensor, rtol: float, what: str):
    scale = expected.abs().max().clamp_min(1e-12)
    err = (actual.double() - expected.double()).abs().max() / scale
    assert err <= rtol, f"{what}: relative error {err:.2e} > {rtol:.0e}"
