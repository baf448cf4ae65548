"""Every parameter of ``sccosf_node`` in one place: name, default, description, validation.

``PARAMETERS`` is the single table; ``declare_and_read(node)`` declares each entry on a real
rclpy node (with a ``ParameterDescriptor`` carrying its description, read-only: restart the node
to change them) and returns a validated ``NodeParams``. ``config/sccosf.yaml`` lists the same
names with the same defaults (a test checks that). ``NodeParams.from_dict`` validates without ROS.

Doubles accept integers (``-p sync.slop:=1``) because a ROS user writes them that way; anything
else of the wrong type or range raises ``ParameterError`` with the parameter's name and what to
write instead. The node turns that into one error line and exit code 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sccosf_ros.thermal import MODES as THERMAL_MODES
from sccosf_ros.thermal import ThermalNorm

RELIABILITIES = ("best_effort", "reliable")
DEVICES_HELP = "auto | cpu | cuda | cuda:N"
THERMAL_NORMALIZATIONS = ("checkpoint", *THERMAL_MODES)
NAN_POLICIES = ("zero", "reject")


class ParameterError(ValueError):
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
    ParamSpec("checkpoint", "", "SC-CoSF checkpoint file (.pt from `sccosf train`); empty = "
              "$SCCOSF_CHECKPOINT or the shipped models/sccosf_nano_synthetic.pt"),
    ParamSpec("device", "auto", f"torch device: {DEVICES_HELP} (auto = cuda when available)"),
    ParamSpec("num_threads", 0, "torch CPU threads for inference; 0 = torch's default"),
    ParamSpec("inference.height", 0, "height the network runs at (results are resized back to "
              "the RGB size); 0 together with inference.width = 0 runs at the native size"),
    ParamSpec("inference.width", 0, "width the network runs at; 0 = native (see "
              "inference.height)"),
    ParamSpec("sync.slop", 0.05, "approximate-time sync: largest stamp difference in seconds "
              "between an RGB and a thermal image of one pair (> 0)"),
    ParamSpec("sync.queue_size", 10, "approximate-time sync: messages kept per input while "
              "waiting for a partner; must cover fast rate x latency difference (>= 1)"),
    ParamSpec("input_qos.reliability", "best_effort", "QoS reliability of the two image "
              "subscriptions; best_effort matches camera drivers (sensor data QoS)",
              RELIABILITIES),
    ParamSpec("input_qos.depth", 5, "QoS history depth of the two image subscriptions (>= 1)"),
    ParamSpec("output_qos.reliability", "reliable", "QoS reliability of the output images",
              RELIABILITIES),
    ParamSpec("output_qos.depth", 2, "QoS history depth of the output images (>= 1)"),
    ParamSpec("thermal.normalization", "checkpoint", "raw thermal -> [0,1]: checkpoint (what "
              "the checkpoint was trained with) | auto (uint8 /255, else percentile) | minmax "
              "| percentile | fixed (thermal.low..thermal.high raw counts)",
              THERMAL_NORMALIZATIONS),
    ParamSpec("thermal.low", 0.0, "fixed normalisation: raw value that maps to 0"),
    ParamSpec("thermal.high", 65535.0, "fixed normalisation: raw value that maps to 1 "
              "(> thermal.low)"),
    ParamSpec("thermal.percentile_low", 1.0, "percentile normalisation: lower percentile "
              "(0..100)"),
    ParamSpec("thermal.percentile_high", 99.0, "percentile normalisation: upper percentile "
              "(0..100, > percentile_low)"),
    ParamSpec("thermal.nan_policy", "zero", "NaN/Inf pixels in float (32FC1) thermal: zero = "
              "left out of the range estimate and drawn as the coldest value (counted in "
              "/diagnostics) | reject = drop the pair as malformed", NAN_POLICIES),
    ParamSpec("registration.homography", [0.0], "3x3 homography, 9 numbers row-major, mapping "
              "thermal pixel coordinates onto RGB pixel coordinates; [] or [0.0] = the images "
              "are already registered (then RGB and thermal must have the same size)"),
    ParamSpec("overlay_alpha", 0.5, "opacity of the class colours in ~/overlay (0..1)"),
    ParamSpec("publish.fused", True, "publish ~/fused (rgb8 fused image)"),
    ParamSpec("publish.segmentation", True, "publish ~/segmentation (mono8 class ids, "
              "255 = unlabeled)"),
    ParamSpec("publish.segmentation_color", True, "publish ~/segmentation_color (rgb8)"),
    ParamSpec("publish.overlay", True, "publish ~/overlay (rgb8 classes over the RGB image)"),
    ParamSpec("diagnostics.period", 1.0, "seconds between /diagnostics messages (> 0)"),
    ParamSpec("diagnostics.stall_timeout", 2.0, "WARN in /diagnostics when an input has sent "
              "nothing for this many seconds (> 0)"),
    ParamSpec("diagnostics.window", 200, "number of recent pairs the latency percentiles are "
              "computed over (>= 1)"),
)

SPECS: dict[str, ParamSpec] = {s.name: s for s in PARAMETERS}


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
        need((h == 0) == (w == 0), "inference.height",
             f"inference.height and inference.width must both be 0 (native) or both > 0, "
             f"got {h}x{w}")
        need(math.isfinite(self.sync_slop) and self.sync_slop > 0, "sync.slop",
             "must be a positive number of seconds, e.g. 0.05")
        need(self.sync_queue_size >= 1, "sync.queue_size", "must be >= 1")
        need(self.input_qos_depth >= 1, "input_qos.depth", "must be >= 1")
        need(self.output_qos_depth >= 1, "output_qos.depth", "must be >= 1")
        need(0.0 <= self.overlay_alpha <= 1.0, "overlay_alpha", "must be within 0..1")
        need(math.isfinite(self.diagnostics_period) and self.diagnostics_period > 0,
             "diagnostics.period", "must be > 0 seconds")
        need(math.isfinite(self.diagnostics_stall_timeout) and self.diagnostics_stall_timeout > 0,
             "diagnostics.stall_timeout", "must be > 0 seconds")
        need(self.diagnostics_window >= 1, "diagnostics.window", "must be >= 1")
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


def _type_name(default: Any) -> str:
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
        f"parameter {spec.name} must be {_type_name(d)}, got {value!r} "
        f"({type(value).__name__})"
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
    if not isinstance(value, str):
        raise bad
    value = value.strip()
    if spec.choices is not None and value not in spec.choices:
        raise ParameterError(
            f"parameter {spec.name} = {value!r} is not one of {', '.join(spec.choices)}"
        )
    return value


# --------------------------------------------------------------------------- rclpy glue
def declare_and_read(node: Any) -> NodeParams:
    """Declare every parameter on ``node`` (rclpy Node) and return them validated.

    Raises ParameterError for wrong types (from a YAML file or ``-p``) or invalid values.
    """
    from rcl_interfaces.msg import ParameterDescriptor
    from rclpy.exceptions import InvalidParameterTypeException
    from rclpy.parameter import Parameter

    values: dict[str, Any] = {}
    for spec in PARAMETERS:
        numeric = isinstance(spec.default, float | list)
        desc = spec.description
        if spec.choices:
            desc += f" [choices: {', '.join(spec.choices)}]"
        descriptor = ParameterDescriptor(
            description=desc,
            read_only=True,
            # Doubles/arrays: accept 1 as well as 1.0 and coerce below; others: exact type.
            dynamic_typing=numeric,
        )
        try:
            param = node.declare_parameter(spec.name, spec.default, descriptor)
        except InvalidParameterTypeException as e:
            raise ParameterError(
                f"parameter {spec.name} must be {_type_name(spec.default)} ({e})"
            ) from None
        value = param.value
        if param.type_ == Parameter.Type.NOT_SET:
            value = None
        values[spec.name] = value
    return NodeParams.from_dict(values)
