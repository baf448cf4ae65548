"""``sccosf_node``: synchronized RGB + thermal in, fused image and segmentation out (ROS 2).

Run: ``ros2 run sccosf_ros sccosf_node --ros-args --params-file config/sccosf.yaml`` (or
``python -m sccosf_ros.ros.node``, or ``ros2 launch sccosf_ros sccosf.launch.py``). Node name
``sccosf``; every parameter is defined in the table ``sccosf_ros/pipeline/param_table.py`` and
listed in ``config/sccosf.yaml`` (generated from it). The managed (lifecycle) variant with the
same parameters and topics is ``sccosf_lifecycle_node`` (``sccosf_ros.ros.lifecycle_node``);
both run :class:`SCCoSFCore`.

Topics (relative names, remap them):
  in   ``rgb/image_raw``, ``thermal/image_raw`` (sensor_msgs/Image, input QoS: best effort);
       with ``rgb_transport``/``thermal_transport`` = compressed, ``<base>/compressed``
       (sensor_msgs/CompressedImage: JPEG, PNG incl. 16-bit thermal; see ros/transport.py)
  out  ``~/fused`` rgb8, ``~/segmentation`` mono8 class ids (255 = unlabeled),
       ``~/segmentation_color`` rgb8, ``~/overlay`` rgb8 — each with the RGB message's header;
       ``~/label_info`` (std_msgs/String JSON in every environment, transient local, once; see
       label_info.py); ``/diagnostics``; with ``publish.compressed`` also
       ``~/overlay/compressed``, ``~/fused/compressed``, ``~/segmentation_color/compressed``
       (JPEG, ``publish.jpeg_quality``).
  web  with ``web.enable``: the live web view (page, MJPEG streams, ``/api/status``) on
       ``web.bind``:``web.port`` from this process; ``sccosf_ros.ros.web``.

This module is the rclpy adapter only (subscriptions, QoS, publishing, parameters,
``/diagnostics``); the work on a pair is ``sccosf_ros.pipeline.processor.PairProcessor``, the
same code ``sccosf bag-eval`` and the benchmarks run. Threads: the executor runs the
subscription callbacks, which only count the arrival, check the message's layout
(``PairProcessor.admit``: malformed messages never enter the pairing) and feed the
approximate-time synchronizer. A synced pair goes into a one-slot buffer (``ros.worker``);
the inference thread runs the pipeline on it (decode, register thermal onto RGB, ``Predictor``
under ``torch.inference_mode``, colour) and publishes. A pair that arrives while the model is
busy replaces the waiting one and is counted as dropped, so latency stays bounded.

Pairing: ``sccosf_ros.pipeline.pairing`` in every environment, also where message_filters is
installed: the same algorithm as message_filters' ApproximateTimeSynchronizer (entry for entry,
test/pipeline/test_pairing.py), plus what it lacks and the node needs: the backward-jump reset
(``sync.jump_reset``: a bag loop, a driver restart or sim time going back clears the stale
queues, counted and logged once per jump) and live ``sync.slop``/``sync.queue_size``.

Live parameters (``ros2 param set``; the table's ``live`` rows): the whole candidate
set is validated by the start-up rules (a bad value is refused with the reason) and used from
the next pair on; the rest are read-only ("restart to change").

Bad input (truncated data, unknown encoding, zero size, step < row, size/data mismatch, RGB and
thermal of different sizes without a homography, float thermal with fewer finite pixels than
``thermal.min_valid``) is logged (at most once per 5 s per kind) and counted in
``/diagnostics``; the node goes on with the next pair.

Start-up problems (invalid parameter, bad homography, unknown device, missing or corrupt
checkpoint) print one ``sccosf_node: error: ...`` line and exit with code 2. SIGINT/SIGTERM, any
number in any order: exit code 0 within 2 s (``sccosf_ros.ros.shutdown``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.logging import get_logger
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CompressedImage, Image

from sccosf_ros.errors import SccosfError
from sccosf_ros.pipeline.pairing import JumpReset, stamp_to_ns
from sccosf_ros.pipeline.params import NODE_NAME, PARAMETERS, NodeParams, ParameterError
from sccosf_ros.pipeline.processor import (
    PairProcessor,
    PredictorLike,
    StartupError,
    load_predictor,
)
from sccosf_ros.pipeline.stats import STREAMS, NodeStats
from sccosf_ros.ros import transport
from sccosf_ros.ros.diagnostics import diagnostic_array
from sccosf_ros.ros.label_info import label_info_dict, label_info_type, make_label_info_msg
from sccosf_ros.ros.params import changes_of, declare
from sccosf_ros.ros.qos import latched_qos, qos_profile
from sccosf_ros.ros.web.node_view import publish_pair, start_node_view
from sccosf_ros.ros.worker import InferenceWorker
from sccosf_ros.runtime import passive_openmp

RGB_TOPIC = "rgb/image_raw"
THERMAL_TOPIC = "thermal/image_raw"
INPUTS = (RGB_TOPIC, THERMAL_TOPIC)  # base topics; *_transport compressed adds /compressed
LOG_THROTTLE_S = 5.0
WORKER_JOIN_S = 1.0  # how long stopping waits for a running model call (shutdown: 2 s budget)
# deactivate/cleanup wait this long for the pair in the model: a new worker must never run
# beside the old one (one OpenVINO request, one predictor whose input size changes per pair)
TRANSITION_JOIN_S = 60.0


@dataclass
class SyncedPair:
    rgb: Image
    thermal: Image
    synced_at: float  # time.monotonic() when the pair was complete


class SCCoSFCore:
    """The node's work, mixed into an rclpy ``Node`` (plain) or ``LifecycleNode`` (managed).

    Stages: :meth:`_init_core` declares the parameters (construction); :meth:`_load` validates
    them and loads the model (plain: construction; lifecycle: configure); :meth:`_start` creates
    publishers, the worker, subscriptions and timers (activate); :meth:`_stop` removes them
    again, the model stays (deactivate); :meth:`_unload` frees the model (cleanup).
    """

    # ------------------------------------------------------------------ parameters
    def _init_core(self) -> None:
        self.params: NodeParams | None = None  # validated; None before _load / after _unload
        self._candidate: NodeParams | None = None
        self.predictor: Any = None
        self.processor: PairProcessor | None = None
        self.stats = NodeStats()
        self.pubs: dict[str, Any] = {}
        self.compressed_pubs: dict[str, Any] = {}  # publish.compressed: ~/<name>/compressed
        self.label_info_pub: Any = None
        self.diag_pub: Any = None
        self._worker: InferenceWorker[SyncedPair] | None = None
        self._lingering: InferenceWorker[SyncedPair] | None = None  # stopped, not yet ended
        self._sync: Any = None
        self._jump_handle: Any = None
        self._diag_timer: Any = None
        self._prev_snapshot = None
        self._log_times: dict[str, float] = {}
        self._log_lock = threading.Lock()
        self._pub_lock = threading.Lock()  # publishers change (live publish.*) while in use
        self._loaded_checkpoint: str | None = None
        self._web: Any = None  # web.enable: the live web view (ros.web), while running
        # After every attribute exists: a ParameterError here still lets destroy_node() run.
        declare(self)  # ParameterError for a wrong type or a value out of range
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.add_post_set_parameters_callback(self._after_set_parameters)

    def _current_values(self) -> dict[str, Any]:
        """The node's parameter values as declared or set since (dotted names)."""
        return changes_of([self.get_parameter(spec.name) for spec in PARAMETERS])

    def _validated(self) -> NodeParams:
        """The current values, validated (ParameterError says what to write instead)."""
        if self.params is None:
            self.params = NodeParams.from_dict(self._current_values())
        return self.params

    def _on_set_parameters(self, parameters: list[Any]) -> Any:
        """``ros2 param set``: accept only a candidate set that passes the start-up rules."""
        from rcl_interfaces.msg import SetParametersResult

        changes = changes_of(parameters)
        if not changes:
            return SetParametersResult(successful=True)
        try:
            if self.params is None:  # a lifecycle node before configure
                NodeParams.from_dict({**self._current_values(), **changes})
            else:
                self._candidate = self.params.updated(changes)
        except ParameterError as e:
            return SetParametersResult(successful=False, reason=str(e))
        return SetParametersResult(successful=True)

    def _after_set_parameters(self, parameters: list[Any]) -> None:
        changes = changes_of(parameters)
        if not changes or self.params is None:
            return
        new = self._candidate or self.params.updated(changes)
        self._candidate = None
        self._reconfigure(new, set(changes))
        text = ", ".join(f"{k}={v!r}" for k, v in changes.items())
        self.get_logger().info(f"parameters set: {text} (from the next pair on)")

    def _reconfigure(self, new: NodeParams, names: set[str]) -> None:
        """Use ``new`` (validated) in every part that is running."""
        self.params = new
        if self.processor is not None:
            self.processor.configure(new)
        if self._sync is not None and names & {"sync.slop", "sync.queue_size", "sync.jump_reset"}:
            self._sync.synchronizer.pairer.configure(
                new.sync_queue_size, new.sync_slop, new.sync_jump_reset
            )
        if "diagnostics.hold" in names:
            self.stats.faults.set_hold(new.diagnostics_hold)
        if self._diag_timer is not None and "diagnostics.period" in names:
            self._create_diagnostics_timer()
        if self.pubs or self.label_info_pub is not None:
            self._create_publishers()

    # ------------------------------------------------------------------ model
    def _load(self, predictor: PredictorLike | None = None) -> None:
        """Validate the parameters and load the model (ParameterError, StartupError)."""
        p = self._validated()
        self.predictor = (
            predictor if predictor is not None else load_predictor(p, info=self.get_logger().info)
        )
        self._loaded_checkpoint = None if predictor is not None else str(p.checkpoint_path())
        self.stats = NodeStats(window=p.diagnostics_window, hold=p.diagnostics_hold)
        self._prev_snapshot = None
        self.processor = PairProcessor(
            p, self.predictor, self.stats, warn=self._warn, info=self.get_logger().info
        )

    def _unload(self) -> None:
        """Free the model (and its GPU memory); parameters stay declared. A worker still
        inside the model is waited for first, so two models are never loaded at once."""
        if self._lingering is not None and self._lingering.stop(TRANSITION_JOIN_S):
            self._lingering = None
        device = str(getattr(self.predictor, "device", ""))
        self.processor = None
        self.predictor = None
        self.params = None  # validated again by the next _load
        if device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

    # ------------------------------------------------------------------ running
    def _start(self) -> None:
        """Publishers, worker, subscriptions, time-jump callback, diagnostics; then ``ready:``.

        StartupError when the previous worker is still inside the model (a lifecycle
        activate right after a deactivate whose pair has not finished)."""
        p = self.params
        lingering, self._lingering = self._lingering, None
        if lingering is not None and not lingering.stop(TRANSITION_JOIN_S):
            self._lingering = lingering
            raise StartupError("the previous pair is still running in the model; try again")
        if p.web_enable:  # first: a port in use is one line before anything else starts
            self._web = start_node_view(
                p,
                title=self.get_fully_qualified_name(),
                legend=label_info_dict(
                    self.predictor.class_names,
                    self.processor.palette,
                    getattr(self.predictor, "dataset", "unknown"),
                ),
                parameters=lambda: self.params.to_dict() if self.params else {},
                log=self.get_logger().info,
            )
        self._create_publishers()
        self._worker = InferenceWorker(self._process, on_error=self._on_worker_error).start()
        self._sync = self._create_subscriptions()
        self._create_jump_callback()
        self._create_diagnostics_timer()
        self.label_info_pub.publish(
            make_label_info_msg(
                self.predictor.class_names,
                self.processor.palette,
                getattr(self.predictor, "dataset", "unknown"),
            )
        )
        if p.inference_size is None and p.inference_max_pixels > 0:
            self.get_logger().info(
                f"inference.max_pixels = {p.inference_max_pixels}: inputs larger than that "
                "run downscaled (aspect kept) and the results are resized back; set it to 0 "
                "for the native size, or inference.height/width for a fixed one"
            )
        self.get_logger().info(self._ready_line())

    def _ready_line(self) -> str:
        p, pred = self.params, self.predictor
        size = (
            f"{p.inference_height}x{p.inference_width}"
            if p.inference_size
            else (
                "native"
                if p.inference_max_pixels <= 0
                else f"native <= {p.inference_max_pixels} px"
            )
        )
        ckpt = self._loaded_checkpoint or f"in-process {type(pred).__name__}"
        return (
            f"ready: checkpoint {ckpt} ({len(pred.class_names)} classes, "
            f"{getattr(pred, 'dataset', 'unknown')}), backend {getattr(pred, 'backend', 'torch')}"
            f" on {getattr(pred, 'device', '?')}, inference size {size}, sync slop "
            f"{p.sync_slop} s, input QoS {p.input_qos_reliability}/{p.input_qos_depth}, inputs "
            f"{', '.join(s.sub.topic_name for s in self._sync.subscribers)}, "
            f"outputs {', '.join(self.pubs) or 'none'}"
            + (f" (+ JPEG {', '.join(self.compressed_pubs)})" if self.compressed_pubs else "")
        )

    def _stop(self, timeout: float = TRANSITION_JOIN_S) -> None:
        """Stop processing: subscriptions, timers, worker (waiting ``timeout`` s for its pair),
        publishers; the model stays."""
        if self._sync is not None:
            self._sync.destroy()
            self._sync = None
        if self._jump_handle is not None:
            self._jump_handle.unregister()
            self._jump_handle = None
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
            self._diag_timer = None
        self.close(timeout)
        self._destroy_publishers()

    def _create_publishers(self) -> None:
        """The output publishers the parameters ask for (called again on live publish.*)."""
        p = self.params
        out_qos = qos_profile(p.output_qos_reliability, p.output_qos_depth)
        with self._pub_lock:
            for name in self.processor.outputs:
                if name not in self.pubs:
                    self.pubs[name] = self.create_publisher(Image, f"~/{name}", out_qos)
            for name in [n for n in self.pubs if n not in self.processor.outputs]:
                self.destroy_publisher(self.pubs.pop(name))
            jpeg = self.processor.jpeg_outputs
            for name in jpeg:
                if name not in self.compressed_pubs:
                    self.compressed_pubs[name] = transport.compressed_publisher(
                        self, name, out_qos
                    )
            for name in [n for n in self.compressed_pubs if n not in jpeg]:
                self.destroy_publisher(self.compressed_pubs.pop(name))
            if self.label_info_pub is None:
                self.label_info_pub = self.create_publisher(
                    label_info_type(), "~/label_info", latched_qos()
                )
            if self.diag_pub is None:
                self.diag_pub = self.create_publisher(
                    _diagnostic_array_type(), "/diagnostics", QoSProfile(depth=10)
                )

    def _destroy_publishers(self) -> None:
        with self._pub_lock:
            for pub in [
                *self.pubs.values(),
                *self.compressed_pubs.values(),
                self.label_info_pub,
                self.diag_pub,
            ]:
                if pub is not None:
                    self.destroy_publisher(pub)
            self.pubs, self.compressed_pubs = {}, {}
            self.label_info_pub = self.diag_pub = None

    def _create_subscriptions(self) -> Any:
        """Subscriptions on the two inputs + our approximate-time synchronizer (module doc)."""
        from sccosf_ros.ros.sync import make_synchronizer

        p, proc = self.params, self.processor
        transports = (p.rgb_transport, p.thermal_transport)
        return make_synchronizer(
            self,
            [transport.input_type(t) for t in transports],
            [transport.input_topic(self, b, t) for b, t in zip(INPUTS, transports)],
            qos_profile(p.input_qos_reliability, p.input_qos_depth),
            p.sync_queue_size,
            p.sync_slop,
            self._on_pair,
            admit=[lambda msg: proc.admit("rgb", msg), lambda msg: proc.admit("thermal", msg)],
            backend="sccosf",
            jump_reset=p.sync_jump_reset,
            on_reset=self._on_sync_reset,
        )

    def _create_jump_callback(self) -> None:
        """Sim time going back (a looping bag's /clock) resets the pairing too."""
        from rclpy.clock import JumpThreshold
        from rclpy.duration import Duration

        threshold = JumpThreshold(
            min_forward=None, min_backward=Duration(nanoseconds=-1_000_000), on_clock_change=True
        )
        self._jump_handle = self.get_clock().create_jump_callback(
            threshold, post_callback=self._on_time_jump
        )

    def _create_diagnostics_timer(self) -> None:
        from rclpy.clock import Clock, ClockType

        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
        self._diag_timer = self.create_timer(
            self.params.diagnostics_period,
            self._publish_diagnostics,
            clock=Clock(clock_type=ClockType.STEADY_TIME),
        )

    # ------------------------------------------------------------------ executor side
    def _on_pair(self, rgb: Image, thermal: Image) -> None:
        """Sync callback: hand the pair to the worker; never blocks, never decodes."""
        self.stats.paired()
        worker = self._worker
        if worker is not None and worker.submit(SyncedPair(rgb, thermal, time.monotonic())):
            self.stats.count("dropped_busy")

    def _on_sync_reset(self, reset: JumpReset) -> None:
        self.get_logger().warning(f"sync: {reset.describe(STREAMS)}")

    def _on_time_jump(self, jump: Any) -> None:
        sync = self._sync
        if sync is not None:
            sync.synchronizer.pairer.clock_jumped(self.get_clock().now().nanoseconds)

    def _publish_diagnostics(self) -> None:
        if self._sync is not None:
            self.stats.record_pairer(self._sync.synchronizer.pairer)
        snap = self.stats.snapshot(stall_timeout=self.params.diagnostics_stall_timeout)
        msg = diagnostic_array(
            snap,
            self._prev_snapshot,
            node_name=self.get_fully_qualified_name(),
            hardware_id=str(getattr(self.predictor, "device", "")),
            stall_timeout=self.params.diagnostics_stall_timeout,
            stamp=self.get_clock().now().to_msg(),
            slop=self.params.sync_slop,
        )
        self._prev_snapshot = snap
        with self._pub_lock:
            if self.diag_pub is not None:
                self.diag_pub.publish(msg)
        if self._web is not None:
            self._web.board.set_diagnostics(msg)

    # ------------------------------------------------------------------ worker side
    def _process(self, pair: SyncedPair) -> None:
        """The pipeline on one pair, then publish, on the worker thread."""
        processor = self.processor
        if processor is None:
            return
        t0 = time.perf_counter()
        out = processor.process(pair.rgb, pair.thermal)
        if out is None:
            return
        msgs = processor.encode(out, pair.rgb.header, Image)
        jpegs = processor.encode_compressed(out, pair.rgb.header, CompressedImage)
        with self._pub_lock:
            for pubs, batch in ((self.pubs, msgs), (self.compressed_pubs, jpegs)):
                for name, msg in batch.items():
                    pub = pubs.get(name)
                    if pub is not None:  # switched off (publish.*) since the pair started
                        pub.publish(msg)
        web = self._web
        if web is not None:  # hands over references; encoding happens only for watchers
            publish_pair(web, out, stamp_to_ns(pair.rgb.header.stamp))
        total_ms = (time.perf_counter() - t0) * 1e3

        stats = self.stats
        stats.count("processed")
        stats.latency("overhead", total_ms - out.timings_ms["inference"])
        stats.latency("e2e_age", (time.monotonic() - pair.synced_at) * 1e3)
        now_ns = self.get_clock().now().nanoseconds
        stats.latency("stamp_age", (now_ns - stamp_to_ns(pair.rgb.header.stamp)) / 1e6)

    def _on_worker_error(self, pair: SyncedPair, error: BaseException) -> None:
        if not self.context.ok() or self._worker is None:  # shutting down: publishers go
            return
        self.stats.count("inference_errors")
        self._warn(
            "inference_error",
            f"pair at {pair.rgb.header.stamp.sec}.{pair.rgb.header.stamp.nanosec:09d} "
            f"failed: {type(error).__name__}: {error}",
        )

    def _warn(self, kind: str, message: str) -> None:
        """Log at most once per LOG_THROTTLE_S per kind (a broken driver floods otherwise)."""
        now = time.monotonic()
        with self._log_lock:
            last = self._log_times.get(kind)
            if last is not None and now - last < LOG_THROTTLE_S:
                return
            self._log_times[kind] = now
        self.get_logger().warning(message)

    # ------------------------------------------------------------------ shutdown
    def close(self, timeout: float = WORKER_JOIN_S) -> bool:
        """Stop the web view and the inference thread (after its current pair); True when the
        thread has ended. One that has not ended yet is remembered, so no new worker starts
        beside it."""
        web, self._web = self._web, None
        if web is not None:
            web.stop()
        worker, self._worker = self._worker, None
        if worker is None:
            return True
        if worker.stop(timeout):
            return True
        self._lingering = worker
        return False


class SCCoSFNode(SCCoSFCore, Node):
    """The SC-CoSF ROS 2 node. ``predictor`` (optional) replaces loading the checkpoint."""

    def __init__(self, *, predictor: PredictorLike | None = None, **node_kwargs: Any) -> None:
        Node.__init__(self, NODE_NAME, **node_kwargs)
        try:
            self._init_core()
            self._load(predictor)
            self._start()
        except BaseException:
            self.destroy_node()
            raise

    def destroy_node(self) -> None:
        self.close()
        super().destroy_node()


def _diagnostic_array_type() -> type:
    from diagnostic_msgs.msg import DiagnosticArray

    return DiagnosticArray


# --------------------------------------------------------------------------- entry point
def run(
    args: list[str] | None = None,
    predictor: PredictorLike | None = None,
    *,
    make_node: Any = None,
    prog: str = "sccosf_node",
) -> int:
    """Start the node, spin until SIGINT/SIGTERM, shut everything down; the exit code.

    ``predictor`` replaces loading the checkpoint (``sccosf bench node`` runs a trivial model).
    ``make_node(predictor)`` builds another node class on the same terms (the lifecycle node).
    """
    from rclpy.signals import SignalHandlerOptions

    from sccosf_ros.ros.dds import apply_large_image_profile
    from sccosf_ros.ros.shutdown import POLL_S, ShutdownSignals

    passive_openmp()  # before torch loads (in load_predictor)
    dds_note = apply_large_image_profile()  # before the DDS participant exists
    signals = ShutdownSignals().install()
    argv = list(sys.argv if args is None else args)
    try:
        rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
    except Exception as e:  # malformed --ros-args, unreadable --params-file
        why = " ".join(str(e).split())  # rcl's messages span lines; one line for the user
        print(f"{prog}: error: could not initialise ROS: {why}", file=sys.stderr)
        return 2
    get_logger(NODE_NAME).info(dds_note)
    try:
        node = (make_node or (lambda pred: SCCoSFNode(predictor=pred)))(predictor)
    except SccosfError as e:  # ParameterError, StartupError: one line, exit code 2
        print(f"{prog}: error: {e.message}", file=sys.stderr)
        rclpy.try_shutdown()
        return e.exit_code
    except (KeyboardInterrupt, ExternalShutdownException):
        rclpy.try_shutdown()
        return 0
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    signals.immediate = False  # from now on: stop the node cleanly (watchdog-bounded)
    try:
        while not signals.requested and rclpy.ok():
            executor.spin_once(timeout_sec=POLL_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.remove_node(node)
        node.destroy_node()  # joins the inference thread (bounded)
        executor.shutdown(timeout_sec=0.5)
        rclpy.try_shutdown()
    return 0


def main(args: list[str] | None = None) -> int:
    """``sccosf_node`` / ``python -m sccosf_ros.ros.node``: exits the process with run()'s code.

    Everything is shut down explicitly in run(); the interpreter's own teardown of torch and
    timm modules is skipped because it takes seconds on a loaded CPU and a node is expected to
    go away promptly on SIGINT.
    """
    code = run(args)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
