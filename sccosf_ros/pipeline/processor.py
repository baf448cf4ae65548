"""The per-pair pipeline every path runs: the live node, ``sccosf bag-eval``, the benchmarks.

``PairProcessor`` is built from the node's validated parameters (``NodeParams``) and a
``Predictor``. For each input message, :meth:`PairProcessor.admit` checks its layout (cheap: no
pixel is converted) and keeps malformed ones out of the pairing, and thermal frames of a camera
in flat-field correction too (frozen or closed shutter, ``thermal.ffc.*``: a strided sample,
``pipeline.shutter``); for each synchronized pair,
:meth:`PairProcessor.process` runs

    decode (encodings, padded rows, endianness) → thermal crop (``thermal.crop``: telemetry
    rows, masked borders) → thermal validity (``thermal.min_valid``)
    and NaN policy → registration (thermal warped onto the RGB image by
    ``registration.homography``) → Predictor (at ``inference.height/width``, or downscaled to
    ``inference.max_pixels``) → colour (segmentation palette, overlay)

and :meth:`PairProcessor.encode` turns the result into ``sensor_msgs/Image`` messages carrying
the RGB message's header. Every rejected message or pair is counted in a shared ``NodeStats``
under the same names the node reports in ``/diagnostics``. No ROS import: messages are anything
with the ``sensor_msgs/Image`` or ``sensor_msgs/CompressedImage`` fields (rclpy or rosbags
types); a compressed message is checked (format, magic bytes, end marker, PNG bit depth) in
``admit`` and decompressed in ``process``, and counted as malformed like a raw one.

:meth:`PairProcessor.configure` swaps in new parameters (``ros2 param set``) from any thread:
a pair already running finishes with the old ones, the next pair uses the new ones; the
Predictor's inference size and thermal normalisation are updated on the worker thread, between
two pairs, so a running model never sees them change.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sccosf_ros.errors import SccosfError
from sccosf_ros.pipeline.compressed import check_compressed, decode_compressed, is_compressed
from sccosf_ros.pipeline.image_codec import (
    ImageDecodeError,
    check_rgb,
    check_thermal,
    decode_rgb,
    decode_thermal,
    encoding_info,
    require_rgb_dtype,
    rgb_from_pixels,
    thermal_from_pixels,
)
from sccosf_ros.pipeline.outputs import (
    COMPRESSED_OUTPUTS,
    OUTPUT_NAMES,
    encode_compressed_outputs,
    encode_outputs,
    render_outputs,
)
from sccosf_ros.pipeline.pairing import stamp_to_ns
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.shutter import ShutterCheck
from sccosf_ros.pipeline.stats import NodeStats
from sccosf_ros.thermal import crop_thermal


class PredictorLike(Protocol):
    """What the pipeline needs from ``sccosf_ros.inference.Predictor`` (tests wrap it)."""

    class_names: list[str]
    palette: list[tuple[int, int, int]]

    def predict(self, rgb: np.ndarray, thermal: np.ndarray) -> Any: ...


class StartupError(SccosfError, RuntimeError):
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
    kwargs: dict[str, Any] = {
        "input_size": params.inference_size,
        "precision": params.precision,
        "backend": params.backend,
    }
    if params.backend_cache_dir.strip():
        kwargs["cache_dir"] = Path(params.backend_cache_dir).expanduser()
    try:
        predictor = Predictor.from_checkpoint(params.checkpoint_path(), device, **kwargs)
        predictor.prepare()
    except CheckpointError as e:
        raise StartupError(f"parameter checkpoint: {e}") from None
    except BackendError as e:
        raise StartupError(f"parameter backend = {params.backend}: {e}") from None
    norm = params.thermal_norm(predictor.checkpoint_thermal_norm)
    if norm is not None:  # the checkpoint's stays in predictor.checkpoint_thermal_norm
        predictor.thermal_norm = norm
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


def check_input(stream: str, msg: Any) -> None:
    """ImageDecodeError unless ``msg`` (Image or CompressedImage) can be decoded for ``stream``."""
    if not is_compressed(msg):
        (check_rgb if stream == "rgb" else check_thermal)(msg)
        return
    fmt = check_compressed(msg)
    if stream == "rgb" and fmt.encoding is not None:  # e.g. "32FC1; tiff compressed"
        require_rgb_dtype(encoding_info(fmt.encoding).dtype, msg.format)


def decode_input(stream: str, msg: Any) -> np.ndarray:
    """An ``rgb`` (H, W, 3 uint8) or ``thermal`` (H, W) frame from an Image or CompressedImage."""
    if is_compressed(msg):
        pixels = decode_compressed(msg)
        return rgb_from_pixels(pixels) if stream == "rgb" else thermal_from_pixels(pixels)
    return decode_rgb(msg) if stream == "rgb" else decode_thermal(msg)


def _no_info(message: str) -> None:
    del message


@dataclass(frozen=True)
class _Config:
    """What one set of parameters means for the pipeline; swapped whole by ``configure``."""

    params: NodeParams
    homography: Any  # 3x3 numpy array or None
    outputs: tuple[str, ...]
    jpeg_outputs: tuple[str, ...]  # publish.compressed: the picture outputs with a JPEG copy
    thermal_norm: Any  # ThermalNorm for the Predictor (None: leave the predictor's)


class PairProcessor:
    """decode → NaN policy → registration → predict → colour → encode, for one pair.

    Args:
        params: the node's validated parameters (which outputs, NaN policy, homography, alpha).
        predictor: a ``Predictor`` (``load_predictor(params)``) or anything ``PredictorLike``;
            None for the model-free input side only (``admit`` and ``prepare``, as
            ``sccosf extract`` uses them).
        stats: where rejections and timings are counted (a new ``NodeStats`` if None).
        warn: ``warn(kind, message)`` for rejected input (the node throttles it per kind).
        info: ``info(message)`` for the once-per-frame-size inference.max_pixels note.
    """

    def __init__(
        self,
        params: NodeParams,
        predictor: PredictorLike | None,
        stats: NodeStats | None = None,
        warn: Callable[[str, str], None] | None = None,
        info: Callable[[str], None] | None = None,
        checkpoint_norm: Any = None,
    ) -> None:
        """``checkpoint_norm``: the ThermalNorm ``thermal.normalization = checkpoint`` means
        when there is no predictor to take it from."""
        self.predictor = predictor
        self.palette = [tuple(int(v) for v in c) for c in getattr(predictor, "palette", ())]
        self.stats = stats if stats is not None else NodeStats(window=params.diagnostics_window)
        self.warn = warn or _no_warning
        self.info = info or _no_info
        # thermal.normalization = checkpoint means what the predictor came with.
        fallback = getattr(predictor, "thermal_norm", checkpoint_norm)
        self._base_norm = getattr(predictor, "checkpoint_thermal_norm", fallback)
        self._sizes_noted: set[tuple[int, int, tuple[int, int] | None]] = set()
        self._shutter = ShutterCheck()
        self._applied: _Config | None = None
        self.configure(params)
        self._apply(self._config)

    def configure(self, params: NodeParams) -> None:
        """Use ``params`` (validated) from the next pair on; safe while a pair is running."""
        from sccosf_ros.registration import parse_homography

        norm = params.thermal_norm(self._base_norm)
        outputs = tuple(n for n in OUTPUT_NAMES if getattr(params, f"publish_{n}"))
        self._config = _Config(
            params=params,
            homography=parse_homography(params.homography),
            outputs=outputs,
            jpeg_outputs=tuple(
                n for n in outputs if params.publish_compressed and n in COMPRESSED_OUTPUTS
            ),
            thermal_norm=norm if norm is not None else self._base_norm,
        )

    @property
    def params(self) -> NodeParams:
        return self._config.params

    @property
    def outputs(self) -> tuple[str, ...]:
        return self._config.outputs

    @property
    def jpeg_outputs(self) -> tuple[str, ...]:
        """The outputs that also go out as JPEG (``~/<name>/compressed``)."""
        return self._config.jpeg_outputs

    @property
    def homography(self) -> Any:
        return self._config.homography

    @property
    def thermal_norm(self) -> Any:
        """The ThermalNorm the model is fed with under these parameters (None: unknown)."""
        return self._config.thermal_norm

    def _apply(self, cfg: _Config) -> None:
        """The predictor-side settings of ``cfg`` (worker thread, between pairs)."""
        if cfg.thermal_norm is not None and hasattr(self.predictor, "thermal_norm"):
            self.predictor.thermal_norm = cfg.thermal_norm
        self._applied = cfg

    def _inference_size(self, cfg: _Config, height: int, width: int) -> None:
        """Set the predictor's input size for this frame size (inference.* parameters)."""
        size = cfg.params.inference_size_for(height, width)
        if getattr(self.predictor, "input_size", None) != size:
            self.predictor.input_size = size
        if size is None or cfg.params.inference_size is not None:
            return
        key = (height, width, size)
        if key not in self._sizes_noted:
            self._sizes_noted.add(key)
            self.info(
                f"{width}x{height} input runs at {size[1]}x{size[0]} (inference.max_pixels "
                f"{cfg.params.inference_max_pixels}; results resized back; 0 = native size)"
            )

    # ------------------------------------------------------------------ per message
    def admit(self, stream: str, msg: Any) -> bool:
        """Count an arriving ``rgb``/``thermal`` message; False (counted) when it is malformed
        or a shutter / flat-field correction frame (thermal.ffc.*)."""
        self.stats.arrived(stream)
        try:
            check_input(stream, msg)
        except ImageDecodeError as e:
            self.reject(f"malformed_{stream}", f"{stream} image rejected: {e}")
            return False
        stamp = None  # no usable stamp: the synchroniser deals with it; reports just lack it
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            stamp = stamp_to_ns(msg.header.stamp)
            self.stats.stamped(stream, stamp)
        return stream != "thermal" or not self._shutter_frame(msg, stamp)

    def _shutter_frame(self, msg: Any, stamp: int | None) -> bool:
        """True (counted, warned) when ``msg`` is a frozen or closed-shutter thermal frame."""
        cfg = self._config
        p = cfg.params

        def decode(m: Any) -> np.ndarray:
            return crop_thermal(decode_input("thermal", m), p.thermal_crop_px)

        frame = self._shutter.check(
            msg,
            frozen=p.thermal_ffc_frozen,
            min_spread_k=p.thermal_ffc_min_spread,
            decode=decode,
            norm=cfg.thermal_norm,
        )
        if frame is None:
            return False
        self.stats.ffc(frame.new_event, stamp)
        self.warn("thermal_ffc", f"thermal frame skipped (flat-field correction): {frame.detail}")
        return True

    def reject(self, kind: str, message: str) -> None:
        """Count one bad message or pair under ``kind`` (a ``NodeStats`` counter) and warn."""
        self.stats.malformed(kind, message)
        self.warn(kind, message)

    # ------------------------------------------------------------------ per pair
    def process(self, rgb_msg: Any, thermal_msg: Any) -> PairOutput | None:
        """Run the pipeline on one synchronized pair; None when the pair is rejected (counted)."""
        cfg = self._config  # one parameter set for the whole pair
        if cfg is not self._applied:
            self._apply(cfg)
        t0 = time.perf_counter()
        inputs = self._prepare(cfg, rgb_msg, thermal_msg)
        if inputs is None:
            return None
        rgb, thermal = inputs
        self._inference_size(cfg, *rgb.shape[:2])
        t1 = time.perf_counter()
        pred = self.predictor.predict(rgb, thermal)
        t2 = time.perf_counter()
        images = render_outputs(
            cfg.outputs, rgb, pred.fused, pred.labels, self.palette, cfg.params.overlay_alpha
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

    def encode(self, out: PairOutput, header: Any, msg_type: type) -> dict[str, Any]:
        """The enabled outputs as Image messages of ``msg_type`` with ``header`` (the RGB
        message's); ``msg_type`` is rclpy's ``sensor_msgs.msg.Image`` or a rosbags type."""
        return encode_outputs(out.images, header, msg_type)

    def encode_compressed(self, out: PairOutput, header: Any, msg_type: type) -> dict[str, Any]:
        """JPEG CompressedImage copies of the picture outputs; {} unless publish.compressed."""
        cfg = self._config
        images = {n: out.images[n] for n in cfg.jpeg_outputs if n in out.images}
        if not images:
            return {}
        return encode_compressed_outputs(images, header, cfg.params.publish_jpeg_quality, msg_type)

    def prepare(self, rgb_msg: Any, thermal_msg: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """A pair's model inputs before normalisation: RGB (H, W, 3) uint8 and the raw thermal
        (dtype kept) cropped and registered onto it; None when the pair is rejected (counted).
        The first half of :meth:`process`, without the model."""
        return self._prepare(self._config, rgb_msg, thermal_msg)

    def _prepare(
        self, cfg: _Config, rgb_msg: Any, thermal_msg: Any
    ) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            rgb = decode_input("rgb", rgb_msg)
        except ImageDecodeError as e:
            self.reject("malformed_rgb", f"RGB image rejected: {e}")
            return None
        try:
            thermal = decode_input("thermal", thermal_msg)
        except ImageDecodeError as e:
            self.reject("malformed_thermal", f"thermal image rejected: {e}")
            return None
        try:
            thermal = crop_thermal(thermal, cfg.params.thermal_crop_px)
        except ValueError as e:
            self.reject("malformed_thermal", f"thermal image rejected: {e}")
            return None
        if not self._nan_policy(cfg.params, thermal):
            return None
        registered = self._register(cfg, rgb, thermal)
        return None if registered is None else (rgb, registered)

    def _nan_policy(self, params: NodeParams, thermal: np.ndarray) -> bool:
        """``thermal.min_valid`` and ``thermal.nan_policy`` for float thermal with NaN/Inf;
        False = pair rejected."""
        if thermal.dtype.kind != "f":
            return True
        finite = np.isfinite(thermal)
        n_finite = int(np.count_nonzero(finite))
        if n_finite == finite.size:
            return True
        n_bad = int(finite.size - n_finite)
        valid = n_finite / max(finite.size, 1)
        if n_finite == 0 or valid < params.thermal_min_valid:
            self.reject(
                "malformed_thermal",
                f"thermal image rejected: only {valid:.1%} of its pixels are finite ({n_bad} "
                f"NaN/Inf; thermal.min_valid = {params.thermal_min_valid})",
            )
            return False
        if params.thermal_nan_policy == "reject":
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

    def _register(self, cfg: _Config, rgb: np.ndarray, thermal: np.ndarray) -> np.ndarray | None:
        """Thermal on the RGB pixel grid; None (counted) when sizes differ and no homography."""
        if cfg.homography is not None:
            from sccosf_ros.registration import warp_thermal

            return warp_thermal(thermal, cfg.homography, rgb.shape[:2])
        if thermal.shape[:2] != rgb.shape[:2]:
            self.reject(
                "size_mismatch",
                f"RGB {rgb.shape[1]}x{rgb.shape[0]} and thermal "
                f"{thermal.shape[1]}x{thermal.shape[0]} differ in size: set "
                "registration.homography to map thermal onto RGB",
            )
            return None
        return thermal
