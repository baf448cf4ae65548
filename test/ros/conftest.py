"""Fixtures of the ROS node tests; the helpers live in node_harness.py next to this file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test folders on sys.path; the node tests import
# node_harness by name.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from node_harness import RosIO  # noqa: E402


@pytest.fixture
def ros_io_factory():
    """Make RosIO instances; all are closed after the test."""
    made: list[RosIO] = []

    def make(ns: str, node_fqn: str | None = None) -> RosIO:
        io = RosIO(ns, node_fqn)
        made.append(io)
        return io

    yield make
    for io in made:
        io.close()


@pytest.fixture
def start_node(ros_context):
    """Start SCCoSFNode in this process under ``ns`` with ``predictor`` and parameters
    (its own executor in a thread, real DDS); all are destroyed after the test."""
    import threading

    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter

    from sccosf_ros.ros.node import SCCoSFNode

    started = []

    def start(ns: str, predictor, **params):
        overrides = [Parameter(k, value=v) for k, v in params.items()]
        node = SCCoSFNode(
            predictor=predictor, context=ros_context, namespace=ns, parameter_overrides=overrides
        )
        ex = SingleThreadedExecutor(context=ros_context)  # as sccosf_node runs itself
        ex.add_node(node)
        t = threading.Thread(target=ex.spin, daemon=True)
        t.start()
        started.append((node, ex, t))
        return node

    yield start
    for node, ex, t in started:
        ex.shutdown(timeout_sec=2.0)
        node.destroy_node()
        t.join(5)
