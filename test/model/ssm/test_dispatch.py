"""Backend choice and input checks of the selective scan (sccosf_ros/model/ssm/dispatch.py,
checks.py): which backend ``auto`` picks, and one clear error per bad input."""

from __future__ import annotations

import pytest
import torch

from sccosf_ros.bench.scan_cases import make_inputs, run
from sccosf_ros.model.ssm import choose_backend, mamba_ssm_available, selective_scan


@pytest.mark.parametrize(
    ("backend", "device", "mamba", "triton", "expected"),
    [
        ("auto", "cuda", True, True, "mamba_ssm"),
        ("auto", "cuda", True, False, "mamba_ssm"),
        ("auto", "cuda", False, True, "triton"),
        ("auto", "cuda", False, False, "torch"),
        ("auto", "cpu", True, True, "torch"),
        ("auto", "cpu", False, True, "torch"),
        ("auto", "mps", True, True, "torch"),
        ("triton", "cpu", False, False, "triton"),  # forced: the caller asked for it
        ("torch", "cuda", True, True, "torch"),
        ("mamba_ssm", "cpu", False, False, "mamba_ssm"),
    ],
)
def test_auto_backend_selection(backend, device, mamba, triton, expected):
    assert choose_backend(backend, device, mamba_ssm=mamba, triton=triton) == expected


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="backend must be one of auto, torch, triton"):
        choose_backend("cuda", "cuda", mamba_ssm=False, triton=True)


def test_auto_on_cpu_is_the_torch_path():
    x = make_inputs(length=20, seed=17)
    y_auto = run(selective_scan, x, True)
    y_torch = run(selective_scan, x, True, backend="torch")
    assert torch.equal(y_auto, y_torch)


@pytest.mark.skipif(mamba_ssm_available(), reason="mamba-ssm is installed here")
def test_mamba_ssm_backend_without_kernel_raises_clear_error():
    x = make_inputs(length=8)
    with pytest.raises(ImportError, match=r"mamba-ssm.*backend='auto' or 'torch'"):
        run(selective_scan, x, True, backend="mamba_ssm")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"backend": "cuda"}, "backend must be"),
        ({"A": torch.zeros(5, 3)}, "A must be"),
        ({"B": torch.zeros(2, 3, 3, 10)}, "3 groups"),
        ({"C": torch.zeros(2, 3, 9)}, "C must be"),
        ({"delta": torch.zeros(2, 4, 9)}, "delta must have u's shape"),
        ({"D": torch.zeros(3)}, "D must be"),
        ({"z": torch.zeros(2, 4, 9)}, "z must have u's shape"),
        ({"delta_bias": torch.zeros(4, 1)}, "delta_bias must be"),
    ],
)
def test_bad_shapes_give_clear_errors(change, message):
    x = make_inputs(length=10, dtype=torch.float32)
    backend = change.pop("backend", "torch")
    x.update(change)
    with pytest.raises(ValueError, match=message):
        run(selective_scan, x, False, backend=backend)
