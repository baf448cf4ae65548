"""FaultHold and NodeStats' held faults on an injected clock: a fault stays visible for the
hold after it last occurred, with its count in the window and in total (no sleeping)."""

from __future__ import annotations

from sccosf_ros.pipeline.fault_hold import FaultHold, counts_text
from sccosf_ros.pipeline.stats import NodeStats, stall_messages


class Clock:
    """A steady clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_events_are_held_for_the_window_then_leave_it():
    clock = Clock()
    faults = FaultHold(hold=5.0, clock=clock)
    assert not faults.view("size_mismatch").held  # never seen
    for _ in range(5):
        faults.event("size_mismatch")
        clock.now += 0.2
    last = clock.now - 0.2  # the fifth rejection
    clock.now = last + 4.0
    h = faults.view("size_mismatch")
    assert h.held and (h.recent, h.total) == (5, 5)
    assert counts_text(h, faults.hold) == "5 in the last 5 s, 5 in total"
    clock.now = last + 4.99
    assert faults.view("size_mismatch").held
    clock.now = last + 5.0  # exactly one hold after the last: no longer held
    h = faults.view("size_mismatch")
    assert not h.held and (h.recent, h.total) == (0, 5)
    # Older occurrences leave the window one by one.
    faults.event("size_mismatch", 2)
    clock.now += 3.0
    faults.event("size_mismatch")
    clock.now += 2.5
    assert (faults.view("size_mismatch").recent, faults.view("size_mismatch").total) == (1, 8)


def test_a_steady_stream_of_events_is_counted_over_the_window_only():
    clock = Clock()
    faults = FaultHold(hold=5.0, clock=clock)
    for _ in range(3000):  # 30 Hz for 100 s: bounded memory, the window still slides
        faults.event("malformed_rgb")
        clock.now += 1 / 30
    h = faults.view("malformed_rgb")
    assert h.total == 3000
    assert 150 <= h.recent <= 152  # 5 s at 30 Hz, up to one bucket (hold / 100) more
    assert len(faults._times["malformed_rgb"]) <= 101


def test_states_count_episodes_and_are_held_from_their_end():
    clock = Clock()
    faults = FaultHold(hold=5.0, clock=clock)
    for active in (True, True, True):  # one episode seen at three reports
        faults.state("no_pair", active)
        clock.now += 1.0
    faults.state("no_pair", False)  # ended: seen last 1 s ago
    h = faults.view("no_pair")
    assert h.held and not h.active and (h.recent, h.total) == (1, 1)
    clock.now += 3.9
    assert faults.view("no_pair").held
    clock.now += 0.2  # 5.1 s after its last sighting
    assert not faults.view("no_pair").held
    faults.state("no_pair", True)  # a second episode
    assert faults.view("no_pair").total == 2


def test_cumulative_counters_count_their_increase_and_the_hold_is_live():
    clock = Clock()
    faults = FaultHold(hold=5.0, clock=clock)
    faults.counter("unpaired_rgb", 4)
    faults.counter("unpaired_rgb", 4)  # read again, nothing new
    clock.now += 6.0
    faults.counter("unpaired_rgb", 7)
    assert (faults.view("unpaired_rgb").recent, faults.view("unpaired_rgb").total) == (3, 7)
    faults.set_hold(1.0)
    clock.now += 1.0
    assert not faults.view("unpaired_rgb").held


def test_node_stats_hold_rejections_and_stalls():
    clock = Clock()
    stats = NodeStats(hold=5.0, clock=clock)
    stats.arrived("rgb")
    stats.arrived("thermal")
    for _ in range(5):
        stats.malformed("size_mismatch", "RGB 64x48 and thermal 32x24 differ in size")
    clock.now += 4.0
    snap = stats.snapshot(stall_timeout=2.0)  # thermal and rgb silent for 4 s: stalled
    assert (snap.held["size_mismatch"].recent, snap.held["size_mismatch"].total) == (5, 5)
    assert snap.held["rgb_stalled"].active and snap.hold_s == 5.0
    assert stall_messages(snap, 2.0)[0] == (
        "rgb stream stalled: last image 4.0 s ago (1 in the last 5 s, 1 in total)"
    )
    stats.arrived("rgb")
    stats.arrived("thermal")
    clock.now += 0.5
    snap = stats.snapshot(stall_timeout=2.0)  # streaming again: the stall is still held
    assert not snap.held["rgb_stalled"].active and snap.held["size_mismatch"].held
    assert stall_messages(snap, 2.0) == [
        "rgb stream stalled: 1 in the last 5 s, 1 in total; arriving again",
        "thermal stream stalled: 1 in the last 5 s, 1 in total; arriving again",
    ]
    clock.now += 0.5  # 5 s after the last rejection: it leaves the window
    snap = stats.snapshot(stall_timeout=2.0)
    assert not snap.held["size_mismatch"].held and snap.held["size_mismatch"].total == 5
    assert snap.held["rgb_stalled"].held  # last seen 1 s ago
    clock.now += 4.0  # 5 s after the stall was last seen
    stats.arrived("rgb")
    stats.arrived("thermal")
    assert stall_messages(stats.snapshot(stall_timeout=2.0), 2.0) == []


def test_a_stream_that_never_started_is_not_held():
    clock = Clock()
    stats = NodeStats(clock=clock)
    clock.now += 10.0
    snap = stats.snapshot(stall_timeout=2.0)
    assert stall_messages(snap, 2.0)[0] == "no rgb image received in 10.0 s since start"
    stats.arrived("rgb")
    stats.arrived("thermal")
    snap = stats.snapshot(stall_timeout=2.0)
    assert stall_messages(snap, 2.0) == [] and snap.held["rgb_stalled"].total == 0
