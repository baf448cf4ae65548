"""/diagnostics sees what the node cannot pair or process, through a real node process:
thermal stamped 0 (a driver without a clock) gives a sync WARN naming the stamp offset;
all-NaN/inf and mostly-NaN 32FC1 thermal is rejected as malformed; the inference text does
not repeat stale latencies when nothing was processed; closed-shutter (FFC) thermal frames are
skipped and held as "flat-field correction in progress"."""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ros"))  # node_harness

from node_harness import (
    HANG_GUARD_S,
    SMALL_NODE_PARAMS,
    RosIO,
    connected_io,
    image_msg,
    running_node,
    scene,
)

from sccosf_ros.pipeline.stats import NodeStats, pairing_stall_message
from sccosf_ros.ros.node_process import node_command

NS = "/t_fault_diag"
FQN = f"{NS}/sccosf"


def test_pairing_stall_message_names_the_offset():
    s = NodeStats()
    s.arrived("rgb")
    s.arrived("thermal")
    s.stamped("rgb", 1_700_000_000 * 10**9)
    s.stamped("thermal", 0)
    snap = s.snapshot()
    snap.since_pair = 0.5  # (set, not slept: the test does not depend on the machine's speed)
    assert pairing_stall_message(snap, stall_timeout=1.0, slop=0.05) is None  # not yet
    snap.since_pair = 3.0
    msg = pairing_stall_message(snap, stall_timeout=1.0, slop=0.05)
    assert "thermal stamps 1.7e9 s behind RGB: check the drivers' clocks or sync.slop" in msg
    s.stamped("thermal", 1_700_000_000 * 10**9 + 250_000_000)
    snap = s.snapshot()
    snap.since_pair = 3.0
    assert "thermal stamps 0.250 s ahead of RGB" in pairing_stall_message(snap, 1.0, 0.05)
    snap.since_last["thermal"] = 5.0  # thermal silent: the inputs status reports that instead
    assert pairing_stall_message(snap, 1.0, 0.05) is None


@pytest.fixture(scope="module")
def node(nano_checkpoint, tmp_path_factory):
    params = {
        **SMALL_NODE_PARAMS,
        "checkpoint": nano_checkpoint,
        "diagnostics.stall_timeout": 1.0,
        "thermal.low": 20.0,
        "thermal.high": 40.0,
    }
    cmd = node_command(params=params, remaps={"__ns": NS})
    yield from running_node(cmd, tmp_path_factory.mktemp("diag") / "node.log")


@pytest.fixture(scope="module")
def io(node):
    yield from connected_io(NS, FQN)


@contextlib.contextmanager
def _streaming(io: RosIO, thermal_stamp=None, thermal=None, enc="mono16") -> Iterator[None]:
    """Pairs at 10 Hz while the block runs (the checks see the inputs still arriving);
    thermal stamped ``thermal_stamp(t)``."""
    rgb, counts = scene(5)
    if thermal is None:
        thermal = counts
    stop = threading.Event()

    def publish() -> None:
        while not stop.is_set():
            t = time.time_ns()
            th_t = t if thermal_stamp is None else thermal_stamp(t)
            io.publish_pair(image_msg(rgb, "rgb8", t, "rgb"), image_msg(thermal, enc, th_t, "th"))
            stop.wait(0.1)

    feeder = threading.Thread(target=publish, daemon=True)
    feeder.start()
    try:
        yield
    finally:
        stop.set()
        feeder.join(HANG_GUARD_S)


@pytest.mark.ros
def test_thermal_stamped_zero_warns_with_the_offset(io, node):
    from diagnostic_msgs.msg import DiagnosticStatus

    processed = io.counter("inference", "processed")
    with _streaming(io, thermal_stamp=lambda t: 0):
        st = io.wait_for(
            lambda: (s := io.latest_status("sync")) and s.level == DiagnosticStatus.WARN and s,
            HANG_GUARD_S,
            "a sync WARN",
        )
        assert "no pair formed in" in st.message
        assert "although rgb and thermal arrive" in st.message
        assert "thermal stamps 1.8e9 s behind RGB" in st.message or "1.7e9" in st.message
        assert "check the drivers' clocks or sync.slop (0.05 s)" in st.message
        inputs = io.latest_status("inputs")
        assert inputs.level == DiagnosticStatus.OK  # both inputs do arrive
        assert io.counter("inference", "processed") == processed  # nothing came out
        sync = io.status_values("sync")
        assert int(sync["unpaired_rgb"]) > 0 and float(sync["stamp_offset_s"]) > 1e9
        # The inference text says so instead of repeating the last latencies.
        assert io.latest_status("inference").message.startswith("no pair processed in the last")
    # Good stamps again: pairs form and the WARN clears.
    with _streaming(io):
        io.wait_for(
            lambda: io.latest_status("sync").level == DiagnosticStatus.OK,
            HANG_GUARD_S,
            "sync OK again",
        )
    assert node.proc.poll() is None


@pytest.mark.ros
@pytest.mark.parametrize(("bad", "rejected"), [(1.0, True), (0.7, True), (0.05, False)])
def test_nan_thermal_below_min_valid_is_malformed(io, node, bad, rejected):
    # 25..35 °C across the frame: a uniform one would be a closed shutter (thermal.ffc)
    thermal = np.tile(np.linspace(25.0, 35.0, 64, dtype=np.float32), (48, 1))
    flat = thermal.reshape(-1)
    n_bad = round(bad * flat.size)
    flat[:n_bad] = np.nan
    flat[: n_bad // 3] = np.inf
    io.wait_for(lambda: io._status_values("input quality"), HANG_GUARD_S, "diagnostics")
    io.wait_settled()  # earlier tests' pairs processed and reported
    before = io.counter("input quality", "malformed_thermal")
    nan_frames = io.counter("input quality", "thermal_nan_frames")
    processed = io.counter("inference", "processed")
    with _streaming(io, thermal=thermal, enc="32FC1"):
        if rejected:
            io.wait_counter_above("input quality", "malformed_thermal", before, HANG_GUARD_S)
        else:
            io.wait_counter_above("input quality", "thermal_nan_frames", nan_frames, HANG_GUARD_S)
            io.wait_counter_above("inference", "processed", processed, HANG_GUARD_S)
    io.wait_settled()  # every pair sent has been handled and counted
    if rejected:
        assert io.counter("inference", "processed") == processed
        reason = io.status_values("input quality")["last_malformed_reason"]
        assert "finite" in reason and "thermal.min_valid = 0.5" in reason
    else:
        assert io.counter("input quality", "malformed_thermal") == before


@pytest.mark.ros
def test_size_mismatch_stays_warn_for_the_hold(io, node):
    """5 RGB/thermal size mismatches, then nothing: a report 4 s after the last rejection still
    says WARN, with the counts in the window and in total; after the hold (5 s) it clears."""
    from diagnostic_msgs.msg import DiagnosticStatus

    io.wait_for(lambda: io._status_values("input quality"), HANG_GUARD_S, "diagnostics")
    io.wait_settled()  # earlier tests' pairs processed and reported
    before = io.counter("input quality", "size_mismatch")
    rgb, _ = scene(11)
    _, small = scene(12, 24, 32)  # thermal half the RGB's size, no homography
    for i in range(1, 6):  # one pair at a time: each is rejected, none dropped as busy
        t = time.time_ns()
        io.publish_pair(image_msg(rgb, "rgb8", t, "rgb"), image_msg(small, "mono16", t, "th"))
        io.wait_counter_above("input quality", "size_mismatch", before + i - 1, HANG_GUARD_S)
    # The node's own figure: seconds from the last rejection to the report's snapshot.
    since = io.wait_for(
        lambda: (
            (v := io._status_values("input quality"))
            and v["since_last_malformed_s"] != "never"
            and float(v["since_last_malformed_s"]) >= 4.0
            and v
        ),
        HANG_GUARD_S,
        "a report 4 s after the last rejection",
    )
    st = io.latest_status("input quality")
    assert {kv.key: kv.value for kv in st.values} == since  # the report the wait returned
    assert st.level == DiagnosticStatus.WARN, st.message
    total = int(since["size_mismatch"])
    assert total == before + 5
    # The 5 were sent one after the other's rejection: how many of them still fall within the
    # window 4 s after the last depends on the pace, at least the last one does.
    counted = re.search(
        rf"RGB/thermal size mismatch: (\d) in the last 5 s, {total} in total", st.message
    )
    assert counted and 1 <= int(counted.group(1)) <= 5, st.message
    assert "differ in size" in st.message  # the last reason, naming what to fix
    # The hold passes: OK again, the total kept.
    cleared = io.wait_for(
        lambda: (s := io.latest_status("input quality")) and s.level == DiagnosticStatus.OK and s,
        HANG_GUARD_S,
        "input quality OK after the hold",
    )
    values = {kv.key: kv.value for kv in cleared.values}
    # timing-invariant: the node clears a fault only once the hold has passed since its last one
    assert float(values["since_last_malformed_s"]) >= 5.0
    assert cleared.message.startswith("inputs well-formed in the last 5 s (")
    assert int(values["size_mismatch"]) == total
    assert node.proc.poll() is None


@pytest.mark.ros
def test_closed_shutter_frames_show_flat_field_correction_held(io, node):
    """A camera in flat-field correction (closed shutter: one temperature plus noise): its frames
    are skipped (no pair processed), counted, and input quality says so, held after the shutter
    opens and pairs flow again; then it clears, the totals kept."""
    from diagnostic_msgs.msg import DiagnosticStatus

    io.wait_for(lambda: io._status_values("input quality"), HANG_GUARD_S, "diagnostics")
    io.wait_settled()  # earlier tests' pairs processed and reported
    frames = io.counter("input quality", "thermal_ffc_frames")
    malformed = io.counter("input quality", "malformed")
    processed = io.counter("inference", "processed")
    rng = np.random.default_rng(3)
    shutter = (8000 + rng.normal(0, 3, (48, 64))).astype(np.uint16)
    with _streaming(io, thermal=shutter):
        st = io.wait_for(
            lambda: (
                (s := io.latest_status("input quality"))
                and s.level == DiagnosticStatus.WARN
                and "flat-field correction in progress" in s.message
                and s
            ),
            HANG_GUARD_S,
            "an input-quality WARN for the flat-field correction",
        )
    io.wait_settled()
    values = io.status_values("input quality")
    skipped = int(values["thermal_ffc_frames"]) - frames
    assert skipped > 0 and int(values["thermal_ffc_events"]) >= 1
    assert re.search(r"\d+ in the last 5 s, \d+ in total; \d+ shutter events?", st.message)
    assert io.counter("inference", "processed") == processed  # none fused
    assert io.counter("input quality", "malformed") == malformed  # not malformed
    # The shutter opens: pairs flow again, and one hold (5 s) after the last skipped frame the
    # WARN clears (the hold itself, on a steady clock: test/ros/test_diagnostics.py).
    with _streaming(io):
        io.wait_counter_above("inference", "processed", processed, HANG_GUARD_S)
    cleared = io.wait_for(
        lambda: (s := io.latest_status("input quality")) and s.level == DiagnosticStatus.OK and s,
        HANG_GUARD_S,
        "input quality OK one hold after the shutter opened",
    )
    assert "flat-field" not in cleared.message
    after = {kv.key: kv.value for kv in cleared.values}
    assert int(after["thermal_ffc_frames"]) == frames + skipped
    assert node.proc.poll() is None
