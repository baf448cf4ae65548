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
* ``"triton"``: the Triton kernels of :mod:`~sccosf_ros.model.ssm.triton_kernels` (forward and
  backward; CUDA tensors, or CPU tensors under Triton's interpreter, ``TRITON_INTERPRET=1``).
  Triton ships with torch's CUDA wheels: no compiling against the local CUDA toolkit.
* ``"torch"``: the pure-PyTorch chunked scan (:mod:`~sccosf_ros.model.ssm.chunked`), used on
  CPU and wherever no kernel is available.
* ``"auto"`` (:func:`choose_backend`): on CUDA tensors mamba_ssm when importable, else triton
  when importable, else torch; on other devices torch.

Modules, one concept each:

* :mod:`.dispatch` — :func:`selective_scan`: backend choice, then the chosen backend.
* :mod:`.checks` — shape checks and the working dtype shared by every backend.
* :mod:`.reference` — :func:`selective_scan_ref`, the sequential loop (tests, benchmarks).
* :mod:`.recurrence` — the chunked layout and the chunked scan of one linear recurrence.
* :mod:`.chunked` — the two-level chunked scan over channel blocks and its hand-written backward.
* :mod:`.torch_backend` — the ``"torch"`` backend: training (autograd) and inference forms.
* :mod:`.graph` — the same maths as a static graph, for ONNX export and graph capture.
* :mod:`.triton_kernels`, :mod:`.triton_scan` — the Triton kernels and their launcher.
"""

from sccosf_ros.model.ssm.dispatch import (
    BACKENDS,
    choose_backend,
    mamba_ssm_available,
    resolve_backend,
    selective_scan,
    triton_available,
)
from sccosf_ros.model.ssm.reference import selective_scan_ref

__all__ = [
    "BACKENDS",
    "choose_backend",
    "mamba_ssm_available",
    "resolve_backend",
    "selective_scan",
    "selective_scan_ref",
    "triton_available",
]
