"""The table of ``sccosf_node``'s parameters: the one place a parameter is defined.

Each ``ParamSpec`` row gives a parameter's dotted name, its default (whose Python type is the
parameter's ROS type: bool, int, float, list of floats or str), its description, the allowed
choices or range, and whether ``ros2 param set`` may change it while the node runs (``live``) or
it is read-only ("restart to change"). Everything else derives from the rows:

- ``NodeParams`` (``pipeline.params``): its fields (dots become ``_``), type and range checks;
- the ROS declarations (``ros.params``): descriptor text, ranges, ``read_only``;
- the live set ``LIVE_PARAMETERS``;
- the launch file's override arguments (``launch_arguments``, ``launch_value``);
- ``config/sccosf.yaml`` (``pipeline.params_file.render_defaults``, written by
  ``sccosf params --write-defaults``; a test fails when the file and the table differ).

Checks that involve several parameters (inference.height with inference.width, the thermal
normalisation, the homography) are code in ``NodeParams.validate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sccosf_ros.backends import BACKEND_CHOICES
from sccosf_ros.device import DEVICES_HELP
from sccosf_ros.errors import SccosfError
from sccosf_ros.precision import PRECISION_CHOICES
from sccosf_ros.thermal import DEFAULT_WINDOW_C, UNITS
from sccosf_ros.thermal import MODES as THERMAL_MODES

NODE_NAME = "sccosf"  # the node's name: parameter files address it by it
RELIABILITIES = ("best_effort", "reliable")
THERMAL_NORMALIZATIONS = ("checkpoint", *THERMAL_MODES)
NAN_POLICIES = ("zero", "reject")
TRANSPORTS = ("raw", "compressed")  # image_transport names: <topic> or <topic>/compressed
READ_ONLY_NOTE = "read-only: restart to change"
LIVE_NOTE = "live: ros2 param set applies it from the next pair"


class ParameterError(SccosfError, ValueError):
    """A parameter value the node cannot run with; the message says what to write instead."""


@dataclass(frozen=True)
class ParamSpec:
    """One ROS parameter of the node (see the module docstring for what derives from it).

    ``minimum``/``maximum`` bound a number (inclusive; ``above`` makes the minimum exclusive,
    "> 0"); ``hint`` is appended to the range error ("e.g. 0.05").
    """

    name: str
    default: Any
    description: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    above: bool = False
    live: bool = False
    hint: str = ""

    @property
    def attr(self) -> str:
        """The NodeParams field and the launch argument: the dotted name with ``_``."""
        return self.name.replace(".", "_")

    @property
    def type(self) -> type:
        """The Python type of the validated value (a tuple of floats for number lists)."""
        d = self.default
        return tuple if isinstance(d, list) else type(d)

    def range_text(self) -> str:
        """The allowed values in words ("" when any value of the type goes)."""
        if self.choices:
            return " | ".join(self.choices)
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"{lo:g}..{hi:g}"
        if lo is not None:
            return f"{'>' if self.above else '>='} {lo:g}"
        if hi is not None:
            return f"<= {hi:g}"
        return ""

    def summary(self, short: bool = False) -> str:
        """Description, allowed values and live/read-only: for ROS descriptors, and ``short``
        (notes "live" / "restart") for the comments of config/sccosf.yaml."""
        text = self.description
        if self.range_text():
            text += f" [{self.range_text()}]"
        if short:
            return f"{text} ({'live' if self.live else 'restart'})"
        return f"{text} ({LIVE_NOTE if self.live else READ_ONLY_NOTE})"


def _p(name: str, default: Any, description: str, **kw: Any) -> ParamSpec:
    return ParamSpec(name, default, description, **kw)


# Grouped by the first part of the name: config/sccosf.yaml nests them in this order.
PARAMETERS: tuple[ParamSpec, ...] = (
    _p(
        "checkpoint",
        "",
        "SC-CoSF checkpoint file (.pt from `sccosf train`); empty = $SCCOSF_CHECKPOINT or "
        "the shipped models/sccosf_nano_synthetic.pt",
    ),
    _p("device", "auto", f"torch device: {DEVICES_HELP} (auto = cuda when available)"),
    _p("num_threads", 0, "torch CPU threads for inference; 0 = torch's default", minimum=0),
    _p(
        "inference.height",
        0,
        "height the network runs at (results are resized back to the RGB size); 0 together "
        "with inference.width = 0 runs at the native size",
        minimum=0,
        live=True,
    ),
    _p(
        "inference.width",
        0,
        "width the network runs at; 0 = native (see inference.height)",
        minimum=0,
        live=True,
    ),
    _p(
        "inference.max_pixels",
        640 * 480,
        "largest image area (pixels) the network runs at natively: larger inputs run "
        "downscaled (aspect kept) and the results are resized back; 0 = always native. "
        "Applies when inference.height/width are 0; a fixed size set there wins",
        minimum=0,
        live=True,
        hint="0 = native size, e.g. 307200 for 640x480",
    ),
    _p(
        "sync.slop",
        0.05,
        "approximate-time sync: largest stamp difference in seconds between an RGB and a "
        "thermal image of one pair",
        minimum=0.0,
        above=True,
        live=True,
        hint="a number of seconds, e.g. 0.05",
    ),
    _p(
        "sync.queue_size",
        10,
        "approximate-time sync: messages kept per input while waiting for a partner; must "
        "cover fast rate x latency difference",
        minimum=1,
        live=True,
    ),
    _p(
        "sync.jump_reset",
        1.0,
        "reset the pairing when an input's stamp goes back by more than this many seconds "
        "(bag loop, driver restart, clock reset) or sim time jumps back; 0 = never (the "
        "message_filters behaviour: no pair until the new stamps pass the old ones)",
        minimum=0.0,
        live=True,
        hint="seconds, 0 = never reset",
    ),
    _p(
        "input_qos.reliability",
        "best_effort",
        "QoS reliability of the two image subscriptions; best_effort matches camera "
        "drivers (sensor data QoS)",
        choices=RELIABILITIES,
    ),
    _p("input_qos.depth", 5, "QoS history depth of the two image subscriptions", minimum=1),
    _p(
        "output_qos.reliability",
        "reliable",
        "QoS reliability of the output images",
        choices=RELIABILITIES,
    ),
    _p("output_qos.depth", 2, "QoS history depth of the output images", minimum=1),
    _p(
        "thermal.normalization",
        "checkpoint",
        "raw thermal -> [0,1]: checkpoint (what the checkpoint was trained with) | auto "
        "(uint8 /255, else percentile) | minmax | percentile | fixed (thermal.low.."
        "thermal.high raw counts) | temperature (thermal.window_c in degrees C, values read "
        "as thermal.units)",
        choices=THERMAL_NORMALIZATIONS,
        live=True,
    ),
    _p("thermal.low", 0.0, "fixed normalisation: raw value that maps to 0", live=True),
    _p(
        "thermal.high",
        65535.0,
        "fixed normalisation: raw value that maps to 1 (> thermal.low)",
        live=True,
    ),
    _p(
        "thermal.percentile_low",
        1.0,
        "percentile normalisation: lower percentile (0..100; checked in percentile mode)",
        live=True,
    ),
    _p(
        "thermal.percentile_high",
        99.0,
        "percentile normalisation: upper percentile (0..100, > thermal.percentile_low)",
        live=True,
    ),
    _p(
        "thermal.units",
        "counts",
        "what the thermal values are: counts (raw, no fixed meaning; with thermal.scale for "
        "temperature) | centikelvin (K x 100: Lepton TLinear, radiometric Boson) | decikelvin "
        "(K x 10) | kelvin | celsius (32FC1 drivers); with normalization checkpoint, anything "
        "but counts replaces the checkpoint's units",
        choices=tuple(UNITS),
        live=True,
    ),
    _p(
        "thermal.scale",
        0.0,
        "thermal.units counts: degrees C = value x scale + offset (0 = counts are no "
        "temperature); ignored for the named units",
        live=True,
    ),
    _p("thermal.offset", 0.0, "thermal.units counts: see thermal.scale", live=True),
    _p(
        "thermal.window_c",
        list(DEFAULT_WINDOW_C),
        "temperature normalisation: [low, high] degrees C mapped to 0..1 (low < high); the "
        "default suits street scenes (people in the upper third, engines saturate)",
        live=True,
    ),
    _p(
        "thermal.crop",
        [0.0, 0.0, 0.0, 0.0],
        "[top, bottom, left, right] pixels cut off the thermal image before anything else "
        "(telemetry rows, masked borders; Boson raw 640x514: [0, 2, 0, 0]); "
        "registration.homography refers to the cropped image",
        live=True,
    ),
    _p(
        "thermal.ffc.frozen",
        False,
        "skip a thermal frame bit-identical to the previous one (a camera frozen during its "
        "flat-field correction); off by default because a still image published in a loop is "
        "identical too; counted in /diagnostics",
        live=True,
    ),
    _p(
        "thermal.ffc.min_spread",
        0.5,
        "skip a near-uniform thermal frame (closed shutter during flat-field correction): its "
        "p99 - p1 range below this many kelvin, values read as thermal.units (no units: 16-bit "
        "0.01 K, float 1 K, 8-bit 0.05 K per level); 0 = off; counted in /diagnostics",
        minimum=0.0,
        live=True,
        hint="kelvin, e.g. 0.5; 0 = off",
    ),
    _p(
        "thermal.nan_policy",
        "zero",
        "NaN/Inf pixels in float (32FC1) thermal: zero = left out of the range estimate and "
        "drawn as the coldest value (counted in /diagnostics) | reject = drop the pair as "
        "malformed",
        choices=NAN_POLICIES,
        live=True,
    ),
    _p(
        "thermal.min_valid",
        0.5,
        "float (32FC1) thermal: smallest fraction of finite pixels; a frame with fewer (or "
        "none) is rejected as malformed",
        minimum=0.0,
        maximum=1.0,
        live=True,
        hint="a fraction, e.g. 0.5",
    ),
    _p(
        "registration.homography",
        [0.0],
        "3x3 homography, 9 numbers row-major, mapping thermal pixel coordinates onto RGB "
        "pixel coordinates; [] or [0.0] = the images are already registered (then RGB and "
        "thermal must have the same size; ROS YAML cannot hold an empty list)",
        live=True,
    ),
    _p(
        "overlay_alpha",
        0.5,
        "opacity of the class colours in ~/overlay",
        minimum=0.0,
        maximum=1.0,
        live=True,
    ),
    _p("publish.fused", True, "publish ~/fused (rgb8 fused image)", live=True),
    _p(
        "publish.segmentation",
        True,
        "publish ~/segmentation (mono8 class ids, 255 = unlabeled)",
        live=True,
    ),
    _p("publish.segmentation_color", True, "publish ~/segmentation_color (rgb8)", live=True),
    _p("publish.overlay", True, "publish ~/overlay (rgb8 classes over the RGB image)", live=True),
    _p(
        "publish.compressed",
        False,
        "also publish ~/overlay/compressed, ~/fused/compressed and "
        "~/segmentation_color/compressed (JPEG CompressedImage, for viewing over Wi-Fi)",
        live=True,
    ),
    _p(
        "publish.jpeg_quality",
        80,
        "JPEG quality of the ~/<output>/compressed topics",
        minimum=1,
        maximum=100,
        live=True,
    ),
    _p(
        "diagnostics.period",
        1.0,
        "seconds between /diagnostics messages",
        minimum=0.0,
        above=True,
        live=True,
        hint="seconds",
    ),
    _p(
        "diagnostics.stall_timeout",
        2.0,
        "WARN in /diagnostics when an input has sent nothing, or both arrive but no pair "
        "formed, for this many seconds",
        minimum=0.0,
        above=True,
        live=True,
        hint="seconds",
    ),
    _p(
        "diagnostics.hold",
        5.0,
        "a fault (rejected input, stalled stream, no pair forming, model failure) keeps its "
        "/diagnostics status WARN for this many seconds after it last occurred",
        minimum=0.0,
        above=True,
        live=True,
        hint="seconds",
    ),
    _p(
        "diagnostics.window",
        200,
        "number of recent pairs the latency percentiles are computed over",
        minimum=1,
    ),
    _p(
        "rgb_transport",
        "raw",
        "RGB input: raw = sensor_msgs/Image on rgb/image_raw | compressed = "
        "sensor_msgs/CompressedImage (JPEG/PNG) on rgb/image_raw/compressed, as "
        "image_transport names it",
        choices=TRANSPORTS,
    ),
    _p(
        "thermal_transport",
        "raw",
        "thermal input: raw | compressed (thermal/image_raw/compressed; 16-bit PNG keeps the "
        "raw counts)",
        choices=TRANSPORTS,
    ),
    _p(
        "precision",
        "auto",
        "precision the network runs in: auto = bf16 on OpenVINO where the CPU has AMX/AVX-512 "
        "BF16 and the bf16 model meets the parity bar (checked once per model, cached in "
        "backend.cache_dir), else fp32; torch: autocast (half precision mainly pays on a GPU; "
        "the selective scan keeps float32 states); openvino: fp32 or bf16; tensorrt: fp32 or "
        "fp16; onnxruntime: fp32",
        choices=PRECISION_CHOICES,
    ),
    _p(
        "backend",
        "auto",
        "inference runtime: auto = tensorrt on an NVIDIA GPU when installed, else torch on "
        "CUDA, openvino on an x86 CPU when installed, else onnxruntime, else torch | torch "
        "(eager) | onnxruntime | openvino (CPU) | tensorrt (CUDA); the non-torch ones export "
        "the checkpoint to ONNX once per input size into backend.cache_dir",
        choices=BACKEND_CHOICES,
    ),
    _p(
        "backend.cache_dir",
        "",
        "folder for exported ONNX graphs and TensorRT engines; empty = "
        "$XDG_CACHE_HOME/sccosf_ros (~/.cache/sccosf_ros)",
    ),
    _p(
        "web.enable",
        False,
        "serve the live web view (page, MJPEG streams, /api/status) from the node's process",
    ),
    _p("web.port", 8080, "TCP port of the web view; 0 = any free port", minimum=0, maximum=65535),
    _p(
        "web.bind",
        "127.0.0.1",
        "address the web view listens on: 127.0.0.1 = this machine only, 0.0.0.0 = every "
        "network of the robot (no authentication: trusted networks only)",
    ),
    _p("web.max_fps", 10.0, "most frames per second per stream", minimum=0.0, above=True),
    _p("web.quality", 80, "JPEG quality of the web view's frames", minimum=1, maximum=100),
    _p(
        "web.max_clients",
        20,
        "most MJPEG streams served at once (the page shows 5); past it a polite 503",
        minimum=1,
    ),
)

SPECS: dict[str, ParamSpec] = {s.name: s for s in PARAMETERS}

# Parameters ``ros2 param set`` may change while the node runs (validated by the same rules as
# at start, used from the next pair on); every other one is read-only ("restart to change").
LIVE_PARAMETERS: frozenset[str] = frozenset(s.name for s in PARAMETERS if s.live)


# --------------------------------------------------------------------------- values
def type_name(default: Any) -> str:
    """What a value of ``default``'s type is called in error messages."""
    if isinstance(default, bool):
        return "a boolean (true/false)"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, list):
        return "a list of numbers"
    return "a string"


def coerce(spec: ParamSpec, value: Any) -> Any:
    """A raw parameter value → the spec's Python type, or ParameterError naming the fix.

    Doubles accept integers (``-p sync.slop:=1``) because a ROS user writes them that way.
    """
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


def check_range(spec: ParamSpec, value: Any) -> None:
    """ParameterError when a number lies outside the spec's range (NaN/inf included)."""
    if spec.minimum is None and spec.maximum is None:
        return
    ok = math.isfinite(value)
    if spec.minimum is not None:
        ok = ok and (value > spec.minimum if spec.above else value >= spec.minimum)
    if spec.maximum is not None:
        ok = ok and value <= spec.maximum
    if not ok:
        lo, hi = spec.minimum, spec.maximum
        what = f"within {lo:g}..{hi:g}" if lo is not None and hi is not None else spec.range_text()
        hint = f" ({spec.hint})" if spec.hint else ""
        raise ParameterError(f"parameter {spec.name} = {value!r} is invalid: must be {what}{hint}")


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


# --------------------------------------------------------------------------- launch arguments
TRUE_WORDS = ("true", "1", "yes", "on")


def launch_arguments() -> dict[str, ParamSpec]:
    """Launch argument name → parameter: every parameter, dots written as ``_``."""
    return {spec.attr: spec for spec in PARAMETERS}


def launch_value(arg: str, spec: ParamSpec, text: str) -> Any:
    """A non-empty launch argument's text → the value typed as the node declares it.

    Only the type is checked here (ParameterError, one line in ``ros2 launch``); ranges and
    choices are the node's to refuse, with its own one-line error.
    """
    text = text.strip()
    d = spec.default
    if isinstance(d, bool):
        return text.lower() in TRUE_WORDS
    try:
        if isinstance(d, int):
            return int(text)
        if isinstance(d, float):
            return float(text)
    except ValueError:
        what = "a whole number" if isinstance(d, int) else "a number"
        raise ParameterError(f"launch argument {arg} must be {what}, got {text!r}") from None
    if isinstance(d, list):
        nums = _coerce_numbers(
            text, ParameterError(f"launch argument {arg} must be numbers, got {text!r}")
        )
        return list(nums) or [0.0]
    return text
