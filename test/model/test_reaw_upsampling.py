"""ReAW's two-step upsampling (1/s → 1/4 → 1) against direct upsampling (1/s → 1): how far
apart they are, as its docstring states."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

H, W = 480, 640


def _up(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _relative_difference(reduction: int) -> float:
    torch.manual_seed(0)
    x = torch.randn(4, 16, H // reduction, W // reduction)  # white noise: the worst case
    direct = _up(x, (H, W))
    two_step = _up(_up(x, (H // 4, W // 4)), (H, W))
    return float((two_step - direct).norm() / direct.norm())


def test_two_step_upsampling_differs_from_direct_as_documented():
    assert _relative_difference(4) == 0.0  # stage 1 is at 1/4 already
    measured = {s: _relative_difference(r) for s, r in ((2, 8), (3, 16), (4, 32))}
    assert measured[2] == pytest.approx(0.22, abs=0.01)
    assert measured[3] == pytest.approx(0.076, abs=0.005)
    assert measured[4] == pytest.approx(0.026, abs=0.003)
