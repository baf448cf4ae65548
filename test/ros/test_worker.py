"""The one-slot latest-pair buffer and the inference thread (no ROS)."""

from __future__ import annotations

import threading
import time

from sccosf_ros.ros.worker import InferenceWorker, LatestSlot


def test_slot_keeps_only_the_newest_and_counts_drops():
    slot: LatestSlot[int] = LatestSlot()
    assert slot.put(1) is False
    assert slot.put(2) is True and slot.put(3) is True
    assert slot.dropped == 2 and slot.put_count == 3
    assert slot.take(timeout=0) == 3
    assert slot.take(timeout=0.01) is None  # empty
    slot.put(4)
    slot.close()
    assert slot.take(timeout=0) == 4  # what was left
    assert slot.take(timeout=1.0) is None  # closed: no waiting
    assert slot.put(5) is False and slot.take(0) is None


# Hang guards only: generous enough for any loaded machine; speed is the benchmarks' business.
HANG_GUARD_S = 120.0


def test_take_wakes_up_on_put_from_another_thread():
    slot: LatestSlot[str] = LatestSlot()
    got: list[str | None] = []
    waiting = threading.Event()

    def consumer() -> None:
        waiting.set()
        got.append(slot.take(timeout=3600.0))  # only a put (not the timeout) can end this

    t = threading.Thread(target=consumer, daemon=True)
    t.start()
    assert waiting.wait(HANG_GUARD_S)
    slot.put("x")
    t.join(HANG_GUARD_S)
    assert not t.is_alive(), "take() did not wake up on put()"
    assert got == ["x"]


def test_worker_processes_newest_items_while_busy_and_survives_errors():
    seen, errors = [], []
    gate = threading.Event()

    def handler(item: int) -> None:
        if item == 0:
            gate.wait(HANG_GUARD_S)  # busy on the first item while more arrive
        if item == 7:
            raise ValueError("bad pair")
        seen.append(item)

    w = InferenceWorker(handler, on_error=lambda item, e: errors.append((item, str(e))))
    w.start()
    w.submit(0)
    deadline = time.monotonic() + HANG_GUARD_S
    while not w.busy and time.monotonic() < deadline:
        time.sleep(0.005)
    dropped = [w.submit(i) for i in (1, 2, 3)]
    assert dropped == [False, True, True]  # 1 and 2 were replaced while 0 ran
    gate.set()
    deadline = time.monotonic() + HANG_GUARD_S
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert seen == [0, 3] and w.dropped == 2
    w.submit(7)
    w.submit(8)  # may or may not replace 7: either way the worker must keep going
    deadline = time.monotonic() + HANG_GUARD_S
    while 8 not in seen and time.monotonic() < deadline:
        time.sleep(0.005)
    assert 8 in seen
    assert w.failed == len(errors) and all(e == (7, "bad pair") for e in errors)
    assert w.stop(timeout=HANG_GUARD_S) is True


def test_stop_ends_an_idle_worker():
    """stop() closes the slot the idle worker waits on and joins its thread (how fast is a
    benchmark figure, not a test's)."""
    w = InferenceWorker(lambda item: None).start()
    assert w.stop(timeout=HANG_GUARD_S) is True
