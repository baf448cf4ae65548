"""The Triton selective scan (sccosf_ros/model/ssm/triton_*.py) against the float64 reference.

Without CUDA the kernels run in Triton's interpreter on CPU tensors (test/conftest.py sets
TRITON_INTERPRET=1 before triton is imported); with CUDA the same cases run compiled on the
GPU. The interpreter is slow: shapes are tiny and block sizes are forced small, so that the
cases still cover several chunks (ragged tails), several channel blocks, masked channels and
masked states.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from sccosf_ros.bench.scan_cases import assert_close_rel, make_inputs, run, values_and_grads
from sccosf_ros.model import ssm
from sccosf_ros.model.s6 import S6
from sccosf_ros.model.ssm import (
    selective_scan,
    selective_scan_ref,
    triton_kernels,
    triton_scan,
)

pytestmark = pytest.mark.skipif(not triton_kernels.triton_available(), reason="needs triton")

DEVICES = [
    pytest.param(
        "cpu",
        marks=pytest.mark.skipif(
            not triton_kernels.interpreted(), reason="CPU tensors need TRITON_INTERPRET=1"
        ),
    ),
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    ),
]


def to(x: dict, device: str, dtype: torch.dtype | None = None) -> dict:
    return {
        k: None if v is None else v.to(device=device, dtype=dtype or v.dtype) for k, v in x.items()
    }


def triton_fn(blocks: tuple[int, int] | None = None):
    def fn(u, delta, A, B, C, D, z, delta_bias, softplus):
        return triton_scan.selective_scan_triton(
            u, delta, A, B, C, D, z, delta_bias, softplus, blocks=blocks
        )

    return fn


def check_against_reference(x: dict, softplus: bool, blocks, rtol: float, grad_rtol: float):
    """Output and every gradient of the Triton scan on x against the float64 reference."""
    ref_in = to(x, "cpu", torch.float64)
    y_ref, g_ref = values_and_grads(selective_scan_ref, ref_in, softplus)
    y, g = values_and_grads(triton_fn(blocks), x, softplus)
    assert y.shape == y_ref.shape and y.dtype == x["u"].dtype
    assert_close_rel(y.cpu(), y_ref, rtol, "output")
    assert set(g) == set(g_ref)
    for name, expected in g_ref.items():
        assert g[name].shape == expected.shape and g[name].dtype == x[name].dtype, name
        assert_close_rel(g[name].cpu(), expected, grad_rtol, f"grad {name}")


CASES = [
    # b, d, n, L, groups (B), groups (C), z, blocks (BD, BL)
    pytest.param(2, 4, 3, 1, None, None, True, (2, 16), id="L=1"),
    pytest.param(1, 4, 3, 7, None, None, False, (4, 16), id="odd-L-one-chunk"),
    pytest.param(2, 4, 3, 37, None, None, True, (2, 16), id="ragged-chunks-two-blocks"),
    pytest.param(1, 8, 2, 33, 2, 4, True, (4, 16), id="grouped-B2-C4-masked-channels"),
    pytest.param(1, 6, 5, 20, 2, None, True, (1, 8), id="n=5-masked-states"),
    pytest.param(1, 4, 1, 40, 4, 4, False, (1, 16), id="n=1-one-channel-per-group"),
    pytest.param(1, 4, 3, 50, None, None, True, None, id="default-blocks"),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    ("b", "d", "n", "length", "groups", "groups_c", "with_z", "blocks"), CASES
)
def test_values_and_every_gradient_match_float64_reference(
    device, b, d, n, length, groups, groups_c, with_z, blocks
):
    x = make_inputs(b, d, n, length, groups, groups_c, with_z, seed=length + 10 * d)
    check_against_reference(to(x, device), True, blocks, 1e-12, 1e-11)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    ("with_D", "with_z", "with_bias", "softplus"),
    [(False, False, False, False), (True, False, True, False), (False, True, False, True)],
)
def test_optional_inputs(device, with_D, with_z, with_bias, softplus):
    x = make_inputs(b=1, d=4, n=2, length=21, seed=3)
    x["D"] = x["D"] if with_D else None
    x["z"] = x["z"] if with_z else None
    x["delta_bias"] = x["delta_bias"] if with_bias else None
    check_against_reference(to(x, device), softplus, (2, 16), 1e-12, 1e-11)


@pytest.mark.parametrize("device", DEVICES)
def test_float32_states_over_many_chunks(device):
    """fp32 inputs, fp32 state accumulation: float32 rounding, strong decay included."""
    x = make_inputs(b=1, d=2, n=4, length=150, seed=7, dtype=torch.float32)
    x["delta"][:, 0] += 4.0  # channel 0: dt ≈ 3-5, fast forgetting
    check_against_reference(to(x, device), True, (1, 16), 2e-6, 2e-5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float16, 1e-2), (torch.bfloat16, 2e-2)])
def test_half_inputs_accumulate_in_float32(device, dtype, tol):
    """fp16/bf16 in, fp16/bf16 out (and gradients), the states in float32: only the inputs'
    and results' own rounding separates it from the float64 reference on the rounded inputs."""
    x = to(make_inputs(b=1, d=4, n=3, length=45, seed=11), device, dtype)
    check_against_reference(x, True, (2, 16), tol, 2 * tol)


@pytest.mark.parametrize("device", DEVICES)
def test_autocast_dtypes(device):
    """What bf16 autocast hands the scan (S6 under autocast): bf16 u/Δ/B/C, fp32 A/D/bias;
    every gradient in its input's dtype, and the result close to the torch path's."""
    x = make_inputs(b=1, d=4, n=3, length=30, seed=13)
    x = to(x, device, torch.float32)
    for k in ("u", "delta", "B", "C", "z"):
        x[k] = x[k].to(torch.bfloat16)
    y, g = values_and_grads(triton_fn((2, 16)), x, True)
    y_t, g_t = values_and_grads(lambda *a: selective_scan(*a, backend="torch"), x, True)
    assert y.dtype == torch.bfloat16
    assert_close_rel(y.float(), y_t.float(), 2e-2, "output")
    for name in g:
        assert g[name].dtype == x[name].dtype, name
        assert_close_rel(g[name].float(), g_t[name].float(), 4e-2, f"grad {name}")


@pytest.mark.parametrize("device", DEVICES)
def test_s6_under_bf16_autocast_trains_through_triton(device):
    """An S6 layer forward + backward under torch.autocast(bf16) with the Triton backend."""
    torch.manual_seed(0)
    layers = {b: S6(8, d_state=4, k=2, scan_backend=b).to(device) for b in ("torch", "triton")}
    layers["triton"].load_state_dict(layers["torch"].state_dict())
    u = torch.randn(1, 2, 8, 24, device=device)
    outs, grads = {}, {}
    for name, layer in layers.items():
        with torch.autocast(device, dtype=torch.bfloat16):
            y = layer(u)
        y.float().square().mean().backward()
        outs[name] = y.float()
        grads[name] = {k: p.grad for k, p in layer.named_parameters()}
    assert_close_rel(outs["triton"], outs["torch"], 2e-2, "output")
    for k, gt in grads["torch"].items():
        assert grads["triton"][k] is not None and torch.isfinite(grads["triton"][k]).all(), k
        assert_close_rel(grads["triton"][k], gt, 5e-2, f"grad {k}")


@pytest.mark.parametrize("device", DEVICES)
def test_inference_path_and_dispatch(device):
    """No autograd (no states stored) gives the training forward's values; backend="triton"
    through selective_scan reaches the kernel."""
    x = to(make_inputs(b=1, d=4, n=3, length=26, seed=17), device, torch.float32)
    y_ref = run(selective_scan_ref, to(x, "cpu", torch.float64), True)
    with torch.inference_mode():
        y = run(selective_scan, x, True, backend="triton")
    assert_close_rel(y.cpu(), y_ref, 2e-6, "inference output")
    y_grad, _ = values_and_grads(triton_fn(), x, True)
    assert_close_rel(y, y_grad, 1e-7, "no-grad vs grad forward")


def test_auto_on_cpu_tensors_does_not_use_the_interpreter(monkeypatch):
    """CPU tensors under auto take the torch path even when Triton would interpret them."""
    monkeypatch.setattr(triton_scan, "selective_scan_triton", None)  # would fail if reached
    x = make_inputs(length=12, seed=19)
    assert ssm.resolve_backend("auto", "cpu") == "torch"
    run(selective_scan, x, True)


def test_triton_on_cpu_without_interpreter_says_how():
    """Forcing backend='triton' on CPU tensors without the interpreter: one clear error."""
    code = (
        "import torch\n"
        "from sccosf_ros.model.ssm import selective_scan\n"
        "u = torch.zeros(1, 2, 5)\n"
        "A = -torch.ones(2, 3)\n"
        "B = torch.zeros(1, 3, 5)\n"
        "try:\n"
        "    selective_scan(u, u, A, B, B, backend='triton')\n"
        "except RuntimeError as e:\n"
        "    print('ERROR', e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert "ERROR backend='triton' on cpu tensors needs Triton's interpreter" in res.stdout
    assert "TRITON_INTERPRET=1" in res.stdout


@pytest.mark.parametrize(
    ("b", "dg", "n", "length", "groups", "sms", "expected"),
    [
        (8, 32, 16, 19200, 2, 132, (1, 16, 64)),  # paper stage 1: long sequences, n = 16
        (2, 96, 1, 19200, 2, None, (4, 1, 256)),  # nano: one state, long chunks, 4 channels
        (8, 1024, 16, 300, 2, 132, (1, 16, 64)),
        (1, 64, 4, 5, 2, None, (16, 4, 16)),  # short sequence: 16-step chunk, fill channels
        (2, 96, 1, 19200, 2, 132, (1, 1, 256)),  # few programs: one channel each
    ],
)
def test_block_sizes(b, dg, n, length, groups, sms, expected):
    assert triton_scan.block_sizes(b, dg, n, length, groups, sms) == expected
