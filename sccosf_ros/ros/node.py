"""``sccosf_node``: synchronized RGB + thermal in, fused image and segmentation out (ROS 2).

Run: ``ros2 run sccosf_ros sccosf_node --ros-args --params-file config/sccosf.yaml`` (or
``python -m sccosf_ros.ros.node``, or ``ros2 launch sccosf_ros sccosf.launch.py``). Node name
``sccosf``; every parameter is documented in ``sccosf_ros/ros/params.py`` and listed in
``config/sccosf.yaml``.

Topics (relative names, remap them):
  in   ``rgb/image_raw``, ``thermal/image_raw`` (sensor_msgs/Image, input QoS: best effort)
  out  ``~/fused`` rgb8, ``~/segmentation`` mono8 class ids (255 = unlabeled),
       ``~/segmentation_color`` rgb8, ``~/overlay`` rgb8 — each with the RGB message's header;
       ``~/label_info`` (transient local, once; see label_info.py); ``/diagnostics``.

Threads: the executor runs the subscription callbacks, which only note the arrival and feed the
approximate-time synchronizer (message_filters when installed, else ``sync.py``). A synced pair
goes into a one-slot buffer (``worker.py``); the inference thread decodes it (``image_codec``),
registers thermal onto RGB (``registration``, when a homography is set), runs the ``Predictor``
(``torch.inference_mode``) and publishes. A pair that arrives while the model is busy replaces
the waiting one and is counted as dropped, so latency stays bounded.

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
from typing import Any, Protocol

import numpy as np
import rclpy
from rclpy.clock import Clock, ClockType
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from sccosf_ros.classes import colorize, overlay
from sccosf_ros.registration import parse_homography
from sccosf_ros.ros.diagnostics import NodeStats, diagnostic_array
from sccosf_ros.ros.label_info import label_info_type, make_label_info_msg
from sccosf_ros.ros.params import NodeParams, ParameterError, declare_and_read
from sccosf_ros.ros.sync import stamp_to_ns
from sccosf_ros.ros.worker import InferenceWorker
from sccosf_ros.runtime import passive_openmp

NODE_NAME = "sccosf"
RGB_TOPIC = "rgb/image_raw"
THERMAL_TOPIC = "thermal/image_raw"
OUTPUTS = ("fused", "segmentation", "segmentation_color", "overlay")
LOG_THROTTLE_S = 5.0


class PredictorLike(Protocol):
    """What the node needs from ``sccosf_ros.inference.Predictor`` (tests/bench pass wrappers)."""

    class_names: list[str]
    palette: list[tuple[int, int, int]]

    def predict(self, rgb: np.ndarray, thermal: np.ndarray) -> Any: ...


class StartupError(RuntimeError):
    """The node cannot start; the message says what to fix."""


@dataclass
class SyncedPair:
    rgb: Image
    thermal: Image
    synced_at: float  # time.monotonic() when the pair was complete


def qos_profile(reliability: str, depth: int) -> QoSProfile:
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=(ReliabilityPolicy.BEST_EFFORT if reliability == "best_effort"
                     else ReliabilityPolicy.RELIABLE),
        durability=DurabilityPolicy.VOLATILE,
    )


def load_predictor(params: NodeParams):
    """The Predictor the parameters describe; StartupError for device/checkpoint problems."""
    import torch

    from sccosf_ros.inference import CheckpointError, Predictor, resolve_device

    if params.num_threads > 0:
        torch.set_num_threads(params.num_threads)
    try:
        device = resolve_device(params.device)
    except ValueError as e:
        raise StartupError(f"parameter device: {e}") from None
    kwargs: dict[str, Any] = {"input_size": params.inference_size}
    norm = params.thermal_norm()
    if norm is not None:
        kwargs["thermal_norm"] = norm
    path = params.checkpoint_path()
    try:
        return Predictor.from_checkpoint(path, device, **kwargs)
    except CheckpointError as e:
        raise StartupError(f"parameter checkpoint: {e}") from None


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
        self.homography = parse_homography(p.homography)  # validated in params
        self.predictor = predictor if predictor is not None else load_predictor(p)
        self.palette = [tuple(int(v) for v in c) for c in self.predictor.palette]
        self.stats = NodeStats(window=p.diagnostics_window)
        self._log_times: dict[str, float] = {}
        self._log_lock = threading.Lock()
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)

        out_qos = qos_profile(p.output_qos_reliability, p.output_qos_depth)
        self.pubs = {
            name: self.create_publisher(Image, f"~/{name}", out_qos)
            for name in OUTPUTS if getattr(p, f"publish_{name}")
        }
        latched = QoSProfile(
            history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
        self.label_info_pub = self.create_publisher(label_info_type(), "~/label_info", latched)
        self.diag_pub = self.create_publisher(
            _diagnostic_array_type(), "/diagnostics", QoSProfile(depth=10)
        )

        self._worker = InferenceWorker(self._process, on_error=self._on_worker_error).start()
        in_qos = qos_profile(p.input_qos_reliability, p.input_qos_depth)
        self._sync = self._create_sync(in_qos)

        self._prev_snapshot = None
        self._diag_timer = self.create_timer(
            p.diagnostics_period, self._publish_diagnostics, clock=self._steady
        )
        header = None
        self.label_info_pub.publish(
            make_label_info_msg(self.predictor.class_names, self.palette,
                                getattr(self.predictor, "dataset", "unknown"), header)
        )
        device = getattr(self.predictor, "device", "?")
        self.get_logger().info(
            f"ready: {len(self.predictor.class_names)} classes on {device}, "
            f"inference size {p.inference_size or 'native'}, sync slop {p.sync_slop} s, "
            f"input QoS {p.input_qos_reliability}/{p.input_qos_depth}, "
            f"outputs {', '.join(self.pubs) or 'none'}"
        )

    def _create_sync(self, in_qos: QoSProfile):
        """Subscriptions + approximate-time sync (message_filters when importable)."""
        from sccosf_ros.ros.sync import make_synchronizer

        p = self.params
        handle = make_synchronizer(
            self, Image, (RGB_TOPIC, THERMAL_TOPIC), in_qos, p.sync_queue_size, p.sync_slop,
            self._on_pair,
        )
        # A second callback per input records arrivals for the stall check and input rates.
        for sub, stream in zip(handle.subscribers, ("rgb", "thermal")):
            sub.registerCallback(lambda _msg, s=stream: self.stats.arrived(s))
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
        """Decode → (register) → predict → colour → encode → publish, on the worker thread."""
        from sccosf_ros.ros.image_codec import ImageDecodeError, decode_rgb, decode_thermal

        t0 = time.perf_counter()
        try:
            rgb = decode_rgb(pair.rgb)
        except ImageDecodeError as e:
            self._bad("malformed_rgb", f"RGB image rejected: {e}")
            return
        try:
            thermal = decode_thermal(pair.thermal)
        except ImageDecodeError as e:
            self._bad("malformed_thermal", f"thermal image rejected: {e}")
            return
        if thermal.dtype.kind == "f":
            finite = np.isfinite(thermal)
            if not finite.all():
                n_bad = int(finite.size - np.count_nonzero(finite))
                if self.params.thermal_nan_policy == "reject":
                    self._bad("thermal_nan_rejected",
                              f"thermal image has {n_bad} NaN/Inf pixels "
                              "(thermal.nan_policy = reject)")
                    return
                self.stats.count("thermal_nan_frames")
                self._warn("thermal_nan", f"thermal image has {n_bad} NaN/Inf pixels: drawn as "
                           "the coldest value (thermal.nan_policy = zero)")
        if self.homography is not None:
            from sccosf_ros.registration import warp_thermal

            thermal = warp_thermal(thermal, self.homography, rgb.shape[:2])
        elif thermal.shape[:2] != rgb.shape[:2]:
            self._bad("size_mismatch",
                      f"RGB {rgb.shape[1]}x{rgb.shape[0]} and thermal "
                      f"{thermal.shape[1]}x{thermal.shape[0]} differ in size: set "
                      "registration.homography to map thermal onto RGB")
            return
        t1 = time.perf_counter()
        pred = self.predictor.predict(rgb, thermal)
        t2 = time.perf_counter()
        self._publish_outputs(pair.rgb.header, rgb, pred)
        t3 = time.perf_counter()

        self.stats.count("processed")
        self.stats.latency("inference", (t2 - t1) * 1e3)
        model_ms = getattr(pred, "timings_ms", {}).get("model")
        if model_ms is not None:
            self.stats.latency("model", model_ms)
        self.stats.latency("overhead", ((t1 - t0) + (t3 - t2)) * 1e3)
        self.stats.latency("e2e_age", (time.monotonic() - pair.synced_at) * 1e3)
        now_ns = self.get_clock().now().nanoseconds
        stamp_ns = stamp_to_ns(pair.rgb.header.stamp)
        self.stats.latency("stamp_age", (now_ns - stamp_ns) / 1e6)

    def _publish_outputs(self, header, rgb: np.ndarray, pred) -> None:
        from sccosf_ros.ros.image_codec import encode_image

        pubs = self.pubs
        if "fused" in pubs:
            pubs["fused"].publish(encode_image(pred.fused, "rgb8", header=header))
        if "segmentation" in pubs:
            pubs["segmentation"].publish(encode_image(pred.labels, "mono8", header=header))
        if "segmentation_color" in pubs or "overlay" in pubs:
            color = colorize(pred.labels, self.palette)
            if "segmentation_color" in pubs:
                pubs["segmentation_color"].publish(encode_image(color, "rgb8", header=header))
            if "overlay" in pubs:
                over = overlay(rgb, pred.labels, self.palette, self.params.overlay_alpha,
                               color=color)
                pubs["overlay"].publish(encode_image(over, "rgb8", header=header))

    def _on_worker_error(self, pair: SyncedPair, error: BaseException) -> None:
        if not self.context.ok():  # shutting down: publishers are gone
            return
        self.stats.count("inference_errors")
        self._warn("inference_error",
                   f"pair at {pair.rgb.header.stamp.sec}.{pair.rgb.header.stamp.nanosec:09d} "
                   f"failed: {type(error).__name__}: {error}")

    def _bad(self, kind: str, message: str) -> None:
        self.stats.malformed(kind, message)
        self._warn(kind, message)

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
