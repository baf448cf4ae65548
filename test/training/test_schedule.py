"""PolyWarmupLR: linear warm-up then poly decay, stepped per iteration (paper §4.1)."""

from __future__ import annotations

import itertools

import pytest
import torch

from sccosf_ros.training.schedule import PolyWarmupLR, poly_warmup_factor


def test_poly_warmup_schedule_shape():
    f = [
        poly_warmup_factor(s, 100, power=0.9, warmup_iters=10, warmup_ratio=1e-3)
        for s in range(101)
    ]
    assert f[0] == pytest.approx(1e-3 * (1 - 0 / 100) ** 0.9)
    assert all(a < b for a, b in itertools.pairwise(f[:11]))  # rising warm-up
    assert f[10] == pytest.approx(0.9**0.9)  # warm-up over: pure poly
    assert all(a > b for a, b in itertools.pairwise(f[10:]))  # decaying
    assert f[100] == 0.0
    assert f[50] == pytest.approx(0.5**0.9)


def test_scheduler_sets_optimizer_lr_per_step():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.AdamW([p], lr=6e-5)
    sched = PolyWarmupLR(opt, 20, warmup_iters=0)
    seen = []
    for _ in range(20):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen[0] == pytest.approx(6e-5)
    assert seen[10] == pytest.approx(6e-5 * 0.5**0.9)
    assert opt.param_groups[0]["lr"] == 0.0
