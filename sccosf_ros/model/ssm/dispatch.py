"""Which backend runs a selective scan, and the public entry :func:`selective_scan`.

The Triton modules are imported only when Triton is asked for: importing triton is slow and
fixes its interpreter choice (``TRITON_INTERPRET``) for the process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

from sccosf_ros.model.ssm.checks import check_shapes
from sccosf_ros.model.ssm.torch_backend import selective_scan_torch

BACKENDS = ("auto", "torch", "triton", "mamba_ssm")


def mamba_ssm_kernel() -> Callable[..., Tensor]:
    """mamba-ssm's ``selective_scan_fn``; ImportError that says how to install it."""
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
        mamba_ssm_kernel()
    except ImportError:
        return False
    return True


@functools.cache
def triton_available() -> bool:
    """True when Triton can be imported (it ships with torch's CUDA wheels; checked once)."""
    from sccosf_ros.model.ssm.triton_kernels import triton_available as available

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
    """Selective scan with mamba-ssm ``selective_scan_fn`` semantics
    (package docstring of :mod:`sccosf_ros.model.ssm`).

    u, delta, z: (b,d,l); A: (d,n); B, C: (b,n,l) or (b,g,n,l); D, delta_bias: (d,).
    Returns (b,d,l) in u's dtype. ``backend``: "auto" | "torch" | "triton" | "mamba_ssm"
    (:func:`choose_backend`).
    """
    chosen = resolve_backend(backend, u.device.type)
    check_shapes(u, delta, A, B, C, D, z, delta_bias)
    if chosen == "mamba_ssm":
        kernel = mamba_ssm_kernel()
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
        from sccosf_ros.model.ssm.triton_scan import selective_scan_triton

        return selective_scan_triton(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    return selective_scan_torch(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
