"""Declaring ``sccosf_node``'s parameters on a real rclpy node, from the parameter table
(``sccosf_ros.pipeline.param_table``, shared with the ROS-free tools).

Each row becomes one declaration whose ``ParameterDescriptor`` carries the row's description
(with its choices or range and "live"/"read-only"), its numeric range (``ros2 param describe``
and rqt show it; rclpy refuses values outside it) and ``read_only`` for the rows that are not
live. Live ones are writable (``ros2 param set``; the node validates the whole candidate set with
``NodeParams.updated`` and uses it from the next pair on).
"""

from __future__ import annotations

import sys
from typing import Any

from sccosf_ros.pipeline.param_table import (
    LIVE_NOTE,
    PARAMETERS,
    READ_ONLY_NOTE,
    ParameterError,
    ParamSpec,
    check_range,
    coerce,
    type_name,
)
from sccosf_ros.pipeline.params import NodeParams

__all__ = [
    "LIVE_NOTE",
    "READ_ONLY_NOTE",
    "changes_of",
    "declare",
    "declare_and_read",
    "descriptor",
]

INT64_MAX = 2**63 - 1


def descriptor(spec: ParamSpec, with_range: bool = True) -> Any:
    """The rcl_interfaces ``ParameterDescriptor`` of one table row."""
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    kw: dict[str, Any] = {}
    lo, hi = spec.minimum, spec.maximum
    if with_range and (lo is not None or hi is not None):
        # ROS ranges are inclusive: "> 0" is declared as 0.. and refused by NodeParams.
        if isinstance(spec.default, int) and not isinstance(spec.default, bool):
            low = int(lo) if lo is not None else -INT64_MAX - 1
            high = int(hi) if hi is not None else INT64_MAX
            kw["integer_range"] = [IntegerRange(from_value=low, to_value=high, step=0)]
        elif isinstance(spec.default, float):
            low = float(lo) if lo is not None else -sys.float_info.max
            high = float(hi) if hi is not None else sys.float_info.max
            kw["floating_point_range"] = [
                FloatingPointRange(from_value=low, to_value=high, step=0.0)
            ]
    return ParameterDescriptor(
        description=spec.summary(),
        read_only=not spec.live,
        additional_constraints=LIVE_NOTE if spec.live else READ_ONLY_NOTE,
        # Doubles/arrays: accept 1 as well as 1.0 and coerce below; others: exact type.
        dynamic_typing=isinstance(spec.default, float | list),
        **kw,
    )


def _declare_one(node: Any, spec: ParamSpec) -> Any:
    """Declare one row; its value, or ParameterError saying what to write instead."""
    from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
    from rclpy.parameter import Parameter

    try:
        param = node.declare_parameter(spec.name, spec.default, descriptor(spec))
    except InvalidParameterTypeException as e:
        raise ParameterError(
            f"parameter {spec.name} must be {type_name(spec.default)} ({e})"
        ) from None
    except InvalidParameterValueException:
        # Outside the descriptor's range: declare without it to read the value and refuse it
        # with the table's own message (the node exits anyway).
        param = node.declare_parameter(spec.name, spec.default, descriptor(spec, False))
        check_range(spec, coerce(spec, param.value))
    return None if param.type_ == Parameter.Type.NOT_SET else param.value


def declare(node: Any) -> dict[str, Any]:
    """Declare every parameter on ``node`` (rclpy Node); their values, not yet validated.

    Raises ParameterError for a value of the wrong type or out of range (from a YAML file or
    ``-p``).
    """
    return {spec.name: _declare_one(node, spec) for spec in PARAMETERS}


def declare_and_read(node: Any) -> NodeParams:
    """Declare every parameter on ``node`` and return them validated (ParameterError if not)."""
    return NodeParams.from_dict(declare(node))


def changes_of(parameters: list[Any]) -> dict[str, Any]:
    """The node's own parameters among rclpy ``Parameter`` objects being set: name → value."""
    from rclpy.parameter import Parameter

    known = {spec.name for spec in PARAMETERS}
    return {
        p.name: (None if p.type_ == Parameter.Type.NOT_SET else p.value)
        for p in parameters
        if p.name in known
    }
