"""The errors of a training run: what the user changes, and the exit code of `sccosf train`."""

from __future__ import annotations

from sccosf_ros.errors import SccosfError


class TrainError(SccosfError, RuntimeError):
    """A training run that cannot start or continue; the message says what to change."""


class TrainDataError(TrainError):
    """A sample failed to load during training (``latest.pt`` was saved first)."""


class DamagedDatasetError(TrainDataError):
    """The check before step 1 found damaged samples: one line each after the error line.

    The only multi-line user error: the list is what to fix, as ``sccosf check-dataset`` prints.
    """

    @property
    def message(self) -> str:
        return str(self)


class NonFiniteLossError(TrainError):
    """The loss became NaN or infinite: the run failed (exit 1), not the input."""

    exit_code = 1
