"""sccosf_lifecycle_node as a real process, driven through its lifecycle services (what
``ros2 lifecycle set`` calls): unconfigured at start, configure loads the model, activate
processes, deactivate stops (model kept), cleanup frees it; a bad checkpoint fails configure."""

from __future__ import annotations

import time

import pytest
from node_harness import HANG_GUARD_S, NodeProcess, RosIO, image_msg, scene

from sccosf_ros.ros.node_process import node_command

pytestmark = pytest.mark.ros

MODULE = "sccosf_ros.ros.lifecycle_node"
PARAMS = {
    "backend": "torch",  # the lifecycle, not the runtime (auto compiles a graph per size)
    "inference.height": 32,
    "inference.width": 32,
    "num_threads": 1,
    "diagnostics.period": 0.25,
    "thermal.normalization": "fixed",
    "thermal.low": 7000.0,
    "thermal.high": 9000.0,
}


def _start(ns: str, log, args=(), **params) -> NodeProcess:
    cmd = node_command(module=MODULE, args=args, params={**PARAMS, **params}, remaps={"__ns": ns})
    return NodeProcess(cmd, log)  # the harness runs it from the repository root


def _wait_log(proc: NodeProcess, text: str, timeout: float = HANG_GUARD_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proc.log():
            return
        assert proc.alive(), proc.log()
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged within {timeout} s:\n{proc.log_tail()}")


class _Lifecycle:
    def __init__(self, io: RosIO, fqn: str) -> None:
        from lifecycle_msgs.srv import ChangeState, GetState

        self.io = io
        self.change = io.node.create_client(ChangeState, f"{fqn}/change_state")
        self.get = io.node.create_client(GetState, f"{fqn}/get_state")
        for cli in (self.change, self.get):
            assert cli.wait_for_service(timeout_sec=HANG_GUARD_S), cli.srv_name

    def _call(self, cli, req, timeout: float = 120.0):
        future = cli.call_async(req)
        self.io.wait_for(future.done, timeout, f"{cli.srv_name} reply")
        return future.result()

    def state(self) -> str:
        from lifecycle_msgs.srv import GetState

        return self._call(self.get, GetState.Request()).current_state.label

    def set(self, transition: str) -> bool:
        from lifecycle_msgs.msg import Transition
        from lifecycle_msgs.srv import ChangeState

        tid = getattr(Transition, f"TRANSITION_{transition.upper()}")
        return self._call(self.change, ChangeState.Request(transition=Transition(id=tid))).success


def _pair_flows(io: RosIO, timeout: float = HANG_GUARD_S) -> bool:
    rgb, thermal = scene(3)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = time.time_ns()
        io.publish_pair(image_msg(rgb, "rgb8", t, "cam"), image_msg(thermal, "mono16", t, "cam"))
        try:
            io.wait_for(lambda t=t: "fused" in io.outputs_for(t), 1.5, "fused")
            return True
        except AssertionError:
            continue
    return False


def test_transitions_through_the_lifecycle_services(nano_checkpoint, tmp_path):
    ns = "/t_lc"
    proc = _start(ns, tmp_path / "node.log", checkpoint=nano_checkpoint)
    io = None
    try:
        _wait_log(proc, "unconfigured:")
        io = RosIO(ns, f"{ns}/sccosf")
        lc = _Lifecycle(io, f"{ns}/sccosf")
        assert lc.state() == "unconfigured"
        assert io.rgb_pub.get_subscription_count() == 0  # nothing subscribed yet

        assert lc.set("configure") and lc.state() == "inactive"
        assert "configured: 9 classes" in proc.log()
        assert io.rgb_pub.get_subscription_count() == 0

        assert lc.set("activate") and lc.state() == "active"
        io.wait_subscribed()
        assert _pair_flows(io), proc.log()
        assert "ready: checkpoint" in proc.log()

        assert lc.set("deactivate") and lc.state() == "inactive"
        io.wait_for(lambda: io.rgb_pub.get_subscription_count() == 0, what="unsubscribed")
        assert "model kept loaded" in proc.log()
        assert lc.set("activate")  # the model stayed: no reload
        io.wait_subscribed()
        assert _pair_flows(io) and proc.log().count("]: configured: ") == 1

        assert lc.set("deactivate") and lc.set("cleanup") and lc.state() == "unconfigured"
        assert "model freed" in proc.log()
        assert lc.set("configure") and lc.state() == "inactive"  # loads again
        rc, _ = proc.interrupt()
        assert rc == 0 and "Traceback" not in proc.log(), proc.log()
    finally:
        if io is not None:
            io.close()
        proc.kill()


def test_configure_with_a_bad_checkpoint_fails_and_stays_unconfigured(tmp_path):
    ns = "/t_lc_bad"
    proc = _start(ns, tmp_path / "node.log", checkpoint=tmp_path / "missing.pt")
    io = None
    try:
        _wait_log(proc, "unconfigured:")
        io = RosIO(ns, f"{ns}/sccosf")
        lc = _Lifecycle(io, f"{ns}/sccosf")
        assert not lc.set("configure")
        assert lc.state() == "unconfigured"
        log = proc.log()
        assert "configure failed: parameter checkpoint:" in log and "does not exist" in log
        assert "Traceback" not in log
        assert proc.interrupt()[0] == 0
    finally:
        if io is not None:
            io.close()
        proc.kill()
