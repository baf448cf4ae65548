"""``NodeParams``: the validated parameters of ``sccosf_node``, derived from the table.

The table (``pipeline.param_table.PARAMETERS``) defines every parameter; ``NodeParams`` is a
frozen dataclass built from it (one field per row, the dotted name with ``_``: ``sync.slop`` →
``sync_slop``), so adding a parameter is a table row plus its use. ``NodeParams.from_dict``
validates without ROS (types and ranges from the table, the cross-parameter rules in
``validate``); ``sccosf_ros.ros.params.declare_and_read(node)`` declares the same rows on a real
rclpy node; ``read_params_files`` reads the node's own ``ros__parameters`` YAML files (what
``--params-file`` and ``ros2 launch`` take), so ``sccosf bag-eval --params-file`` runs the
pipeline exactly as the live node would.

A value of the wrong type or range raises ``ParameterError`` with the parameter's name and what
to write instead. The node turns that into one error line and exit code 2.
"""

from __future__ import annotations

import math
from dataclasses import fields, make_dataclass, replace
from pathlib import Path
from typing import Any

from sccosf_ros.pipeline.param_table import (
    DEVICES_HELP,
    LIVE_PARAMETERS,
    NODE_NAME,
    PARAMETERS,
    RELIABILITIES,
    SPECS,
    ParameterError,
    check_range,
    coerce,
)
from sccosf_ros.pipeline.params_file import read_params_file, write_params_file
from sccosf_ros.thermal import ThermalNorm

__all__ = [
    "NODE_NAME",
    "PARAMETERS",
    "RELIABILITIES",
    "SPECS",
    "NodeParams",
    "ParameterError",
    "read_params_file",
    "read_params_files",
    "write_params_file",
]


class _NodeParamsMethods:
    """Construction, validation and derived values of ``NodeParams`` (its fields: the table)."""

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
            kw[spec.attr] = coerce(spec, values.get(spec.name, spec.default))
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
            if name not in LIVE_PARAMETERS and coerce(SPECS[name], value) != getattr(
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
        """The table's ranges, then the rules that involve several parameters."""
        for spec in PARAMETERS:
            check_range(spec, getattr(self, spec.attr))
        if not self.device.strip():
            raise ParameterError(
                f"parameter device = {self.device!r} is invalid: use {DEVICES_HELP}"
            )
        h, w = self.inference_height, self.inference_width
        if (h == 0) != (w == 0):
            raise ParameterError(
                f"parameter inference.height = {h} is invalid: inference.height and "
                f"inference.width must both be 0 (native) or both > 0, got {h}x{w}"
            )
        self._validate_thermal()
        if self.registration_homography:
            from sccosf_ros.registration import parse_homography

            try:
                parse_homography(self.registration_homography)
            except ValueError as e:
                raise ParameterError(f"parameter registration.homography: {e}") from None

    def _validate_thermal(self) -> None:
        w = self.thermal_window_c
        if len(w) != 2 or not all(map(math.isfinite, w)) or not w[0] < w[1]:
            raise ParameterError(
                f"parameter thermal.window_c = {list(w)} is invalid: must be [low, high] "
                "degrees C with low < high, e.g. [-10.0, 40.0]"
            )
        try:
            _ = self.thermal_crop_px
        except ValueError as e:
            crop = list(self.thermal_crop)
            raise ParameterError(f"parameter thermal.crop = {crop} is invalid: {e}") from None
        try:
            self.thermal_norm(ThermalNorm())
        except ValueError as e:
            raise ParameterError(f"thermal.* parameters are invalid: {e}") from None

    # ------------------------------------------------------------------ derived values
    @property
    def thermal_crop_px(self) -> tuple[int, int, int, int]:
        """thermal.crop as whole pixels (top, bottom, left, right); ValueError when it is not."""
        c = self.thermal_crop or (0.0, 0.0, 0.0, 0.0)  # [] / [0.0]: no crop
        if len(c) != 4 or not all(math.isfinite(v) and v >= 0 and v == int(v) for v in c):
            raise ValueError(
                "must be 4 whole numbers >= 0, [top, bottom, left, right] pixels, e.g. "
                "[0, 2, 0, 0]"
            )
        return tuple(int(v) for v in c)  # type: ignore[return-value]

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

    def thermal_norm(self, checkpoint: ThermalNorm | None = None) -> ThermalNorm | None:
        """The ThermalNorm the parameters ask for; None = keep the checkpoint's as it is.

        With ``thermal.normalization = checkpoint`` and ``checkpoint`` (the checkpoint's norm)
        given, units other than ``counts`` (or a ``thermal.scale``) describe the camera and
        replace the checkpoint's; its mode and window stay.
        """
        units = {
            "units": self.thermal_units,
            "scale": self.thermal_scale,
            "offset": self.thermal_offset,
        }
        if self.thermal_normalization == "checkpoint":
            if checkpoint is None or (self.thermal_units == "counts" and self.thermal_scale == 0):
                return None
            return replace(checkpoint, **units)
        return ThermalNorm(
            mode=self.thermal_normalization,
            low=self.thermal_low,
            high=self.thermal_high,
            percentile_low=self.thermal_percentile_low,
            percentile_high=self.thermal_percentile_high,
            window_low=self.thermal_window_c[0],
            window_high=self.thermal_window_c[1],
            **units,
        )


# The dataclass itself: one frozen field per table row, in table order.
NodeParams = make_dataclass(
    "NodeParams",
    [(spec.attr, spec.type) for spec in PARAMETERS],
    bases=(_NodeParamsMethods,),
    frozen=True,
)
NodeParams.__module__ = __name__
NodeParams.__doc__ = (
    "The validated parameters of ``sccosf_node`` (attribute = dotted name with ``_``); "
    "fields: " + ", ".join(f.name for f in fields(NodeParams))
)


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
