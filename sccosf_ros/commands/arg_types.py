"""Moved to :mod:`sccosf_ros.arg_types` (a basic module every layer may use); re-exported here
for the commands that still import it from this path."""

from sccosf_ros.arg_types import (
    DefaultsHelp,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    size_hw,
)

__all__ = [
    "DefaultsHelp",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "size_hw",
]
