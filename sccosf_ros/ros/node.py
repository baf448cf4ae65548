"""``sccosf_node``: synchronized RGB + thermal in, fused image and segmentation out (ROS 2).

Run: ``ros2 run sccosf_ros sccosf_node --ros-args --params-file config/sccosf.yaml`` (or
``python -m sccosf_ros.ros.node``, or ``ros2 launch sccosf_ros sccosf.launch.py``). Node name
``sccosf``; every parameter is documented in ``sccosf_ros/pipeline/params.py`` and listed in
``config/sccosf.yaml``.

Topics (relative names, remap them):
  in   ``rgb/image_raw``, ``thermal/image_raw`` (sensor_msgs/Image, input QoS: best effort)
  out  ``~/fused`` rgb8, ``~/segmentation`` mono8 class ids (255 = unlabeled),
       ``~/segmentation_color`` rgb8, ``~/overlay`` rgb8 — each with the RGB message's header;
       ``~/label_info`` (transient local, once; see label_info.py); ``/diagnostics``.

This module is the rclpy adapter only (subscriptions, QoS, publishing, ``/diagnostics``); the
work on a pair is ``sccosf_ros.pipeline.processor.PairProcessor``, the same code ``sccosf
bag-eval`` and the benchmarks run. Threads: the executor runs the subscription callbacks, which
only count the arrival, check the message's layout (``PairProcessor.admit``: malformed messages
never enter the pairing) and feed the approximate-time synchronizer (message_filters when
installed, else ``pipeline.pairing``). A synced pair goes into a one-slot buffer
(``pipeline.worker``); the inference thread runs the pipeline on it (decode, register thermal onto
RGB, ``Predictor`` under ``torch.inference_mode``, colour) and publishes. A pair that arrives
while the model is busy replaces the waiting one and is counted as dropped, so latency stays
bounded.

Bad input (truncated data, unknown encoding, zero size, step < row, size/data mismatch, RGB and
thermal of different sizes without a homography) is logged (at most once per 5 s per kind) and
counted in ``/diagnostics``; the node goes on with the next pair. NaN/Inf in 32FC1 thermal:
``thermal.nan_policy`` = ``zero`` (default: pixels ignored by the normalisation and drawn coldest,
counted as ``thermal_nan_frames``) or ``reject`` (pair counted as malformed).

Start-up problems (invalid parameter, bad homography, unknown device, missing or corrupt
checkpoint) print one ``sccosf_node: error: ...`` line and exit with code 2. SIGINT/SIGTERM stop
the worker, destroy the node and shut rclpy down; exit code 0.
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
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import Image

from sccosf_ros.pipeline.pairing import stamp_to_ns
from sccosf_ros.pipeline.params import NODE_NAME, ParameterError
from sccosf_ros.pipeline.processor import (
    PairProcessor,
    PredictorLike,
    StartupError,
    load_predictor,
)
from sccosf_ros.pipeline.stats import NodeStats
from sccosf_ros.pipeline.worker import InferenceWorker
from sccosf_ros.ros.diagnostics import diagnostic_array
from sccosf_ros.ros.label_info import label_info_type, make_label_info_msg
from sccosf_ros.ros.params import declare_and_read
from sccosf_ros.ros.qos import latched_qos, qos_profile
from sccosf_ros.runtime import passive_openmp

RGB_TOPIC = "rgb/image_raw"
THERMAL_TOPIC = "thermal/image_raw"
LOG_THROTTLE_S = 5.0


@dataclass
class SyncedPair:
    rgb: Image
    thermal: Image
    synced_at: float  # time.monotonic() when the pair was complete


class SCCoSFNode(Node):
    """The SC-CoSF ROS 2 node. ``predictor`` (optional) replaces loading the checkpoint."""

    def __init__(self, *, predictor: PredictorLike | None = None, **node_kwargs: Any) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        self._worker: InferenceWorker[SyncedPair] | None = None
        try:
            self._setup(predictor)
        except BaseException:
            self.close()
            self.destroy_node()
            raise

    # ------------------------------------------------------------------ set-up
    def _setup(self, predictor: PredictorLike | None) -> None:
        p = self.params = declare_and_read(self)
        self.predictor = predictor if predictor is not None else load_predictor(p)
        self.stats = NodeStats(window=p.diagnostics_window)
        self._log_times: dict[str, float] = {}
        self._log_lock = threading.Lock()
        self.processor = PairProcessor(p, self.predictor, self.stats, warn=self._warn)

        out_qos = qos_profile(p.output_qos_reliability, p.output_qos_depth)
        self.pubs = {
            name: self.create_publisher(Image, f"~/{name}", out_qos)
            for name in self.processor.outputs
        }
        self.label_info_pub = self.create_publisher(
            label_info_type(), "~/label_info", latched_qos()
        )
        self.diag_pub = self.create_publisher(
            _diagnostic_array_type(), "/diagnostics", QoSProfile(depth=10)
        )

        self._worker = InferenceWorker(self._process, on_error=self._on_worker_error).start()
        self._sync = self._create_sync(qos_profile(p.input_qos_reliability, p.input_qos_depth))

        self._prev_snapshot = None
        from rclpy.clock import Clock, ClockType

        self._diag_timer = self.create_timer(
            p.diagnostics_period,
            self._publish_diagnostics,
            clock=Clock(clock_type=ClockType.STEADY_TIME),
        )
        self.label_info_pub.publish(
            make_label_info_msg(
                self.predictor.class_names,
                self.processor.palette,
                getattr(self.predictor, "dataset", "unknown"),
                None,
            )
        )
        device = getattr(self.predictor, "device", "?")
        backend = getattr(self.predictor, "backend", "torch")
        self.get_logger().info(
            f"ready: {len(self.predictor.class_names)} classes, backend {backend} on {device}, "
            f"inference size {p.inference_size or 'native'}, sync slop {p.sync_slop} s, "
            f"input QoS {p.input_qos_reliability}/{p.input_qos_depth}, "
            f"outputs {', '.join(self.pubs) or 'none'}"
        )

    def _create_sync(self, in_qos: QoSProfile) -> Any:
        """Subscriptions + approximate-time sync (message_filters when importable)."""
        from sccosf_ros.ros.sync import make_synchronizer

        p, proc = self.params, self.processor
        handle = make_synchronizer(
            self,
            Image,
            (RGB_TOPIC, THERMAL_TOPIC),
            in_qos,
            p.sync_queue_size,
            p.sync_slop,
            self._on_pair,
            admit=[lambda msg: proc.admit("rgb", msg), lambda msg: proc.admit("thermal", msg)],
        )
        self.get_logger().debug(f"approximate-time sync backend: {handle.backend}")
        return handle

    # ------------------------------------------------------------------ executor side
    def _on_pair(self, rgb: Image, thermal: Image) -> None:
        """Sync callback: hand the pair to the worker; never blocks, never decodes."""
        self.stats.count("synced_pairs")
        if self._worker is not None and self._worker.submit(
            SyncedPair(rgb, thermal, time.monotonic())
        ):
            self.stats.count("dropped_busy")

    def _publish_diagnostics(self) -> None:
        snap = self.stats.snapshot()
        msg = diagnostic_array(
            snap,
            self._prev_snapshot,
            node_name=self.get_fully_qualified_name(),
            hardware_id=str(getattr(self.predictor, "device", "")),
            stall_timeout=self.params.diagnostics_stall_timeout,
            stamp=self.get_clock().now().to_msg(),
        )
        self._prev_snapshot = snap
        self.diag_pub.publish(msg)

    # ------------------------------------------------------------------ worker side
    def _process(self, pair: SyncedPair) -> None:
        """The pipeline on one pair, then publish, on the worker thread."""
        t0 = time.perf_counter()
        out = self.processor.process(pair.rgb, pair.thermal)
        if out is None:
            return
        for name, msg in self.processor.encode(out, pair.rgb.header).items():
            self.pubs[name].publish(msg)
        total_ms = (time.perf_counter() - t0) * 1e3

        stats = self.stats
        stats.count("processed")
        stats.latency("overhead", total_ms - out.timings_ms["inference"])
        stats.latency("e2e_age", (time.monotonic() - pair.synced_at) * 1e3)
        now_ns = self.get_clock().now().nanoseconds
        stats.latency("stamp_age", (now_ns - stamp_to_ns(pair.rgb.header.stamp)) / 1e6)

    def _on_worker_error(self, pair: SyncedPair, error: BaseException) -> None:
        if not self.context.ok():  # shutting down: publishers are gone
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
    def close(self, timeout: float = 10.0) -> bool:
        """Stop the inference thread (after its current pair); True when it has ended."""
        worker, self._worker = self._worker, None
        if worker is None:
            return True
        return worker.stop(timeout)

    def destroy_node(self) -> None:
        self.close()
        super().destroy_node()


def _diagnostic_array_type():
    from diagnostic_msgs.msg import DiagnosticArray

    return DiagnosticArray


# --------------------------------------------------------------------------- entry point
def run(args: list[str] | None = None, predictor: PredictorLike | None = None) -> int:
    """Start the node, spin until SIGINT/SIGTERM, shut everything down; the exit code.

    ``predictor`` replaces loading the checkpoint (``sccosf bench node`` runs a trivial model).
    """
    passive_openmp()  # before torch loads (in load_predictor)
    argv = list(sys.argv if args is None else args)
    try:
        rclpy.init(args=argv)
    except Exception as e:  # malformed --ros-args, unreadable --params-file
        print(f"sccosf_node: error: could not initialise ROS: {e}", file=sys.stderr)
        return 2
    try:
        node = SCCoSFNode(predictor=predictor)
    except (ParameterError, StartupError) as e:
        print(f"sccosf_node: error: {e}", file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        rclpy.try_shutdown()
        return 0
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.remove_node(node)
        node.destroy_node()  # joins the inference thread
        executor.shutdown(timeout_sec=1.0)
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
