"""The per-pair pipeline every path runs: the live node, ``sccosf bag-eval``, the benchmarks.

``PairProcessor`` is built from the node's validated parameters (``NodeParams``) and a
``Predictor``. For each input message, :meth:`PairProcessor.admit` checks its layout (cheap: no
pixel is converted) and keeps malformed ones out of the pairing; for each synchronized pair,
:meth:`PairProcessor.process` runs

    decode (encodings, padded rows, endianness) → thermal NaN policy → registration
    (thermal warped onto the RGB image by ``registration.homography``) → Predictor →
    colour (segmentation palette, overlay)

and :meth:`PairProcessor.encode` turns the result into ``sensor_msgs/Image`` messages carrying
the RGB message's header. Every rejected message or pair is counted in a shared ``NodeStats``
under the same names the node reports in ``/diagnostics``. No ROS import: messages are anything
with the ``sensor_msgs/Image`` fields (rclpy or rosbags types).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sccosf_ros.pipeline.image_codec import (
    ImageDecodeError,
    check_rgb,
    check_thermal,
    decode_rgb,
    decode_thermal,
)
from sccosf_ros.pipeline.outputs import OUTPUT_NAMES, encode_outputs, render_outputs
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.stats import NodeStats

STREAMS = ("rgb", "thermal")


class PredictorLike(Protocol):
    """What the pipeline needs from ``sccosf_ros.inference.Predictor`` (tests wrap it)."""

    class_names: list[str]
    palette: list[tuple[int, int, int]]

    def predict(self, rgb: np.ndarray, thermal: np.ndarray) -> Any: ...


class StartupError(RuntimeError):
    """The pipeline cannot start (device, checkpoint); the message says what to fix."""


def load_predictor(params: NodeParams) -> Any:
    """The Predictor the parameters describe; StartupError for device/checkpoint/backend
    problems. A non-torch ``backend`` with a fixed ``inference.height/width`` exports (or
    loads from ``backend.cache_dir``) its graph here, so the first pair does not wait for it;
    at the native size that happens on the first pair of each new size."""
    import torch

    from sccosf_ros.backends import BackendError
    from sccosf_ros.backends.compiled import backend_device
    from sccosf_ros.inference import CheckpointError, Predictor

    if params.num_threads > 0:
        torch.set_num_threads(params.num_threads)
    try:
        device = backend_device(params.backend, params.device)
    except (ValueError, BackendError) as e:
        raise StartupError(f"parameter device: {e}") from None
    kwargs: dict[str, Any] = {"input_size": params.inference_size, "backend": params.backend}
    if params.backend_cache_dir.strip():
        kwargs["cache_dir"] = Path(params.backend_cache_dir).expanduser()
    norm = params.thermal_norm()
    if norm is not None:
        kwargs["thermal_norm"] = norm
    try:
        predictor = Predictor.from_checkpoint(params.checkpoint_path(), device, **kwargs)
        predictor.prepare()
    except CheckpointError as e:
        raise StartupError(f"parameter checkpoint: {e}") from None
    except BackendError as e:
        raise StartupError(f"parameter backend = {params.backend}: {e}") from None
    return predictor


@dataclass
class PairOutput:
    """One processed pair: the inputs as the model saw them and every enabled output image."""

    rgb: np.ndarray  # (H, W, 3) uint8 RGB, decoded
    thermal: np.ndarray  # (H, W) raw thermal values registered onto the RGB image
    fused: np.ndarray | None  # (H, W, 3) uint8 (None: ablation F)
    labels: np.ndarray | None  # (H, W) uint8 class ids (None: ablation E)
    images: dict[str, np.ndarray]  # output name → array, for the enabled outputs
    timings_ms: dict[str, float] = field(default_factory=dict)  # decode, inference, model, render


def _no_warning(kind: str, message: str) -> None:
    del kind, message


class PairProcessor:
    """decode → NaN policy → registration → predict → colour → encode, for one pair.

    Args:
        params: the node's validated parameters (which outputs, NaN policy, homography, alpha).
        predictor: a ``Predictor`` (``load_predictor(params)``) or anything ``PredictorLike``.
        stats: where rejections and timings are counted (a new ``NodeStats`` if None).
        warn: ``warn(kind, message)`` for rejected input (the node throttles it per kind).
    """

    def __init__(
        self,
        params: NodeParams,
        predictor: PredictorLike,
        stats: NodeStats | None = None,
        warn: Callable[[str, str], None] | None = None,
    ) -> None:
        self.predictor = predictor
        self.palette = [tuple(int(v) for v in c) for c in predictor.palette]
        self.stats = stats if stats is not None else NodeStats(window=params.diagnostics_window)
        self.warn = warn or _no_warning
        self.configure(params)

    def configure(self, params: NodeParams) -> None:
        """Use ``params`` from the next pair on (outputs, NaN policy, homography, alpha)."""
        from sccosf_ros.registration import parse_homography

        self.params = params
        self.homography = parse_homography(params.homography)
        self.outputs = tuple(n for n in OUTPUT_NAMES if getattr(params, f"publish_{n}"))

    # ------------------------------------------------------------------ per message
    def admit(self, stream: str, msg: Any) -> bool:
        """Count an arriving ``rgb``/``thermal`` message; False (counted) when it is malformed."""
        self.stats.arrived(stream)
        try:
            (check_rgb if stream == "rgb" else check_thermal)(msg)
        except ImageDecodeError as e:
            self.reject(f"malformed_{stream}", f"{stream} image rejected: {e}")
            return False
        return True

    def reject(self, kind: str, message: str) -> None:
        """Count one bad message or pair under ``kind`` (a ``NodeStats`` counter) and warn."""
        self.stats.malformed(kind, message)
        self.warn(kind, message)

    # ------------------------------------------------------------------ per pair
    def process(self, rgb_msg: Any, thermal_msg: Any) -> PairOutput | None:
        """Run the pipeline on one synchronized pair; None when the pair is rejected (counted)."""
        t0 = time.perf_counter()
        inputs = self._decode(rgb_msg, thermal_msg)
        if inputs is None:
            return None
        rgb, thermal = inputs
        t1 = time.perf_counter()
        pred = self.predictor.predict(rgb, thermal)
        t2 = time.perf_counter()
        images = render_outputs(
            self.outputs, rgb, pred.fused, pred.labels, self.palette, self.params.overlay_alpha
        )
        t3 = time.perf_counter()
        timings = {
            "decode": (t1 - t0) * 1e3,
            "inference": (t2 - t1) * 1e3,
            "render": (t3 - t2) * 1e3,
        }
        model_ms = getattr(pred, "timings_ms", {}).get("model")
        if model_ms is not None:
            timings["model"] = model_ms
            self.stats.latency("model", model_ms)
        self.stats.latency("inference", timings["inference"])
        return PairOutput(rgb, thermal, pred.fused, pred.labels, images, timings)

    def encode(self, out: PairOutput, header: Any, msg_type: type | None = None) -> dict[str, Any]:
        """The enabled outputs as Image messages with ``header`` (the RGB message's)."""
        return encode_outputs(out.images, header, msg_type)

    def _decode(self, rgb_msg: Any, thermal_msg: Any) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            rgb = decode_rgb(rgb_msg)
        except ImageDecodeError as e:
            self.reject("malformed_rgb", f"RGB image rejected: {e}")
            return None
        try:
            thermal = decode_thermal(thermal_msg)
        except ImageDecodeError as e:
            self.reject("malformed_thermal", f"thermal image rejected: {e}")
            return None
        if not self._nan_policy(thermal):
            return None
        registered = self._register(rgb, thermal)
        return None if registered is None else (rgb, registered)

    def _nan_policy(self, thermal: np.ndarray) -> bool:
        """``thermal.nan_policy`` for float thermal with NaN/Inf; False = pair rejected."""
        if thermal.dtype.kind != "f":
            return True
        finite = np.isfinite(thermal)
        if finite.all():
            return True
        n_bad = int(finite.size - np.count_nonzero(finite))
        if self.params.thermal_nan_policy == "reject":
            self.reject(
                "thermal_nan_rejected",
                f"thermal image has {n_bad} NaN/Inf pixels (thermal.nan_policy = reject)",
            )
            return False
        self.stats.count("thermal_nan_frames")
        self.warn(
            "thermal_nan",
            f"thermal image has {n_bad} NaN/Inf pixels: drawn as the "
            "coldest value (thermal.nan_policy = zero)",
        )
        return True

    def _register(self, rgb: np.ndarray, thermal: np.ndarray) -> np.ndarray | None:
        """Thermal on the RGB pixel grid; None (counted) when sizes differ and no homography."""
        if self.homography is not None:
            from sccosf_ros.registration import warp_thermal

            return warp_thermal(thermal, self.homography, rgb.shape[:2])
        if thermal.shape[:2] != rgb.shape[:2]:
            self.reject(
                "size_mismatch",
                f"RGB {rgb.shape[1]}x{rgb.shape[0]} and thermal "
                f"{thermal.shape[1]}x{thermal.shape[0]} differ in size: set "
                "registration.homography to map thermal onto RGB",
            )
            return None
        return thermal
