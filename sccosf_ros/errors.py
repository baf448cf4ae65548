"""The one root of every error a user can cause: ``SccosfError``.

A user-facing error carries a one-line message that says what to fix, and the exit code the
``sccosf`` command (and the node executables) return for it. ``sccosf_ros.cli.main`` catches
``SccosfError`` once and prints ``sccosf <command>: error: <message>``; commands never list
exception tuples. Domain errors also derive from the builtin they replace (``ValueError``,
``RuntimeError``) so library callers that caught those keep working.
"""

from __future__ import annotations

EXIT_USAGE = 2  # what argparse returns for bad arguments; the same for every bad input


class SccosfError(Exception):
    """A one-line, user-facing error (bad input, checkpoint, config, dataset or machine)."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str = "", *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        """The first line only: a user sees one line, never a traceback."""
        text = str(self) or type(self).__name__
        return text.splitlines()[0] if text else text
