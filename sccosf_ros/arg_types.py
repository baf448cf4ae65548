"""argparse helpers every command shares: ``type=`` converters for numbers and sizes that must
be in range, and the help formatter that shows useful defaults.

A value out of range is an ``argparse.ArgumentTypeError``: argparse prints the usage and one
``sccosf <command>: error: argument --x: ...`` line and exits 2, before any work starts.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` only where X says something (not None/False, not in the text)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _number(text: str, kind: type, ok: Callable[[float], bool], rule: str) -> float:
    """``text`` as ``kind`` (finite) where ``ok(value)``; else an error saying ``rule``."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return int(_number(text, int, lambda v: v >= 1, "a positive integer"))


def non_negative_int(text: str) -> int:
    return int(_number(text, int, lambda v: v >= 0, ">= 0"))


def positive_float(text: str) -> float:
    return float(_number(text, float, lambda v: v > 0, "> 0"))


def non_negative_float(text: str) -> float:
    return float(_number(text, float, lambda v: v >= 0, ">= 0"))


def size_hw(text: str) -> tuple[int, int]:
    """``HxW`` (e.g. ``480x640``) → (H, W), both positive."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be HxW, e.g. 480x640, got {text!r}") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return h, w
