"""The selective scan's graph form (model/ssm/graph.py): same results as the sequential
reference and the eager path, and graph capture that does not freeze data-dependent branches."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from sccosf_ros.model.s6 import S6
from sccosf_ros.model.ssm import graph, selective_scan, selective_scan_ref, torch_backend
from sccosf_ros.model.ssm.graph import capturing, scan_graph


def _inputs(b: int, d: int, n: int, length: int, g: int, seed: int = 0, dt_shift: float = -1.0):
    gen = torch.Generator().manual_seed(seed)

    def rnd(*shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale + shift

    return (
        rnd(b, d, length),
        rnd(b, d, length, scale=2.0, shift=dt_shift),
        -torch.exp(rnd(d, n, scale=0.5)),
        rnd(b, g, n, length),
        rnd(b, g, n, length),
        rnd(d),
        rnd(d),
    )


@pytest.mark.parametrize(
    ("b", "d", "n", "length", "g"),
    [
        (1, 4, 2, 1, 1),  # one step
        (2, 6, 3, 37, 3),  # ragged tail, grouped B/C
        (1, 4, 1, 17, 2),  # d_state 1 (nano), one chunk
        (1, 4, 2, 600, 2),  # carry scan over 10 chunks
        (1, 2, 2, 4500, 1),  # carry scan over 71 chunks (> 64: recursive carry)
    ],
)
def test_graph_scan_matches_reference_and_eager(b, d, n, length, g):
    u, delta, A, B, C, D, bias = _inputs(b, d, n, length, g)
    ref = selective_scan_ref(u, delta, A, B, C, D, None, bias, True)
    f32 = [t.float() for t in (u, delta, A, B, C, D, bias)]
    u32, d32, A32, B32, C32, D32, b32 = f32
    dl, B4, C4 = torch_backend.prepare(d32, B32, C32, b32, True, torch.float32, F.softplus)
    with torch.no_grad():
        y_graph = scan_graph(u32.contiguous(), dl, A32, B4, C4, D32)
        eager = selective_scan(u32, d32, A32, B32, C32, D32, None, b32, True, backend="torch")
    assert y_graph.shape == (b, d, length)
    torch.testing.assert_close(y_graph.double(), ref, atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(y_graph, eager, atol=2e-5, rtol=1e-4)


def _sequential(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """h_t = a_t h_{t-1} + x_t from a zero state, one step at a time."""
    h, prev = torch.empty_like(x), torch.zeros_like(x[..., 0])
    for t in range(x.shape[-1]):
        prev = a[..., t] * prev + x[..., t]
        h[..., t] = prev
    return h


def _scan_inputs(length: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """x and log decays log a ≤ 0 (3, 5, length), with decays of exactly 1 and ones that
    underflow to 0."""
    gen = torch.Generator().manual_seed(length)
    x = torch.randn(3, 5, length, generator=gen, dtype=torch.float64)
    la = -torch.rand(3, 5, length, generator=gen, dtype=torch.float64) * 3
    la[0, 0, ::3], la[0, 1, ::2], la[1, 0, ::5] = -1e4, 0.0, -100.0
    return x.to(dtype), la.to(dtype)


T = graph.CHUNK
FLOOR = graph.LOG_DECAY_FLOOR


@pytest.mark.parametrize("length", [1, 2, 3, 7, T - 1, T, T + 1, 100, (T + 1) * T + 1, 4500])
def test_chunked_scan_matches_sequential(length):
    """Chunks of CHUNK steps with the carry over their ends (more than CHUNK chunks at
    (T + 1)·T + 1 steps, a one-step tail), ragged tails: exact (float64) against the
    sequential scan whose step log decays are floored as the graph's are."""
    x, la = _scan_inputs(length, torch.float64)
    ref = _sequential(x, la.clamp(min=FLOOR).exp())
    torch.testing.assert_close(graph._scan_last(x, la), ref, rtol=1e-12, atol=1e-12)
    h32 = graph._scan_last(x.float(), la.float())
    torch.testing.assert_close(h32.double(), ref, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("length", [1, 2, 3, 5, 8, 9, 100])
def test_doubling_scan_matches_sequential(length):
    """The carry's recursive doubling at lengths that are not powers of two, with decays of
    exactly 1 and ones that underflow to 0 (no floor: exact)."""
    x, la = _scan_inputs(length, torch.float64)
    ref = _sequential(x, la.exp())
    torch.testing.assert_close(graph._scan_doubling(x, la), ref, rtol=1e-12, atol=1e-12)


def test_decay_floor_moves_a_state_by_at_most_its_decay():
    """The floor only matters where a step keeps less than exp(-8) ≈ 3.4e-4 of the state
    before it: against the unfloored scan the difference stays below that share of the
    largest state, and the floored scan stays finite where the exps would overflow."""
    x, la = _scan_inputs(4500, torch.float64)
    ref = _sequential(x, la.exp())
    h = graph._scan_last(x, la)
    assert torch.isfinite(h).all()
    assert (h - ref).abs().max() <= math.exp(FLOOR) * ref.abs().max()


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_chunked_scan_stays_finite_at_the_floor(scale):
    """Every step at the floor inside a chunk: |q| reaches CHUNK/2 · 8, the exps stay in
    float32's range for inputs up to 1e4."""
    x = torch.full((2, 3, 5 * T + 3), scale)
    la = torch.full_like(x, -1e3)
    h = graph._scan_last(x, la)
    assert torch.isfinite(h).all()
    torch.testing.assert_close(h, x * (1 + math.exp(FLOOR)), rtol=1e-3, atol=0)


def test_chunked_scan_keeps_decays_near_one_in_bfloat16():
    """OpenVINO's bf16 hint runs the scan's elementwise ops in bfloat16, where a decay near 1
    is on a grid of 2⁻⁸: decays multiplied as such drift (a product form of this scan was off
    by more than 100 % here). Their logs keep 8 significant bits, so the scan stays close."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 8, 4500, generator=gen, dtype=torch.float64)
    la = -torch.rand(4, 8, 4500, generator=gen, dtype=torch.float64) * 1e-3  # a ≈ 0.9995
    ref = _sequential(x, la.exp())
    h = graph._scan_last(x.bfloat16(), la.bfloat16()).double()
    assert (h - ref).abs().max() / ref.abs().max() < 0.05


def test_capturing_is_false_in_eager_mode():
    assert capturing() is False


def test_torch_export_keeps_the_softplus_branch_for_large_delta():
    """Exported on inputs whose Δ stays small, run on inputs with Δ far above softplus's
    threshold (20; eager takes its ``x.max().item() > 20`` branch there): the exported
    program must agree with eager, which a branch frozen at capture time would not."""
    torch.manual_seed(0)
    s6 = S6(d_inner=4, d_state=2, k=2, scan_backend="torch").eval()
    small = torch.randn(1, 2, 4, 40) * 0.01
    with torch.no_grad():
        program = torch.export.export(s6, (small,), strict=False)
        big = torch.randn(1, 2, 4, 40) * 500.0
        dt, _, _ = s6.project(big)
        assert (dt + s6.dt_proj_bias[None, :, :, None]).max() > 100  # the branch matters
        eager = s6(big)
        exported = program.module()(big)
    assert torch.isfinite(exported).all()
    # Δ·A reaches -1000 here: the graph keeps exp(-8) ≈ 3e-4 of a state where eager keeps 0
    # (the decay floor of graph.py); summed over the states and read out through C, the
    # outputs differ by less than 0.1 % of the largest one
    floor = 1e-3 * float(eager.abs().max())
    torch.testing.assert_close(exported, eager, atol=1e-3 + floor, rtol=1e-4)


def test_softplus_graph_matches_softplus_everywhere():
    from sccosf_ros.model.ssm.graph import softplus_graph

    x = torch.linspace(-120.0, 120.0, 100_001)
    torch.testing.assert_close(softplus_graph(x), F.softplus(x), atol=1e-7, rtol=1e-6)


def test_exported_ss2d_equals_eager():
    """SS2D's capture forms (cross_scan by stack/cat, the projections as matmuls, the graph
    scan) in one exported program, against eager on another input."""
    from sccosf_ros.model.ss2d import SS2D

    torch.manual_seed(1)
    m = SS2D(d_inner=6, d_state=2, scan_backend="torch").eval()
    with torch.no_grad():
        program = torch.export.export(m, (torch.randn(1, 6, 5, 7),), strict=False)
        x = torch.randn(1, 6, 5, 7)
        torch.testing.assert_close(program.module()(x), m(x), atol=1e-4, rtol=1e-4)
