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


def test_take_wakes_up_on_put_from_another_thread():
    slot: LatestSlot[str] = LatestSlot()
    threading.Timer(0.05, slot.put, args=("x",)).start()
    t0 = time.monotonic()
    assert slot.take(timeout=5.0) == "x"
    assert time.monotonic() - t0 < 2.0


def test_worker_processes_newest_items_while_busy_and_survives_errors():
    seen, errors = [], []
    gate = threading.Event()

    def handler(item: int) -> None:
        if item == 0:
            gate.wait(5)  # busy on the first item while more arrive
        if item == 7:
            raise ValueError("bad pair")
        seen.append(item)

    w = InferenceWorker(handler, on_error=lambda item, e: errors.append((item, str(e))))
    w.start()
    w.submit(0)
    deadline = time.monotonic() + 5
    while not w.busy and time.monotonic() < deadline:
        time.sleep(0.005)
    dropped = [w.submit(i) for i in (1, 2, 3)]
    assert dropped == [False, True, True]  # 1 and 2 were replaced while 0 ran
    gate.set()
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert seen == [0, 3] and w.dropped == 2
    w.submit(7)
    w.submit(8)  # may or may not replace 7: either way the worker must keep going
    deadline = time.monotonic() + 5
    while 8 not in seen and time.monotonic() < deadline:
        time.sleep(0.005)
    assert 8 in seen
    assert w.failed == len(errors) and all(e == (7, "bad pair") for e in errors)
    assert w.stop(timeout=5.0) is True


def test_stop_joins_promptly_when_idle():
    w = InferenceWorker(lambda item: None).start()
    t0 = time.monotonic()
    assert w.stop(timeout=5.0) is True
    assert time.monotonic() - t0 < 1.0
