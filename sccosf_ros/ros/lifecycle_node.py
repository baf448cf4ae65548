"""``sccosf_lifecycle_node``: the SC-CoSF node as a managed (lifecycle) node.

Same parameters, topics and pipeline as ``sccosf_node`` (both run
``sccosf_ros.ros.node.SCCoSFCore``); node name ``sccosf``. It starts *unconfigured* with its
parameters declared (``ros2 param get/set`` work), then:

  configure   validate the parameters and load the model (a bad checkpoint or value: the
              transition fails with the reason logged, the node stays unconfigured)
  activate    create publishers, subscriptions, the worker and /diagnostics: pairs flow
  deactivate  stop processing and remove them; the model stays loaded (activate is instant)
  cleanup     free the model (and its GPU memory)
  shutdown    from any state

``ros2 lifecycle set /sccosf configure`` then ``activate``; fleets' lifecycle managers (Nav2's)
drive the same services. ``--autostart`` (before ``--ros-args``; the launch file's
``autostart:=true``) configures and activates at start. Exit codes and signals as
``sccosf_node``: 2 with one ``sccosf_lifecycle_node: error: ...`` line for a parameter of the
wrong type, 0 on SIGINT/SIGTERM.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from sccosf_ros.errors import SccosfError
from sccosf_ros.pipeline.params import NODE_NAME
from sccosf_ros.pipeline.processor import PredictorLike, StartupError
from sccosf_ros.ros.node import WORKER_JOIN_S, SCCoSFCore, run

PROG = "sccosf_lifecycle_node"


class SCCoSFLifecycleNode(SCCoSFCore, LifecycleNode):
    """The managed SC-CoSF node. ``predictor`` (optional) replaces loading the checkpoint."""

    def __init__(self, *, predictor: PredictorLike | None = None, **node_kwargs: Any) -> None:
        LifecycleNode.__init__(self, NODE_NAME, **node_kwargs)
        self._given_predictor = predictor
        try:
            self._init_core()
        except BaseException:
            self.destroy_node()
            raise
        self.get_logger().info("unconfigured: ros2 lifecycle set /sccosf configure, activate")

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._load(self._given_predictor)
        except SccosfError as e:  # ParameterError, StartupError
            self.get_logger().error(f"configure failed: {e.message}")
            self._unload()
            return TransitionCallbackReturn.FAILURE
        self.get_logger().info(
            f"configured: {len(self.predictor.class_names)} classes on "
            f"{getattr(self.predictor, 'device', '?')}; activate to start processing"
        )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._start()
        except StartupError as e:
            self.get_logger().error(f"activate failed: {e}")
            return TransitionCallbackReturn.FAILURE
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop()
        self.get_logger().info("inactive: processing stopped, model kept loaded")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._unload()
        self.get_logger().info("unconfigured: model freed")
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop(WORKER_JOIN_S)  # shutting down: within the 2 s budget
        self._unload()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop(WORKER_JOIN_S)
        self._unload()
        return TransitionCallbackReturn.SUCCESS

    def autostart(self) -> bool:
        """configure + activate now; False (logged) when configure fails."""
        if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
            return False
        return self.trigger_activate() == TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        self.close()
        super().destroy_node()


def _split_args(argv: list[str]) -> tuple[bool, list[str]]:
    """``--autostart`` (before ``--ros-args``) out of argv; (autostart, the rest)."""
    if "--ros-args" in argv:
        cut = argv.index("--ros-args")
        head, tail = argv[:cut], argv[cut:]
    else:
        head, tail = argv, []
    autostart = "--autostart" in head[1:]
    return autostart, [a for a in head if a != "--autostart"] + tail


def run_lifecycle(args: list[str] | None = None, predictor: PredictorLike | None = None) -> int:
    autostart, argv = _split_args(list(sys.argv if args is None else args))

    def make(pred: PredictorLike | None) -> SCCoSFLifecycleNode:
        node = SCCoSFLifecycleNode(predictor=pred)
        if autostart and not node.autostart():
            node.get_logger().error("--autostart: configure failed, staying unconfigured")
        return node

    return run(argv, predictor, make_node=make, prog=PROG)


def main(args: list[str] | None = None) -> int:
    """``sccosf_lifecycle_node`` / ``python -m sccosf_ros.ros.lifecycle_node``."""
    code = run_lifecycle(args)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
