"""Declaring ``sccosf_node``'s parameters on a real rclpy node (the table is in
``sccosf_ros.pipeline.params``, shared with the ROS-free tools).

Parameters in ``LIVE_PARAMETERS`` are writable (``ros2 param set``; the node validates the whole
candidate set with ``NodeParams.updated`` and uses it from the next pair on); every other one is
declared read-only and its description ends with "read-only: restart to change".
"""

from __future__ import annotations

from typing import Any

from sccosf_ros.pipeline.params import (
    LIVE_PARAMETERS,
    PARAMETERS,
    NodeParams,
    ParameterError,
    type_name,
)

READ_ONLY_NOTE = "read-only: restart to change"
LIVE_NOTE = "live: ros2 param set applies it from the next pair"


def declare(node: Any) -> dict[str, Any]:
    """Declare every parameter on ``node`` (rclpy Node); their values, not yet validated.

    Raises ParameterError for a value of the wrong type (from a YAML file or ``-p``).
    """
    from rcl_interfaces.msg import ParameterDescriptor
    from rclpy.exceptions import InvalidParameterTypeException
    from rclpy.parameter import Parameter

    values: dict[str, Any] = {}
    for spec in PARAMETERS:
        numeric = isinstance(spec.default, float | list)
        live = spec.name in LIVE_PARAMETERS
        desc = spec.description
        if spec.choices:
            desc += f" [choices: {', '.join(spec.choices)}]"
        desc += f" ({LIVE_NOTE if live else READ_ONLY_NOTE})"
        descriptor = ParameterDescriptor(
            description=desc,
            read_only=not live,
            additional_constraints=LIVE_NOTE if live else READ_ONLY_NOTE,
            # Doubles/arrays: accept 1 as well as 1.0 and coerce below; others: exact type.
            dynamic_typing=numeric,
        )
        try:
            param = node.declare_parameter(spec.name, spec.default, descriptor)
        except InvalidParameterTypeException as e:
            raise ParameterError(
                f"parameter {spec.name} must be {type_name(spec.default)} ({e})"
            ) from None
        value = param.value
        if param.type_ == Parameter.Type.NOT_SET:
            value = None
        values[spec.name] = value
    return values


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
