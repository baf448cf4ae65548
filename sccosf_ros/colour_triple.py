"""A colour written as three numbers ``[r, g, b]``: the one check every file that holds colours
goes through (``classes.yaml``'s class colours, integers 0-255; a synthetic style's albedos,
0-1, and its light tint, 0-3).

Each caller keeps its own error type (``ClassSetError``, ``StyleError``, ...) so that ``cli.main``
prints the one line its command's users know; the message names ``where`` (the file and key)
and the value found.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from sccosf_ros.errors import SccosfError


def _number(v: Any, integers: bool) -> bool:
    """An int (``integers``) or a finite real; never a bool (YAML's ``yes`` is not 1)."""
    if isinstance(v, bool):
        return False
    if integers:
        return isinstance(v, numbers.Integral)
    return isinstance(v, numbers.Real) and math.isfinite(v)


def check_colour_triple(
    value: Any,
    where: str,
    error: type[SccosfError],
    *,
    hi: float = 255,
    integers: bool = True,
) -> None:
    """Raise ``error`` unless ``value`` is a list or tuple of three numbers in ``[0, hi]``
    (integers when ``integers``); the message names ``where`` and the bad value."""
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(_number(v, integers) and 0 <= v <= hi for v in value)
    )
    if not ok:
        kind = "integers" if integers else "numbers"
        raise error(f"{where} must be [r, g, b] with {kind} 0-{hi:g}, got {value!r}")
