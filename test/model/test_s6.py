"""S6 layer: Mamba initialisation and the folding of k units into one grouped scan."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sccosf_ros.model.s6 import S6, default_dt_rank
from sccosf_ros.model.ssm import selective_scan_ref


def test_mamba_initialisation():
    torch.manual_seed(0)
    m = S6(d_inner=32, d_state=5, k=2)
    assert m.dt_rank == 2 == default_dt_rank(32)
    assert default_dt_rank(40) == 3 and default_dt_rank(1) == 1
    torch.testing.assert_close(m.A_log[7], torch.log(torch.arange(1.0, 6.0)))
    assert torch.all(m.D == 1)
    dt = F.softplus(m.dt_proj_bias)
    assert dt.min() >= 1e-4 - 1e-7 and dt.max() <= 0.1 + 1e-6
    assert m.x_proj_weight.shape == (2, 2 + 10, 32)
    assert m.dt_proj_weight.shape == (2, 32, 2)


def _unit_reference(m: S6, u: torch.Tensor, j: int, c_unit: int) -> torch.Tensor:
    """Unit j of S6 computed on its own with the sequential reference (C from unit c_unit)."""
    dt, b, c = m.project(u)
    d = m.d_inner
    sl = slice(j * d, (j + 1) * d)
    return selective_scan_ref(
        u[:, j].double(),
        dt[:, j].double(),
        -torch.exp(m.A_log[sl].double()),
        b[:, j].double(),
        c[:, c_unit].double(),
        m.D[sl].double(),
        delta_bias=m.dt_proj_bias[j].double(),
        delta_softplus=True,
    )


def test_folded_units_equal_separate_scans():
    torch.manual_seed(1)
    m = S6(d_inner=6, d_state=4, k=3)
    u = torch.randn(2, 3, 6, 11)
    with torch.no_grad():
        y = m(u)
        for j in range(3):
            torch.testing.assert_close(
                y[:, j].double(), _unit_reference(m, u, j, j), rtol=1e-4, atol=1e-5
            )


def test_c_source_reads_out_with_another_units_c():
    torch.manual_seed(2)
    m = S6(d_inner=4, d_state=3, k=2)
    u = torch.randn(1, 2, 4, 9)
    with torch.no_grad():
        y = m(u, c_source=(1, 0))
        torch.testing.assert_close(
            y[:, 0].double(), _unit_reference(m, u, 0, 1), rtol=1e-4, atol=1e-5
        )
        torch.testing.assert_close(
            y[:, 1].double(), _unit_reference(m, u, 1, 0), rtol=1e-4, atol=1e-5
        )


def test_scan_flops_formula():
    m = S6(d_inner=8, d_state=4, k=2)
    assert m.scan_flops(batch=3, length=10) == 9 * 3 * 16 * 4 * 10 + 3 * 16 * 10
    assert not math.isnan(float(m.scan_flops(1, 1)))
