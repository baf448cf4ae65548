"""ApproxTimePairer against the brute-force message_filters reference (approx_time_reference)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # approx_time_reference

from approx_time_reference import reference_count, reference_pairs

from sccosf_ros.pipeline.pairing import ApproxTimePairer

MS = 1_000_000


def _pairer_stamps(events, num_inputs, queue_size, slop_s):
    p = ApproxTimePairer(num_inputs, queue_size, slop_s)
    out = []
    for i, t in events:
        out += [tuple(stamp for stamp in tup) for tup in p.add(i, t, t)]
    return out


def test_reference_by_hand():
    # slop 10 ms: |Δ| == slop is a candidate but the spread must be strictly below it.
    assert reference_pairs([(0, 0), (1, 10 * MS)], 2, 5, 0.01) == []
    assert reference_pairs([(0, 0), (1, 10 * MS - 1)], 2, 5, 0.01) == [(0, 10 * MS - 1)]
    # the nearest candidate wins; the other stays queued and pairs with the next arrival
    ev = [(0, 0), (0, 6 * MS), (1, 5 * MS), (1, 1 * MS)]
    assert reference_pairs(ev, 2, 5, 0.01) == [(6 * MS, 5 * MS), (0, 1 * MS)]
    # queue_size 1: the older RGB is trimmed before the thermal arrives
    assert reference_pairs([(0, 0), (0, 50 * MS), (1, 1 * MS)], 2, 1, 0.01) == []
    # slop 0 never pairs, not even equal stamps
    assert reference_pairs([(0, 7), (1, 7)], 2, 5, 0.0) == []


@pytest.mark.parametrize("num_inputs", [2, 3])
def test_pairer_matches_the_reference_entry_for_entry(num_inputs):
    rng = random.Random(num_inputs)
    for trial in range(60):
        queue_size = rng.randint(1, 6)
        slop_s = rng.choice([0.0, 0.005, 0.01, 0.02, 0.05])
        events = []
        for _ in range(rng.randint(5, 60)):
            # jittered 10 ms ticks, some duplicates and reordering
            stamp = rng.randint(0, 40) * 10 * MS + rng.choice([0, 0, 1, -1, 3 * MS, -4 * MS])
            events.append((rng.randrange(num_inputs), stamp))
        want = reference_pairs(events, num_inputs, queue_size, slop_s)
        got = _pairer_stamps(events, num_inputs, queue_size, slop_s)
        assert got == want, (trial, queue_size, slop_s, events)


def test_camera_rates_pair_as_the_reference_counts():
    """30 Hz RGB and 9 Hz thermal 13 ms behind (arriving 30 ms later), 4 s."""
    events = [(i / 30, 0, round(i / 30 * 1e9)) for i in range(120)]
    events += [(0.043 + i / 9, 1, round((0.013 + i / 9) * 1e9)) for i in range(36)]
    ordered = [(i, t) for _, i, t in sorted(events)]
    n = reference_count(ordered, 2, 10, 0.05)
    assert n == 36  # every thermal frame finds an RGB frame within 17 ms
    assert len(_pairer_stamps(ordered, 2, 10, 0.05)) == n
