"""bench/timing.py: warm-up and repeated timing, as every bench uses them."""

from __future__ import annotations

from sccosf_ros.bench.timing import repeat, timed_ms


def test_repeat_drops_warmup_calls_unless_the_first_is_slow():
    calls = iter([5.0, 1.0, 2.0, 3.0])
    assert repeat(lambda: next(calls), 2, warmup=1) == [1.0, 2.0]
    calls = iter([5.0, 1.0, 2.0])
    assert repeat(lambda: next(calls), 2, warmup=1, slow_warmup_s=2.0) == [5.0, 1.0]


def test_timed_ms_is_wall_milliseconds_of_one_call():
    seen = []
    assert timed_ms(lambda: seen.append(1), "cpu") >= 0 and seen == [1]
