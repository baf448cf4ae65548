"""Approximate-time pairing: message_filters semantics on stamps and the filter API."""

from __future__ import annotations

import random
import sys
import threading
from types import SimpleNamespace

import pytest

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
