"""Training errors: one root (SccosfError), the builtin they replaced, their exit codes."""

from __future__ import annotations

from sccosf_ros.errors import SccosfError
from sccosf_ros.training.errors import (
    DamagedDatasetError,
    NonFiniteLossError,
    TrainDataError,
    TrainError,
)
from sccosf_ros.training.plan import PlanError
from sccosf_ros.training.recipes import RecipeError
from sccosf_ros.training.time_estimate import EstimateError


def test_every_training_error_is_a_sccosf_error_and_its_old_builtin():
    assert issubclass(TrainError, SccosfError) and issubclass(TrainError, RuntimeError)
    assert issubclass(TrainDataError, TrainError)
    for cls in (PlanError, RecipeError, EstimateError):
        assert issubclass(cls, SccosfError) and issubclass(cls, ValueError), cls


def test_exit_codes_bad_input_2_failed_run_1():
    assert TrainError("x").exit_code == 2 and TrainDataError("x").exit_code == 2
    assert NonFiniteLossError("loss became non-finite").exit_code == 1


def test_damaged_dataset_lists_every_sample_after_the_error_line():
    e = DamagedDatasetError("the dataset has damaged samples:\n  a.png: truncated\n  b.png: x")
    assert e.message.splitlines() == [
        "the dataset has damaged samples:",
        "  a.png: truncated",
        "  b.png: x",
    ]
    assert TrainDataError("one\ntwo").message == "one"  # every other error: one line
