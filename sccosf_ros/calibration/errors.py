"""The calibration's one user-facing error (a ``SccosfError``: one line, exit code 2)."""

from __future__ import annotations

from sccosf_ros.errors import SccosfError


class CalibrationError(SccosfError, ValueError):
    """Calibration cannot give a trustworthy homography, or its input or options are wrong;
    the message says what to do."""
