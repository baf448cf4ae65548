"""Approximate-time pairing: message_filters semantics on stamps and the filter API."""

from __future__ import annotations

import random
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # approx_time_reference

from approx_time_reference import reference_count

from sccosf_ros.pipeline.pairing import (
    ApproximateTimeSynchronizer,
    ApproxTimePairer,
    SimpleFilter,
    stamp_to_ns,
)

MS = 1_000_000  # ns
S = 1_000_000_000


# --------------------------------------------------------------------------- pairer semantics
def test_exact_pairs_emit_when_the_second_arrives():
    p = ApproxTimePairer(2, queue_size=1, slop=0.1)
    for t in range(10):
        assert p.add(0, t * S, f"a{t}") == []
        assert p.add(1, t * S, f"b{t}") == [(f"a{t}", f"b{t}")]
    assert p.pending() == [0, 0] and p.emitted == 10


def test_scrambled_sequences_recombine():
    rng = random.Random(0)
    for n in range(1, 10):
        p = ApproxTimePairer(2, queue_size=n, slop=0.1)
        seq = list(range(n))
        out = []
        for t in rng.sample(seq, n):
            out += p.add(0, t * S, ("a", t))
        assert out == []
        for t in rng.sample(seq, n):
            out += p.add(1, t * S, ("b", t))
        assert sorted(out) == [(("a", t), ("b", t)) for t in seq]


def test_output_tuples_are_ordered_by_input_not_arrival():
    p = ApproxTimePairer(3, queue_size=5, slop=0.1)
    assert p.add(2, 5 * S, "c") == []
    assert p.add(0, 5 * S, "a") == []
    assert p.add(1, 5 * S, "b") == [("a", "b", "c")]


def test_slop_boundary_candidates_inclusive_spread_strict():
    slop = 0.1
    # |Δ| == slop: a candidate, but the spread is not < slop → no pair, both stay queued.
    p = ApproxTimePairer(2, queue_size=5, slop=slop)
    p.add(0, 1 * S, "a")
    assert p.add(1, 1 * S + 100 * MS, "b") == []
    assert p.pending() == [1, 1]
    # 1 ns inside → pair.
    p = ApproxTimePairer(2, queue_size=5, slop=slop)
    p.add(0, 1 * S, "a")
    assert p.add(1, 1 * S + 100 * MS - 1, "b") == [("a", "b")]
    # slop = 0 never matches, not even equal stamps (spread 0 is not < 0).
    p = ApproxTimePairer(2, queue_size=5, slop=0.0)
    p.add(0, 1 * S, "a")
    assert p.add(1, 1 * S, "b") == []


def test_three_inputs_candidates_vs_spread():
    # New stamp 0.05: both others are within |Δ| <= slop of it, but their spread is 0.1.
    p = ApproxTimePairer(3, queue_size=5, slop=0.1)
    p.add(0, 0, "a0")
    p.add(1, 100 * MS, "b0")
    assert p.add(2, 50 * MS, "c0") == []
    # Another input-1 message 1 ns nearer makes the spread strictly smaller than slop.
    assert p.add(1, 100 * MS - 1, "b1") == [("a0", "b1", "c0")]
    assert p.pending() == [0, 1, 0]  # only the emitted entries were removed


def test_closest_candidate_wins_and_others_stay_queued():
    p = ApproxTimePairer(2, queue_size=5, slop=0.1)
    p.add(0, 1000 * MS, "a_far")
    p.add(0, 1050 * MS, "a_near")
    assert p.add(1, 1040 * MS, "b") == [("a_near", "b")]
    assert p.queues[0] == {1000 * MS: "a_far"}
    # The leftover can still pair with a later thermal frame.
    assert p.add(1, 1001 * MS, "b2") == [("a_far", "b2")]


def test_equal_distance_ties_keep_arrival_order():
    p = ApproxTimePairer(2, queue_size=5, slop=0.2)
    p.add(0, 1100 * MS, "late_stamp_first")
    p.add(0, 900 * MS, "early_stamp_second")
    assert p.add(1, 1000 * MS, "b") == [("late_stamp_first", "b")]


def test_same_stamp_on_one_input_replaces():
    p = ApproxTimePairer(2, queue_size=5, slop=0.1)
    p.add(0, 7 * S, "old")
    p.add(0, 7 * S, "new")
    assert p.replaced == [1, 0] and p.pending() == [1, 0]
    assert p.add(1, 7 * S, "b") == [("new", "b")]


def test_queue_trims_oldest_stamp_not_oldest_arrival():
    p = ApproxTimePairer(2, queue_size=2, slop=0.1)
    p.add(0, 3 * S, "t3")
    p.add(0, 1 * S, "t1")
    p.add(0, 2 * S, "t2")  # over the bound: stamp 1 goes although it arrived second
    assert set(p.queues[0]) == {2 * S, 3 * S} and p.trimmed == [1, 0]
    assert p.add(1, 1 * S, "b1") == []  # its partner is gone
    assert p.add(1, 2 * S, "b2") == [("t2", "b2")]


def test_a_new_message_older_than_a_full_queue_is_trimmed_at_once():
    p = ApproxTimePairer(2, queue_size=2, slop=0.5)
    p.add(1, 1 * S, "b")  # a partner waiting on the other input
    p.add(0, 5 * S, "a5")
    p.add(0, 6 * S, "a6")
    assert p.add(0, 1 * S, "a1") == []  # stored, trimmed as the oldest, never emitted
    assert 1 * S not in p.queues[0] and p.trimmed == [1, 0]


def test_out_of_order_arrival():
    p = ApproxTimePairer(2, queue_size=10, slop=0.02)
    out = []
    # Thermal arrives first and out of stamp order; RGB later, also shuffled.
    for t in (3, 1, 2):
        out += p.add(1, t * 100 * MS + 3 * MS, f"th{t}")
    for t in (2, 3, 1):
        out += p.add(0, t * 100 * MS, f"rgb{t}")
    assert sorted(out) == [(f"rgb{t}", f"th{t}") for t in (1, 2, 3)]


def test_30hz_rgb_vs_9hz_thermal_with_jitter_pairs_at_the_thermal_rate():
    rng = random.Random(1)
    duration, slop = 10.0, 0.025
    events = []  # (arrival_time, input, stamp_ns, id)
    for i in range(int(duration * 30)):
        stamp = i / 30 + rng.uniform(-0.002, 0.002)
        events.append((stamp + rng.uniform(0.005, 0.015), 0, int(stamp * S), ("rgb", i)))
    for i in range(int(duration * 9)):
        stamp = 0.013 + i / 9 + rng.uniform(-0.002, 0.002)
        events.append((stamp + rng.uniform(0.040, 0.070), 1, int(stamp * S), ("th", i)))
    events.sort()
    p = ApproxTimePairer(2, queue_size=10, slop=slop)
    pairs = []
    stamps = {}
    for _, idx, stamp, ident in events:
        stamps[ident] = stamp
        pairs += p.add(idx, stamp, ident)
    n_thermal = int(duration * 9)
    assert 0.95 * n_thermal <= len(pairs) <= n_thermal  # ≈ 9 Hz
    used = [m for pair in pairs for m in pair]
    assert len(used) == len(set(used))  # each message used at most once
    for rgb, th in pairs:
        assert abs(stamps[rgb] - stamps[th]) < slop * S
        # nearest RGB frame: 30 Hz spacing + jitter keeps it within half a period
        assert abs(stamps[rgb] - stamps[th]) <= (1 / 60 + 0.004) * S


def test_random_streams_respect_the_invariants():
    rng = random.Random(7)
    for _ in range(20):
        n = rng.choice((2, 3))
        slop = rng.choice((0.01, 0.05, 0.2))
        p = ApproxTimePairer(n, queue_size=rng.randint(1, 8), slop=slop)
        seen, stamp_of = set(), {}
        for k in range(200):
            idx = rng.randrange(n)
            stamp = rng.randrange(0, 2 * S, 7 * MS)
            item = (idx, k)
            stamp_of[item] = stamp
            for out in p.add(idx, stamp, item):
                assert [m[0] for m in out] == list(range(n))
                ts = [stamp_of[m] for m in out]
                assert max(ts) - min(ts) < p.slop_ns
                assert item in out  # only the arriving message can complete a set
                assert not seen & set(out)
                seen |= set(out)
            assert all(len(q) <= p.queue_size for q in p.queues)


def test_pairer_validates_arguments():
    with pytest.raises(ValueError, match="num_inputs"):
        ApproxTimePairer(1, 5, 0.1)
    with pytest.raises(ValueError, match="queue_size"):
        ApproxTimePairer(2, 0, 0.1)
    with pytest.raises(ValueError, match="slop"):
        ApproxTimePairer(2, 5, -0.1)
    with pytest.raises(ValueError, match="slop"):
        ApproxTimePairer(2, 5, float("nan"))
    with pytest.raises(IndexError):
        ApproxTimePairer(2, 5, 0.1).add(2, 0, "x")


def test_pairer_is_thread_safe():
    p = ApproxTimePairer(2, queue_size=10_000, slop=0.001)
    out, lock = [], threading.Lock()

    def feed(idx, stamps):
        for t in stamps:
            got = p.add(idx, t * MS, (idx, t))
            with lock:
                out.extend(got)

    threads = [
        threading.Thread(target=feed, args=(i % 2, range(i // 2, 2000, 2))) for i in range(4)
    ]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so a missing lock shows up
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(interval)
    assert sorted(out) == [((0, t), (1, t)) for t in range(2000)]
    assert p.pending() == [0, 0]


def test_clear_forgets_everything():
    p = ApproxTimePairer(2, queue_size=5, slop=0.1)
    p.add(0, 1 * S, "a")
    p.clear()
    assert p.add(1, 1 * S, "b") == []


# --------------------------------------------------------------------------- filter API
def _msg(stamp_ns, data):
    sec, nsec = divmod(stamp_ns, S)
    return SimpleNamespace(
        header=SimpleNamespace(stamp=SimpleNamespace(sec=sec, nanosec=nsec)), data=data
    )


def test_synchronizer_filter_api_like_message_filters():
    f0, f1 = SimpleFilter(), SimpleFilter()
    sync = ApproximateTimeSynchronizer([f0, f1], queue_size=5, slop=0.05)
    got = []
    sync.registerCallback(lambda a, b, tag: got.append((a.data, b.data, tag)), "extra")
    f0.signalMessage(_msg(1 * S, "rgb"))
    assert got == []
    f1.signalMessage(_msg(1 * S + 30 * MS, "th"))
    assert got == [("rgb", "th", "extra")]
    assert sync.queues == [{}, {}] and sync.queue_size == 5 and sync.slop == 0.05


def test_synchronizer_headerless_messages():
    f0, f1 = SimpleFilter(), SimpleFilter()
    sync = ApproximateTimeSynchronizer([f0, f1], 5, 0.1)
    got = []
    sync.registerCallback(lambda a, b: got.append((a, b)))
    f1.signalMessage(SimpleNamespace(data="no header"))
    assert sync.headerless_dropped == 1 and sync.queues == [{}, {}]

    now = [5 * S]
    f0, f1 = SimpleFilter(), SimpleFilter()
    sync = ApproximateTimeSynchronizer(
        [f0, f1], 5, 0.1, allow_headerless=True, clock=lambda: now[0]
    )
    sync.registerCallback(lambda a, b: got.append((a, b)))
    with_header = _msg(5 * S + 10 * MS, "stamped")
    headerless = SimpleNamespace(data="stamped on arrival")
    f0.signalMessage(with_header)
    f1.signalMessage(headerless)
    assert got == [(with_header, headerless)]


def test_stamp_to_ns_accepts_ros_and_rclpy_times():
    from builtin_interfaces.msg import Time as TimeMsg
    from rclpy.time import Time

    assert stamp_to_ns(TimeMsg(sec=3, nanosec=7)) == 3 * S + 7
    assert stamp_to_ns(Time(seconds=2, nanoseconds=5)) == 2 * S + 5
    assert stamp_to_ns(SimpleNamespace(sec=1, nanosec=2)) == S + 2


# --------------------------------------------------------------------------- jump reset
def _stream(t0_s: float, duration: float, rgb_hz: float = 30.0, th_hz: float = 9.0):
    """(arrival, input, stamp_ns) of a 30/9 Hz pair of cameras, thermal 13 ms after RGB."""
    events = [
        (t0_s + i / rgb_hz, 0, round((t0_s + i / rgb_hz) * S))
        for i in range(int(duration * rgb_hz))
    ]
    events += [
        (t0_s + 0.013 + i / th_hz + 0.03, 1, round((t0_s + 0.013 + i / th_hz) * S))
        for i in range(int(duration * th_hz))
    ]
    return sorted(events)


def _pairs(pairer: ApproxTimePairer, events) -> int:
    return sum(len(pairer.add(i, stamp, (i, stamp))) for _, i, stamp in events)


def test_a_looped_stream_pairs_the_same_in_every_loop():
    one_loop = _stream(100.0, 4.0)
    p = ApproxTimePairer(2, queue_size=10, slop=0.05, jump_reset=1.0)
    counts = [_pairs(p, one_loop) for _ in range(3)]
    assert counts[0] == 36 and counts == [counts[0]] * 3
    assert p.resets == 2  # one per loop start, not one per input
    # message_filters' behaviour (jump_reset = 0): the stale newer stamps starve later loops.
    mf = ApproxTimePairer(2, queue_size=10, slop=0.05)
    stale = [_pairs(mf, one_loop) for _ in range(3)]
    assert stale[0] == 36 and stale[1] < 36 // 4 and mf.resets == 0  # 4 of 36, as reported
    assert sum(stale) == reference_count([(i, t) for _, i, t in one_loop * 3], 2, 10, 0.05)


def test_a_driver_restart_loses_at_most_one_pair():
    # Both cameras restart: stamps continue 3 s in the past of where they were.
    before = _stream(50.0, 2.0)
    after = [(a + 2.0, i, stamp - 3 * S + 2 * S) for a, i, stamp in _stream(50.0, 2.0)]
    whole = _stream(50.0, 4.0)  # the same cameras without the restart
    p = ApproxTimePairer(2, queue_size=10, slop=0.05, jump_reset=1.0)
    got = _pairs(p, before) + _pairs(p, after)
    assert reference_count([(i, stamp) for _, i, stamp in whole], 2, 10, 0.05) - got <= 1
    assert p.resets == 1


def test_reset_is_reported_once_with_what_it_dropped():
    seen = []
    p = ApproxTimePairer(2, queue_size=5, slop=0.1, jump_reset=1.0, on_reset=seen.append)
    p.add(0, 10 * S, "a")
    p.add(1, 10 * S, "b")  # a pair
    p.add(0, 11 * S, "a-waiting")
    assert p.add(0, 9 * S + 500 * MS, "a-jumped") == []  # 1.5 s back: reset
    assert len(seen) == 1 and p.discarded == [1, 0] and p.pending() == [1, 0]
    r = seen[0]
    assert (r.reason, r.input_index, r.pairs_before, r.discarded, r.count) == ("stamp", 0, 1, 1, 1)
    assert r.back_s == pytest.approx(1.5)
    assert "rgb stamp jumped back 1.500 s" in r.describe(["rgb", "thermal"])
    # The other input's first older stamp does not reset again, and pairs at once.
    assert p.add(1, 9 * S + 500 * MS, "b-jumped") == [("a-jumped", "b-jumped")]
    assert len(seen) == 1 and p.unpaired() == [1, 0]
    # Going back by less than jump_reset is ordinary reordering.
    p.add(0, 9 * S, "a-slightly-older")
    assert p.resets == 1


def test_clock_jump_resets_only_when_the_stamps_have_not():
    seen = []
    p = ApproxTimePairer(2, queue_size=5, slop=0.1, jump_reset=1.0, on_reset=seen.append)
    p.add(0, 100 * S, "a")
    assert p.clock_jumped(99_500 * MS) is None  # within jump_reset of the newest stamp
    r = p.clock_jumped(10 * S)  # /clock of a looping bag went back
    assert r is not None and r.reason == "clock" and r.input_index is None
    assert p.pending() == [0, 0] and len(seen) == 1
    p.add(0, 10 * S, "a2")  # the stamps follow the clock: no second reset
    assert p.clock_jumped(10 * S) is None and p.resets == 1
    off = ApproxTimePairer(2, 5, 0.1)  # jump_reset = 0: off for clock jumps too
    off.add(0, 100 * S, "a")
    assert off.clock_jumped(0) is None and off.pending() == [1, 0]


def test_configure_changes_slop_and_trims_a_smaller_queue():
    p = ApproxTimePairer(2, queue_size=5, slop=0.01)
    for t in range(5):
        p.add(0, t * S, t)
    assert p.add(1, 4 * S + 50 * MS, "b") == []  # outside 10 ms
    p.configure(queue_size=2, slop=0.1, jump_reset=2.0)
    assert p.pending() == [2, 1] and p.trimmed == [3, 0] and p.jump_reset == 2.0
    assert p.add(1, 3 * S + 50 * MS, "b2") == [(3, "b2")]
    with pytest.raises(ValueError, match="jump_reset"):
        p.configure(2, 0.1, -1.0)


def test_synchronizer_passes_the_jump_reset_through():
    f0, f1 = SimpleFilter(), SimpleFilter()
    resets = []
    sync = ApproximateTimeSynchronizer([f0, f1], 5, 0.05, jump_reset=1.0, on_reset=resets.append)
    got = []
    sync.registerCallback(lambda a, b: got.append((a.data, b.data)))
    f0.signalMessage(_msg(20 * S, "a-old"))
    f0.signalMessage(_msg(5 * S, "a-new"))
    f1.signalMessage(_msg(5 * S, "b-new"))
    assert got == [("a-new", "b-new")] and len(resets) == 1


def test_a_late_message_from_before_the_jump_does_not_reset_twice():
    seen = []
    p = ApproxTimePairer(2, queue_size=10, slop=0.05, jump_reset=1.0, on_reset=seen.append)
    for k in range(20):  # 2 s of 10 Hz pairs
        p.add(0, 100 * S + k * 100 * MS, k)
        p.add(1, 100 * S + k * 100 * MS, k)
    assert p.clock_jumped(100 * S) is not None  # /clock of the next loop came first
    assert p.add(0, 102 * S, "late, from the old loop") == []  # dropped, no second reset
    assert p.add(0, 100 * S, "a") == [] and p.add(1, 100 * S, "b") == [("a", "b")]
    p.add(0, 101_500 * MS, "a2")  # the new loop goes past the old target: no longer "late"
    assert p.add(1, 101_500 * MS, "b2") == [("a2", "b2")]
    assert len(seen) == 1 and p.resets == 1 and p.discarded[0] >= 1
    # Same with a stamp-triggered reset and a late message on the other input.
    q = ApproxTimePairer(2, queue_size=10, slop=0.05, jump_reset=1.0)
    q.add(0, 50 * S, "a")
    q.add(1, 50 * S - 30 * MS, "b-old")
    q.add(0, 10 * S, "a-new")  # reset
    assert q.add(1, 50 * S, "b-late") == []  # in flight from before the jump
    assert q.add(1, 10 * S, "b-new") == [("a-new", "b-new")] and q.resets == 1
