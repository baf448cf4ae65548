"""The calibration's one user-facing error (a ``SccosfError``: one line, exit code 2)."""

from __future__ import annotations

from typing import Any

from sccosf_ros.errors import SccosfError


class CalibrationError(SccosfError, ValueError):
    """Calibration cannot give a trustworthy homography, or its input or options are wrong;
    the message says what to do. ``pairs``: the per-pair results so far (``PairResult``), when
    it failed for too few usable pairs, for the command to list above the one-line error."""

    def __init__(self, message: str = "", *, pairs: list[Any] | None = None) -> None:
        super().__init__(message)
        self.pairs = list(pairs or [])
