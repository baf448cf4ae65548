"""SIGINT/SIGTERM to real sccosf_node processes: any number, in any order, exit 0 with no
traceback (``ros2 launch`` sends SIGINT to the group, then again, then SIGTERM). How fast they
exit is a benchmark figure (``sccosf bench node``); here a deadline of minutes only catches a
hang (a join that never returns), so a loaded machine cannot fail the test.

Every case is its own node process; all start together (they share the camera topics) and a
publisher keeps pairs flowing, so the worker is busy when the signals come. One node runs the
network at 480x640 (a model call of a second or more on this CPU) to catch a join that waits
for inference, one is the lifecycle node, one is signalled while it loads its model.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ros"))  # node_harness

from node_harness import HANG_GUARD_S, NodeProcess, RosIO, image_msg, scene

from sccosf_ros.ros.node_process import node_command

pytestmark = [pytest.mark.ros, pytest.mark.slow]

INT, TERM = signal.SIGINT, signal.SIGTERM
# name → (signals sent 50 ms apart, when: "ready" | "loading"; extra parameters, module)
CASES = {
    "int": ([INT], "ready", {}, "node"),
    "term": ([TERM], "ready", {}, "node"),
    "int_int": ([INT, INT], "ready", {}, "node"),
    "int_term": ([INT, TERM], "ready", {}, "node"),
    "term_int_int": ([TERM, INT, INT], "ready", {}, "node"),
    "burst_of_six": ([INT, TERM, INT, INT, TERM, INT], "ready", {}, "node"),
    "busy_model": (
        [INT, INT],
        "busy",
        {"inference.height": 480, "inference.width": 640},
        "node",
    ),
    "while_loading": ([INT, TERM], "loading", {}, "node"),
    "lifecycle_active": ([INT, INT, TERM], "ready", {}, "lifecycle_node"),
}
BASE = {
    "backend": "torch",  # about signals, not the runtime (backend auto compiles per size)
    "inference.height": 32,
    "inference.width": 32,
    "num_threads": 1,
    "thermal.normalization": "fixed",
    "thermal.low": 7000.0,
    "thermal.high": 9000.0,
    "diagnostics.period": 0.25,
}
RGB, THERMAL = "/t_sig/rgb", "/t_sig/thermal"


def _feed(io: RosIO, stop: threading.Event) -> None:
    rgb, thermal = scene(1)
    while not stop.is_set():
        t = time.time_ns()
        io.publish_pair(image_msg(rgb, "rgb8", t, "c"), image_msg(thermal, "mono16", t, "c"))
        stop.wait(0.05)


def _wait(cond, timeout: float, what: str, proc: NodeProcess) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        assert proc.alive(), f"{what}: node exited early:\n{proc.log_tail()}"
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout} s:\n{proc.log_tail()}")


def test_any_sequence_of_signals_exits_zero_without_traceback(nano_checkpoint, tmp_path):
    procs = {}
    for name, (_, _, extra, module) in CASES.items():
        args = ["--autostart"] if module == "lifecycle_node" else []
        cmd = node_command(
            module=f"sccosf_ros.ros.{module}",
            args=args,
            params={**BASE, **extra, "checkpoint": nano_checkpoint},
            remaps={"__ns": f"/t_sig_{name}", "rgb/image_raw": RGB, "thermal/image_raw": THERMAL},
        )
        procs[name] = NodeProcess(cmd, tmp_path / f"{name}.log")
    io = RosIO("/t_sig", "/t_sig_busy_model/sccosf", rgb_topic=RGB, thermal_topic=THERMAL)
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(io, stop), daemon=True)
    results = {}
    try:
        feeder.start()
        # The one signalled while loading goes first (torch is still being imported then).
        order = sorted(CASES, key=lambda n: CASES[n][1] != "loading")
        for name in order:
            sigs, when, _, _ = CASES[name]
            proc = procs[name]
            if when == "loading":  # handlers are in place once the DDS line is out
                _wait(lambda p=proc: "DDS:" in p.log(), HANG_GUARD_S, "start of loading", proc)
                assert "ready:" not in proc.log()
            else:
                proc.wait_ready(HANG_GUARD_S)
            if when == "busy":  # a model call is running (fused outputs come at 480x640)
                _wait(lambda: io.outputs["fused"], HANG_GUARD_S, "a first busy-model output", proc)
            for sig in sigs:
                proc.proc.send_signal(sig)
                time.sleep(0.05)  # the spacing of the sequence, not a wait for a result
            try:
                rc = proc.wait(HANG_GUARD_S)
            except Exception:
                rc = None  # hung: killed below, reported as a failure
            results[name] = (rc, proc.log())
    finally:
        stop.set()
        feeder.join(5)
        io.close()
        for proc in procs.values():
            proc.kill()
    for name, (rc, log) in results.items():
        assert rc == 0, f"{name}: exit code {rc} (None: hung for {HANG_GUARD_S} s)\n{log}"
        assert "Traceback" not in log and "KeyboardInterrupt" not in log, f"{name}:\n{log}"
