"""SS2D cross-scan / merge layout (paper §3.2.2; VMamba convention)."""

from __future__ import annotations

import torch

from sccosf_ros.model.ss2d import SS2D, cross_merge, cross_scan


def test_cross_scan_directions_are_what_they_claim():
    h, w = 3, 4
    x = torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w)  # x[i, j] = i*w + j
    xs = cross_scan(x)[0, :, 0]  # (4, L)
    row_major = [i * w + j for i in range(h) for j in range(w)]
    col_major = [i * w + j for j in range(w) for i in range(h)]
    assert xs[0].tolist() == row_major  # top-left → bottom-right along rows
    assert xs[1].tolist() == col_major  # top-left → bottom-right down the columns
    assert xs[2].tolist() == row_major[::-1]  # bottom-right → top-left
    assert xs[3].tolist() == col_major[::-1]


def test_merge_of_identity_scan_is_four_times_input():
    x = torch.randn(2, 5, 7, 3)  # non-square, odd sizes
    merged = cross_merge(cross_scan(x), 7, 3)
    torch.testing.assert_close(merged.view_as(x), 4 * x)


def test_merge_maps_each_direction_back_to_its_pixel():
    # A "scan" that tags each direction with its own constant offset: the merge must put the
    # value computed for pixel p in direction k back at p, whatever the traversal order.
    h, w = 4, 5
    x = torch.randn(1, 2, h, w)
    xs = cross_scan(x)
    tags = torch.tensor([1.0, 10.0, 100.0, 1000.0]).view(1, 4, 1, 1)
    merged = cross_merge(xs * tags, h, w).view_as(x)
    torch.testing.assert_close(merged, x * 1111.0)


def test_ss2d_runs_one_grouped_scan_over_four_units():
    torch.manual_seed(0)
    m = SS2D(d_inner=6, d_state=3)
    x = torch.randn(2, 6, 5, 7, requires_grad=True)
    y = m(x)
    assert y.shape == x.shape
    y.square().mean().backward()
    assert m.s6.x_proj_weight.shape[0] == 4 and m.s6.A_log.shape == (24, 3)
    assert x.grad is not None and torch.isfinite(x.grad).all()
