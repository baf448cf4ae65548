"""Declaring ``sccosf_node``'s parameters on a real rclpy node (the table is in
``sccosf_ros.pipeline.params``, shared with the ROS-free tools)."""

from __future__ import annotations

from typing import Any

from sccosf_ros.pipeline.params import PARAMETERS, NodeParams, ParameterError, type_name


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
                f"parameter {spec.name} must be {type_name(spec.default)} ({e})"
            ) from None
        value = param.value
        if param.type_ == Parameter.Type.NOT_SET:
            value = None
        values[spec.name] = value
    return NodeParams.from_dict(values)
