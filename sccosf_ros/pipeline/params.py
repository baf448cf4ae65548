"""Every parameter of ``sccosf_node`` in one place: name, default, description, validation.

``PARAMETERS`` is the single table; ``sccosf_ros.ros.params.declare_and_read(node)`` declares each
entry on a real rclpy node and returns a validated ``NodeParams``; ``NodeParams.from_dict``
validates without ROS, and ``read_params_files`` reads the node's own ``ros__parameters`` YAML
files (what ``--params-file`` and ``ros2 launch`` take), so ``sccosf bag-eval --params-file`` runs
the pipeline exactly as the live node would. ``config/sccosf.yaml`` lists the same names with the
same defaults (a test checks that).

Doubles accept integers (``-p sync.slop:=1``) because a ROS user writes them that way; anything
else of the wrong type or range raises ``ParameterError`` with the parameter's name and what to
write instead. The node turns that into one error line and exit code 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sccosf_ros.backends import BACKENDS
from sccosf_ros.errors import SccosfError
from sccosf_ros.precision import PRECISIONS
from sccosf_ros.thermal import MODES as THERMAL_MODES
from sccosf_ros.thermal import ThermalNorm

NODE_NAME = "sccosf"  # the node's name: parameter files address it by it
RELIABILITIES = ("best_effort", "reliable")
DEVICES_HELP = "auto | cpu | cuda | cuda:N"
THERMAL_NORMALIZATIONS = ("checkpoint", *THERMAL_MODES)
NAN_POLICIES = ("zero", "reject")
TRANSPORTS = ("raw", "compressed")  # image_transport names: <topic> or <topic>/compressed


class ParameterError(SccosfError, ValueError):
    """A parameter value the node cannot run with; the message says what to write instead."""


@dataclass(frozen=True)
class ParamSpec:
    """One ROS parameter: dotted name, default (its type is the parameter's type), description."""

    name: str
    default: Any
    description: str
    choices: tuple[str, ...] | None = None

    @property
    def attr(self) -> str:
        return self.name.replace(".", "_")


PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "checkpoint",
        "",
        "SC-CoSF checkpoint file (.pt from `sccosf train`); empty = "
        "$SCCOSF_CHECKPOINT or the shipped models/sccosf_nano_synthetic.pt",
    ),
    ParamSpec("device", "auto", f"torch device: {DEVICES_HELP} (auto = cuda when available)"),
    ParamSpec("num_threads", 0, "torch CPU threads for inference; 0 = torch's default"),
    ParamSpec(
        "inference.height",
        0,
        "height the network runs at (results are resized back to "
        "the RGB size); 0 together with inference.width = 0 runs at the native size",
    ),
    ParamSpec(
        "inference.width", 0, "width the network runs at; 0 = native (see inference.height)"
    ),
    ParamSpec(
        "sync.slop",
        0.05,
        "approximate-time sync: largest stamp difference in seconds "
        "between an RGB and a thermal image of one pair (> 0)",
    ),
    ParamSpec(
        "sync.queue_size",
        10,
        "approximate-time sync: messages kept per input while "
        "waiting for a partner; must cover fast rate x latency difference (>= 1)",
    ),
    ParamSpec(
        "input_qos.reliability",
        "best_effort",
        "QoS reliability of the two image "
        "subscriptions; best_effort matches camera drivers (sensor data QoS)",
        RELIABILITIES,
    ),
    ParamSpec("input_qos.depth", 5, "QoS history depth of the two image subscriptions (>= 1)"),
    ParamSpec(
        "output_qos.reliability", "reliable", "QoS reliability of the output images", RELIABILITIES
    ),
    ParamSpec("output_qos.depth", 2, "QoS history depth of the output images (>= 1)"),
    ParamSpec(
        "thermal.normalization",
        "checkpoint",
        "raw thermal -> [0,1]: checkpoint (what "
        "the checkpoint was trained with) | auto (uint8 /255, else percentile) | minmax "
        "| percentile | fixed (thermal.low..thermal.high raw counts)",
        THERMAL_NORMALIZATIONS,
    ),
    ParamSpec("thermal.low", 0.0, "fixed normalisation: raw value that maps to 0"),
    ParamSpec(
        "thermal.high", 65535.0, "fixed normalisation: raw value that maps to 1 (> thermal.low)"
    ),
    ParamSpec(
        "thermal.percentile_low", 1.0, "percentile normalisation: lower percentile (0..100)"
    ),
    ParamSpec(
        "thermal.percentile_high",
        99.0,
        "percentile normalisation: upper percentile (0..100, > percentile_low)",
    ),
    ParamSpec(
        "thermal.nan_policy",
        "zero",
        "NaN/Inf pixels in float (32FC1) thermal: zero = "
        "left out of the range estimate and drawn as the coldest value (counted in "
        "/diagnostics) | reject = drop the pair as malformed",
        NAN_POLICIES,
    ),
    ParamSpec(
        "registration.homography",
        [0.0],
        "3x3 homography, 9 numbers row-major, mapping "
        "thermal pixel coordinates onto RGB pixel coordinates; [] or [0.0] = the images "
        "are already registered (then RGB and thermal must have the same size)",
    ),
    ParamSpec("overlay_alpha", 0.5, "opacity of the class colours in ~/overlay (0..1)"),
    ParamSpec("publish.fused", True, "publish ~/fused (rgb8 fused image)"),
    ParamSpec(
        "publish.segmentation", True, "publish ~/segmentation (mono8 class ids, 255 = unlabeled)"
    ),
    ParamSpec("publish.segmentation_color", True, "publish ~/segmentation_color (rgb8)"),
    ParamSpec("publish.overlay", True, "publish ~/overlay (rgb8 classes over the RGB image)"),
    ParamSpec("diagnostics.period", 1.0, "seconds between /diagnostics messages (> 0)"),
    ParamSpec(
        "diagnostics.stall_timeout",
        2.0,
        "WARN in /diagnostics when an input has sent nothing, or both arrive but no pair "
        "formed, for this many seconds (> 0)",
    ),
    ParamSpec(
        "diagnostics.window",
        200,
        "number of recent pairs the latency percentiles are computed over (>= 1)",
    ),
    ParamSpec(
        "rgb_transport",
        "raw",
        "RGB input: raw = sensor_msgs/Image on rgb/image_raw | compressed = "
        "sensor_msgs/CompressedImage (JPEG/PNG) on rgb/image_raw/compressed, as image_transport "
        "names it",
        TRANSPORTS,
    ),
    ParamSpec(
        "thermal_transport",
        "raw",
        "thermal input: raw | compressed (thermal/image_raw/compressed; 16-bit PNG keeps the "
        "raw counts)",
        TRANSPORTS,
    ),
    ParamSpec(
        "publish.compressed",
        False,
        "also publish ~/overlay/compressed, ~/fused/compressed and "
        "~/segmentation_color/compressed (JPEG CompressedImage, for viewing over Wi-Fi)",
    ),
    ParamSpec(
        "publish.jpeg_quality", 80, "JPEG quality of the ~/<output>/compressed topics (1..100)"
    ),
    ParamSpec(
        "sync.jump_reset",
        1.0,
        "reset the pairing when an input's stamp goes back by more than this many seconds "
        "(bag loop, driver restart, clock reset) or sim time jumps back; 0 = never (the "
        "message_filters behaviour: no pair until the new stamps pass the old ones)",
    ),
    ParamSpec(
        "thermal.min_valid",
        0.5,
        "float (32FC1) thermal: smallest fraction of finite pixels (0..1); a frame with "
        "fewer (or none) is rejected as malformed",
    ),
    ParamSpec(
        "inference.max_pixels",
        640 * 480,
        "largest image area (pixels) the network runs at natively: larger inputs run "
        "downscaled (aspect kept) and the results are resized back; 0 = always native. "
        "Applies when inference.height/width are 0; a fixed size set there wins",
    ),
    ParamSpec(
        "precision",
        "fp32",
        "precision the network runs in: fp32 | fp16 | bf16. torch: autocast (half precision "
        "mainly pays on a GPU; the selective scan keeps float32 states); openvino: fp32 or "
        "bf16 (about 1.4x faster on CPUs with AMX/AVX-512 BF16, within the parity bar); "
        "tensorrt: fp32 or fp16; onnxruntime: fp32",
        PRECISIONS,
    ),
    ParamSpec(
        "backend",
        "torch",
        "inference runtime: torch (eager) | onnxruntime | openvino (CPU) | tensorrt (CUDA); "
        "the non-torch ones export the checkpoint to ONNX once per input size into "
        "backend.cache_dir (read-only: restart the node to change)",
        BACKENDS,
    ),
    ParamSpec(
        "backend.cache_dir",
        "",
        "folder for exported ONNX graphs and TensorRT engines; empty = "
        "$XDG_CACHE_HOME/sccosf_ros (~/.cache/sccosf_ros)",
    ),
)

SPECS: dict[str, ParamSpec] = {s.name: s for s in PARAMETERS}

# Parameters ``ros2 param set`` may change while the node runs (validated by the same rules as
# at start, used from the next pair on); every other one is read-only ("restart to change").
LIVE_PARAMETERS: frozenset[str] = frozenset(
    {
        "inference.height",
        "inference.width",
        "inference.max_pixels",
        "sync.slop",
        "sync.queue_size",
        "sync.jump_reset",
        "thermal.normalization",
        "thermal.low",
        "thermal.high",
        "thermal.percentile_low",
        "thermal.percentile_high",
        "thermal.nan_policy",
        "thermal.min_valid",
        "registration.homography",
        "overlay_alpha",
        "publish.fused",
        "publish.segmentation",
        "publish.segmentation_color",
        "publish.overlay",
        "publish.compressed",
        "publish.jpeg_quality",
        "diagnostics.period",
        "diagnostics.stall_timeout",
    }
)


@dataclass(frozen=True)
class NodeParams:
    """The validated parameters of ``sccosf_node`` (attribute = dotted name with ``_``)."""

    checkpoint: str
    device: str
    num_threads: int
    inference_height: int
    inference_width: int
    sync_slop: float
    sync_queue_size: int
    input_qos_reliability: str
    input_qos_depth: int
    output_qos_reliability: str
    output_qos_depth: int
    thermal_normalization: str
    thermal_low: float
    thermal_high: float
    thermal_percentile_low: float
    thermal_percentile_high: float
    thermal_nan_policy: str
    registration_homography: tuple[float, ...]  # () = no registration
    overlay_alpha: float
    publish_fused: bool
    publish_segmentation: bool
    publish_segmentation_color: bool
    publish_overlay: bool
    diagnostics_period: float
    diagnostics_stall_timeout: float
    diagnostics_window: int
    rgb_transport: str
    thermal_transport: str
    publish_compressed: bool
    publish_jpeg_quality: int
    sync_jump_reset: float
    thermal_min_valid: float
    inference_max_pixels: int
    precision: str
    backend: str
    backend_cache_dir: str

    # ------------------------------------------------------------------ construction
    @classmethod
    def defaults(cls) -> NodeParams:
        return cls.from_dict({})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> NodeParams:
        """Dotted names → validated NodeParams; missing names take their defaults."""
        unknown = sorted(set(values) - set(SPECS) - {"use_sim_time"})
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(SPECS)}"
            )
        kw = {}
        for spec in PARAMETERS:
            kw[spec.attr] = _coerce(spec, values.get(spec.name, spec.default))
        params = cls(**kw)
        params.validate()
        return params

    def updated(self, changes: dict[str, Any]) -> NodeParams:
        """These parameters with ``changes`` (dotted names) applied, validated as a whole.

        What ``ros2 param set`` goes through: ParameterError (its message is the reason the
        caller sees) for a bad value, or for a parameter outside LIVE_PARAMETERS whose value
        would change ("restart to change").
        """
        values = self.to_dict()
        for name, value in changes.items():
            if name not in SPECS:
                raise ParameterError(f"unknown parameter {name}; known: {', '.join(SPECS)}")
            if name not in LIVE_PARAMETERS and _coerce(SPECS[name], value) != getattr(
                self, SPECS[name].attr
            ):
                raise ParameterError(
                    f"parameter {name} cannot change while the node runs: restart to change"
                )
        values.update(changes)
        return NodeParams.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        """Dotted names → values (homography as a list, as ROS stores it)."""
        out = {}
        for spec in PARAMETERS:
            v = getattr(self, spec.attr)
            out[spec.name] = list(v) if isinstance(v, tuple) else v
        return out

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        def need(ok: bool, name: str, what: str) -> None:
            if not ok:
                raise ParameterError(
                    f"parameter {name} = {self.to_dict()[name]!r} is invalid: {what}"
                )

        need(bool(self.device.strip()), "device", f"use {DEVICES_HELP}")
        need(self.num_threads >= 0, "num_threads", "must be >= 0 (0 = torch default)")
        h, w = self.inference_height, self.inference_width
        need(h >= 0, "inference.height", "must be >= 0")
        need(w >= 0, "inference.width", "must be >= 0")
        need(
            (h == 0) == (w == 0),
            "inference.height",
            f"inference.height and inference.width must both be 0 (native) or both > 0, "
            f"got {h}x{w}",
        )
        need(
            math.isfinite(self.sync_slop) and self.sync_slop > 0,
            "sync.slop",
            "must be a positive number of seconds, e.g. 0.05",
        )
        need(self.sync_queue_size >= 1, "sync.queue_size", "must be >= 1")
        need(self.input_qos_depth >= 1, "input_qos.depth", "must be >= 1")
        need(self.output_qos_depth >= 1, "output_qos.depth", "must be >= 1")
        need(0.0 <= self.overlay_alpha <= 1.0, "overlay_alpha", "must be within 0..1")
        need(
            math.isfinite(self.diagnostics_period) and self.diagnostics_period > 0,
            "diagnostics.period",
            "must be > 0 seconds",
        )
        need(
            math.isfinite(self.diagnostics_stall_timeout) and self.diagnostics_stall_timeout > 0,
            "diagnostics.stall_timeout",
            "must be > 0 seconds",
        )
        need(self.diagnostics_window >= 1, "diagnostics.window", "must be >= 1")
        need(
            1 <= self.publish_jpeg_quality <= 100, "publish.jpeg_quality", "must be within 1..100"
        )
        need(
            math.isfinite(self.sync_jump_reset) and self.sync_jump_reset >= 0,
            "sync.jump_reset",
            "must be >= 0 seconds (0 = never reset)",
        )
        need(
            0.0 <= self.thermal_min_valid <= 1.0,
            "thermal.min_valid",
            "must be a fraction within 0..1, e.g. 0.5",
        )
        need(
            self.inference_max_pixels >= 0,
            "inference.max_pixels",
            "must be >= 0 (0 = native size), e.g. 307200 for 640x480",
        )
        if self.thermal_normalization != "checkpoint":
            try:
                self.thermal_norm()
            except ValueError as e:
                raise ParameterError(f"thermal.* parameters are invalid: {e}") from e
        if self.registration_homography:
            from sccosf_ros.registration import parse_homography

            try:
                parse_homography(self.registration_homography)
            except ValueError as e:
                raise ParameterError(f"parameter registration.homography: {e}") from None

    # ------------------------------------------------------------------ derived values
    @property
    def inference_size(self) -> tuple[int, int] | None:
        if self.inference_height == 0:
            return None
        return (self.inference_height, self.inference_width)

    def inference_size_for(self, height: int, width: int) -> tuple[int, int] | None:
        """The (H, W) the network runs at for an input of ``height`` x ``width``; None = native.

        inference.height/width win when set; else inputs larger than inference.max_pixels run
        downscaled with their aspect ratio kept (each side at least 1 pixel).
        """
        if self.inference_size is not None:
            return self.inference_size
        limit = self.inference_max_pixels
        if limit <= 0 or height * width <= limit:
            return None
        scale = math.sqrt(limit / (height * width))
        h = max(1, min(height, math.floor(height * scale)))
        w = max(1, min(width, math.floor(width * scale)))
        return (h, w)

    @property
    def homography(self) -> tuple[float, ...] | None:
        return self.registration_homography or None

    def checkpoint_path(self) -> Path:
        """The checkpoint file to load: the parameter, or the shipped default when empty."""
        if self.checkpoint.strip():
            return Path(self.checkpoint).expanduser()
        from sccosf_ros.paths import default_checkpoint

        return default_checkpoint()

    def thermal_norm(self) -> ThermalNorm | None:
        """The ThermalNorm the parameters ask for; None = keep the checkpoint's."""
        if self.thermal_normalization == "checkpoint":
            return None
        return ThermalNorm(
            mode=self.thermal_normalization,
            low=self.thermal_low,
            high=self.thermal_high,
            percentile_low=self.thermal_percentile_low,
            percentile_high=self.thermal_percentile_high,
        )


assert [f.name for f in fields(NodeParams)] == [s.attr for s in PARAMETERS]


def type_name(default: Any) -> str:
    if isinstance(default, bool):
        return "a boolean (true/false)"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, list):
        return "a list of numbers"
    return "a string"


def _coerce(spec: ParamSpec, value: Any) -> Any:
    """A raw parameter value → the spec's Python type, or ParameterError naming the fix."""
    d = spec.default
    bad = ParameterError(
        f"parameter {spec.name} must be {type_name(d)}, got {value!r} ({type(value).__name__})"
    )
    if isinstance(d, bool):
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(d, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return int(value)
    if isinstance(d, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        return float(value)
    if isinstance(d, list):  # registration.homography
        return _coerce_numbers(value, bad)
    if not isinstance(value, str):
        raise bad
    value = value.strip()
    if spec.choices is not None and value not in spec.choices:
        raise ParameterError(
            f"parameter {spec.name} = {value!r} is not one of {', '.join(spec.choices)}"
        )
    return value


def _coerce_numbers(value: Any, bad: ParameterError) -> tuple[float, ...]:
    """A list of numbers (or its string form from a launch argument); () = none given."""
    if value is None:
        return ()
    if isinstance(value, str):  # "1 0 0 0 1 0 0 0 1" or "[1, 0, ...]" from a launch arg
        text = value.replace("[", " ").replace("]", " ").replace(",", " ").split()
        try:
            value = [float(v) for v in text]
        except ValueError:
            raise bad from None
    try:
        nums = [float(v) for v in value if not isinstance(v, bool)]
    except (TypeError, ValueError):
        raise bad from None
    if len(nums) != len(list(value)):
        raise bad
    # [] and the placeholder [0.0] (ROS YAML cannot hold an empty list) mean "none".
    if len(nums) == 0 or (len(nums) == 1 and nums[0] == 0.0):
        return ()
    return tuple(nums)


# --------------------------------------------------------------------------- parameter files
def _flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    """Nested ``ros__parameters`` mappings → dotted names (``{sync: {slop: 1}}`` → sync.slop)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _node_key_rank(key: str, node_name: str) -> int | None:
    """How a parameter-file node key applies to ``node_name``: 0 = wildcard for every node,
    1 = the node in any/one namespace, None = another node (ROS applies wildcards first)."""
    parts = [p for p in str(key).strip().split("/") if p]
    if parts in (["**"], ["*"]):
        return 0
    if parts and parts[-1] == node_name:
        return 1
    return None


def read_params_file(path: str | Path, node_name: str = NODE_NAME) -> dict[str, Any]:
    """The parameters a ROS 2 parameter file gives node ``node_name``, as dotted names.

    Entries for every node (``/**``) apply first, then those naming the node (``sccosf``,
    ``/sccosf``, ``/**/sccosf``, ``/robot/sccosf``), as ``--params-file`` does.
    """
    import yaml

    p = Path(path).expanduser()
    if not p.is_file():
        raise ParameterError(f"parameter file {str(p)!r} does not exist")
    try:
        doc = yaml.safe_load(p.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        why = " ".join(str(e).split())  # YAML errors span lines; one line for the user
        raise ParameterError(f"parameter file {str(p)!r} is not valid YAML: {why}") from None
    if not isinstance(doc, dict):
        raise ParameterError(
            f"parameter file {str(p)!r} must map node names to "
            "ros__parameters (see config/sccosf.yaml)"
        )
    ranked = []
    for key, entry in doc.items():
        rank = _node_key_rank(key, node_name)
        params = entry.get("ros__parameters") if isinstance(entry, dict) else None
        if rank is not None and isinstance(params, dict):
            ranked.append((rank, params))
    if not ranked:
        raise ParameterError(
            f"parameter file {str(p)!r} has no ros__parameters for node {node_name!r} "
            f"(node keys in the file: {', '.join(map(str, doc)) or 'none'})"
        )
    values: dict[str, Any] = {}
    for _, params in sorted(ranked, key=lambda r: r[0]):
        values.update(_flatten(params))
    return values


def read_params_files(
    paths: list[str | Path], overrides: dict[str, Any] | None = None, node_name: str = NODE_NAME
) -> NodeParams:
    """Parameter files layered in order (later ones win), then ``overrides``, validated."""
    values: dict[str, Any] = {}
    for path in paths:
        values.update(read_params_file(path, node_name))
    values.update(overrides or {})
    values.pop("use_sim_time", None)
    return NodeParams.from_dict(values)


def _nest(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted names → nested mappings, the layout of config/sccosf.yaml.

    A name under another parameter's name (``backend.cache_dir`` under ``backend``) stays one
    dotted key from that level on: YAML cannot nest under a scalar, and rcl reads dotted keys.
    """
    tree: dict[str, Any] = {}
    for name, value in values.items():
        parts = name.split(".")
        depth = next(
            (i - 1 for i in range(1, len(parts)) if ".".join(parts[:i]) in SPECS),
            len(parts) - 1,
        )
        node = tree
        for part in parts[:depth]:
            node = node.setdefault(part, {})
        node[".".join(parts[depth:])] = list(value) if isinstance(value, tuple) else value
    return tree


def write_params_file(
    path: str | Path, values: dict[str, Any], header: str = "", node_key: str = f"/**/{NODE_NAME}"
) -> Path:
    """Write ``values`` (dotted names) as a ``ros__parameters`` file for ``node_key``, which
    ``--params-file``, ``ros2 launch ... params_file:=`` and ``sccosf bag-eval`` read."""
    import yaml

    unknown = sorted(set(values) - set(SPECS) - {"use_sim_time"})
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}")
    # rcl refuses a list mixing integers and doubles ([2.0, 0, ...]): number lists as doubles.
    values = {
        k: [float(x) for x in v]
        if isinstance(SPECS.get(k, ParamSpec(k, 0, "")).default, list)
        else v
        for k, v in values.items()
    }
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump({node_key: {"ros__parameters": _nest(values)}}, sort_keys=False)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    p.write_text(comment + body)
    return p
