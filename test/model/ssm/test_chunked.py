"""Selective scan (sccosf_ros/model/ssm/): the PyTorch path against a float64 reference."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from sccosf_ros.bench.scan_cases import (
    NAMES,
    assert_close_rel,
    leaves,
    make_inputs,
    run,
    values_and_grads,
)
from sccosf_ros.model.ssm import (
    chunked,
    mamba_ssm_available,
    selective_scan,
    selective_scan_ref,
    torch_backend,
)


@pytest.mark.parametrize(
    ("length", "groups", "with_z", "softplus"),
    [
        (1, None, True, True),  # L = 1
        (7, None, False, False),  # odd L, one chunk
        (37, None, True, True),  # several chunks, ragged tail
        (37, 2, True, False),  # grouped B/C
        (300, 4, False, True),  # chunk carry is itself chunked (recursion), ragged
        (1000, None, True, True),  # three levels
    ],
)
def test_torch_path_matches_float64_reference(length, groups, with_z, softplus):
    x = make_inputs(length=length, groups=groups, with_z=with_z, seed=length)
    y_ref, g_ref = values_and_grads(selective_scan_ref, x, softplus)
    y, g = values_and_grads(selective_scan, x, softplus, backend="torch")
    assert y.shape == (2, 4, length) and y.dtype == torch.float64
    assert_close_rel(y, y_ref, 1e-12, "output")
    assert set(g) == set(g_ref)
    for name in g_ref:
        assert g[name].shape == g_ref[name].shape, name
        assert_close_rel(g[name], g_ref[name], 1e-11, f"grad {name}")


def set_blocking(monkeypatch, device_type: str = "cpu", like: str = "cpu", **changes) -> None:
    """Run ``device_type`` tensors with the blocking of ``like``, fields changed."""
    blocking = dataclasses.replace(chunked.BLOCKING[like], **changes)
    monkeypatch.setitem(chunked.BLOCKING, device_type, blocking)


def test_channel_blocks_and_different_groups_for_b_and_c(monkeypatch):
    """One channel per block (the large-size regime) and B, C with different group counts."""
    set_blocking(monkeypatch, block_bytes=1)
    x = make_inputs(d=8, length=70, groups=2, groups_c=4, seed=3)
    y_ref, g_ref = values_and_grads(selective_scan_ref, x, True)
    y, g = values_and_grads(selective_scan, x, True, backend="torch")
    assert_close_rel(y, y_ref, 1e-12, "output")
    for name in g_ref:
        assert_close_rel(g[name], g_ref[name], 1e-11, f"grad {name}")


@pytest.mark.parametrize(
    ("block_bytes", "expected_db"),
    [(1 << 30, 8), (4 * 3840, 4), (3840, 1)],  # one block; 2 blocks of 2 groups; per channel
)
def test_cuda_blocking_wide_blocks(monkeypatch, block_bytes, expected_db):
    """The CUDA blocking (chunks of 16, blocks spanning whole B/C groups, vectorised ∂B/∂C),
    run on CPU tensors; one channel costs 16·5·2·3·8 = 3840 bytes here."""
    set_blocking(monkeypatch, like="cuda", block_bytes=block_bytes)
    x = make_inputs(d=8, length=70, groups=2, groups_c=4, seed=29)
    assert chunked.Chunked(x["u"], x["delta"], x["A"], x["B"], x["C"]).db == expected_db
    y_ref, g_ref = values_and_grads(selective_scan_ref, x, True)
    y, g = values_and_grads(selective_scan, x, True, backend="torch")
    assert_close_rel(y, y_ref, 1e-12, "output")
    for name in g_ref:
        assert_close_rel(g[name], g_ref[name], 1e-11, f"grad {name}")
    set_blocking(monkeypatch, like="cuda", infer_bytes=0, block_bytes=block_bytes)
    assert_close_rel(run(selective_scan, x, True, backend="torch"), y_ref, 1e-12, "no-grad")


def test_blocking_per_device_at_the_paper_preset_stage_1():
    """Paper preset, batch 8, 480×640, stage 1 Sc-LRB scan (d = 2·32, 2 groups, n = 16,
    l = 19200): one channel per block on CPU (cache-sized), 32 on CUDA (one block per group:
    all 64 would pass the 512 MB buffer bound), and all 64 at batch 2."""
    args = (19200, 8, 64, 2, 16, 4)
    assert chunked.plan(*args, chunked.BLOCKING["cpu"]) == (32, 600, 1)
    assert chunked.plan(*args, chunked.BLOCKING["cuda"]) == (16, 1200, 32)
    assert chunked.plan(19200, 2, 64, 2, 16, 4, chunked.BLOCKING["cuda"]) == (16, 1200, 64)


def test_gradcheck_core():
    x = make_inputs(b=1, d=2, n=2, length=21, groups=None, with_z=True, seed=5)
    inputs = [leaves(x)[k] for k in NAMES]

    def f(*args):
        return selective_scan(*args, delta_softplus=True, backend="torch")

    assert torch.autograd.gradcheck(f, tuple(inputs), eps=1e-6, atol=1e-7, rtol=1e-5)


def test_float32_long_sequence_is_exact_to_float32_precision():
    """No drift or overflow over many chunks, strong decay included (Δ·|A| up to ~40)."""
    x = make_inputs(b=1, d=3, n=4, length=2000, groups=None, with_z=False, seed=7)
    x["delta"][:, 0] += 4.0  # channel 0: dt ≈ 3-5, fast forgetting
    x32 = {k: None if v is None else v.float() for k, v in x.items()}
    y_ref, g_ref = values_and_grads(selective_scan_ref, x, True)
    y, g = values_and_grads(selective_scan, x32, True, backend="torch")
    assert y.dtype == torch.float32 and torch.isfinite(y).all()
    assert_close_rel(y, y_ref, 2e-6, "output")
    for name in g_ref:
        assert torch.isfinite(g[name]).all(), name
        assert_close_rel(g[name], g_ref[name], 2e-5, f"grad {name}")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_inputs_are_computed_in_float32(dtype):
    x = make_inputs(length=50, seed=11)
    xh = {k: None if v is None else v.to(dtype) for k, v in x.items()}
    y = run(selective_scan, xh, True, backend="torch")
    assert y.dtype == dtype
    x_rounded = {k: None if v is None else v.double() for k, v in xh.items()}
    y_ref = run(selective_scan_ref, x_rounded, True)
    tol = 1e-2 if dtype == torch.float16 else 2e-2
    assert_close_rel(y.double(), y_ref, tol, f"{dtype} output")


def test_optional_inputs_and_partial_grads():
    x = make_inputs(length=40, seed=13)
    u = x["u"].clone().requires_grad_(True)
    y = selective_scan(u, x["delta"], x["A"], x["B"], x["C"], backend="torch")
    y_ref = selective_scan_ref(u, x["delta"], x["A"], x["B"], x["C"])
    assert_close_rel(y.detach(), y_ref.detach(), 1e-12, "output without D/z/bias")
    (gu,) = torch.autograd.grad(y.sum(), u)
    (gu_ref,) = torch.autograd.grad(y_ref.sum(), u)
    assert_close_rel(gu, gu_ref, 1e-11, "grad u")
    with torch.no_grad():
        assert selective_scan(u, x["delta"], x["A"], x["B"], x["C"]).grad_fn is None


@pytest.mark.parametrize(
    ("b", "d", "n", "length", "groups", "groups_c", "with_z"),
    [
        (2, 4, 3, 1, None, None, True),  # L = 1
        (2, 4, 3, 37, 2, None, True),  # several chunks, ragged tail, grouped B
        (1, 8, 1, 1000, 4, 2, False),  # n = 1 (the nano preset), different B/C groups
        (2, 4, 3, 1000, None, None, True),  # three levels
    ],
)
@pytest.mark.parametrize("whole_state", [True, False])
def test_no_grad_path_matches_float64_reference(
    monkeypatch, b, d, n, length, groups, groups_c, with_z, whole_state
):
    """Inference (nothing needs a gradient): the one-pass whole-state scan and, for states
    over the size limit, the blocked two-pass forward, in float64 and float32."""
    if not whole_state:
        set_blocking(monkeypatch, infer_bytes=0, block_bytes=1)  # one channel per block
    x = make_inputs(
        b=b,
        d=d,
        n=n,
        length=length,
        groups=groups,
        groups_c=groups_c,
        with_z=with_z,
        seed=length + d,
    )
    y_ref = run(selective_scan_ref, x, True)
    y = run(selective_scan, x, True, backend="torch")
    assert y.shape == y_ref.shape and y.dtype == torch.float64
    assert_close_rel(y, y_ref, 1e-12, "float64 output")
    with torch.inference_mode():
        y32 = run(
            selective_scan,
            {k: None if v is None else v.float() for k, v in x.items()},
            True,
            backend="torch",
        )
    assert y32.dtype == torch.float32
    assert_close_rel(y32, y_ref, 2e-6, "float32 output")


def test_inference_softplus_matches_torch_softplus():
    x = torch.cat((torch.linspace(-120.0, 120.0, 20001), torch.tensor([20.0, 20.5, 800.0])))
    y = torch_backend.softplus_inference(x)
    ref = torch.nn.functional.softplus(x.double())
    assert torch.isfinite(y).all()
    big = ref > 1e-30
    assert ((y.double() - ref).abs() / ref)[big].max() <= 1.2e-7
    assert y[~big].abs().max() <= 1e-30
    assert torch.equal(y[-3:], x[-3:])  # softplus is x itself past the threshold


@pytest.mark.gpu
@pytest.mark.skipif(not mamba_ssm_available(), reason="needs the mamba-ssm kernel")
@pytest.mark.parametrize("groups", [None, 2])
def test_torch_path_matches_mamba_ssm_kernel_on_cuda(groups):
    x = make_inputs(b=2, d=8, n=4, length=333, groups=groups, dtype=torch.float32, seed=19)
    xc = {k: None if v is None else v.cuda() for k, v in x.items()}
    y_k, g_k = values_and_grads(selective_scan, xc, True, backend="mamba_ssm")
    y_t, g_t = values_and_grads(selective_scan, xc, True, backend="torch")
    assert_close_rel(y_t, y_k, 1e-4, "output")
    for name in g_k:
        assert_close_rel(g_t[name], g_k[name], 1e-3, f"grad {name}")


@pytest.mark.gpu
def test_torch_path_runs_on_cuda():
    x = make_inputs(length=100, dtype=torch.float32, seed=23)
    xc = {k: None if v is None else v.cuda() for k, v in x.items()}
    y, g = values_and_grads(selective_scan, xc, True, backend="torch")
    y_ref, g_ref = values_and_grads(selective_scan_ref, x, True)
    assert_close_rel(y.cpu(), y_ref, 1e-5, "output")
    for name in g_ref:
        assert_close_rel(g[name].cpu(), g_ref[name], 1e-4, f"grad {name}")


def test_bench_scan_rows_and_ratios(capsys):
    """`sccosf bench scan` helper: one row per method/size/pass, ratios against torch."""
    from sccosf_ros.bench.scan import _mambapy_pscan, bench_scan

    rows = bench_scan(
        [(1, 4, 2, 40)],
        methods=["torch", "mambapy", "sequential"],
        threads=None,
        repeats=1,
        seq_prefix=16,
    )
    timed = ("torch", "sequential") + (("mambapy",) if _mambapy_pscan() else ())
    assert {(r["method"], r["pass"]) for r in rows} == {
        (m, p) for m in timed for p in ("fwd", "fwd+bwd")
    }
    for r in rows:
        assert r["ms"] > 0 and r["L"] == 40
        assert r["ratio"] == pytest.approx(
            r["ms"]
            / next(q["ms"] for q in rows if q["method"] == "torch" and q["pass"] == r["pass"])
        )
    seq = [r for r in rows if r["method"] == "sequential"]
    assert all(r["measured_L"] == 16 for r in seq)
    out = capsys.readouterr().out
    assert "sequential/torch" in out and "extrapolated" in out
