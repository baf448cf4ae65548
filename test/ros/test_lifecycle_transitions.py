"""The lifecycle node's shutdown transition and on_error, in process (real rclpy, a private
context): shutdown from active or unconfigured finalizes and frees everything; an exception
inside a transition runs on_error, which stops what had started and leaves the node
unconfigured, ready to be configured again."""

from __future__ import annotations

import threading

import pytest
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter

pytestmark = pytest.mark.ros

PARAMS = {"inference.height": 32, "inference.width": 32, "num_threads": 1, "backend": "torch"}


@pytest.fixture
def make_node(ros_context):
    from sccosf_ros.bench.node import trivial_predictor
    from sccosf_ros.ros.lifecycle_node import SCCoSFLifecycleNode

    made = []

    def make(ns: str) -> SCCoSFLifecycleNode:
        node = SCCoSFLifecycleNode(
            predictor=trivial_predictor(),
            context=ros_context,
            namespace=ns,
            parameter_overrides=[Parameter(k, value=v) for k, v in PARAMS.items()],
        )
        made.append(node)
        return node

    yield make
    for node in made:
        node.destroy_node()


def _state(node) -> str:
    return node._state_machine.current_state[1]


def _inputs(node) -> list[str]:
    """The node's input image subscriptions (topic names)."""
    return [s.topic_name for s in node.subscriptions if "image_raw" in s.topic_name]


def _workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


def test_shutdown_from_active_finalizes_and_frees_the_model(make_node):
    before = _workers()
    node = make_node("/t_lc_shutdown")
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert _state(node) == "active" and node.predictor is not None
    assert _workers() - before  # activate started the inference worker
    assert len(_inputs(node)) == 2  # RGB and thermal subscribed
    assert node.trigger_shutdown() == TransitionCallbackReturn.SUCCESS
    assert _state(node) == "finalized"
    assert node.predictor is None and node.processor is None  # the model is freed
    assert not (_workers() - before)  # the worker has ended
    assert not _inputs(node)  # no input subscriptions left


def test_shutdown_from_unconfigured_finalizes(make_node):
    node = make_node("/t_lc_shutdown_unconf")
    assert _state(node) == "unconfigured"
    assert node.trigger_shutdown() == TransitionCallbackReturn.SUCCESS
    assert _state(node) == "finalized" and node.predictor is None


def test_an_exception_in_activate_runs_on_error_and_the_node_recovers(make_node, monkeypatch):
    before = _workers()
    node = make_node("/t_lc_error")
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    real_start = node._start

    def start_then_fail() -> None:
        real_start()  # worker and subscriptions are up when the failure comes
        raise RuntimeError("injected failure after starting")

    monkeypatch.setattr(node, "_start", start_then_fail)
    assert node.trigger_activate() == TransitionCallbackReturn.ERROR
    # on_error ran: it stopped what _start had started and unloaded the model
    assert _state(node) == "unconfigured"
    assert node.predictor is None and node.processor is None
    assert not (_workers() - before) and not _inputs(node)
    # and the node can be brought up again
    monkeypatch.setattr(node, "_start", real_start)
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert _state(node) == "active" and len(_inputs(node)) == 2
    assert node.trigger_shutdown() == TransitionCallbackReturn.SUCCESS
