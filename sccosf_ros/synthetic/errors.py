"""The synthetic writers' user-facing errors (``SccosfError``: one line, exit code 2).

Each keeps the builtin it replaces as a second base, so callers that caught ``ValueError`` or
``FileExistsError`` keep working.
"""

from __future__ import annotations

from sccosf_ros.errors import SccosfError


class SyntheticError(SccosfError, ValueError):
    """A synthetic setting out of range, or a synth metadata file that cannot be read."""


class DatasetExistsError(SccosfError, FileExistsError):
    """The output folder holds something ``sccosf synth`` must not write over."""


class SyntheticWriteError(SccosfError, OSError):
    """A rendered image that could not be written (folder not writable, disk full)."""
