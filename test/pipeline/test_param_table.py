"""The parameter table is the one source: NodeParams, the live set, ranges and launch values
all derive from its rows."""

from __future__ import annotations

import math
from dataclasses import fields

import pytest

from sccosf_ros.errors import SccosfError
from sccosf_ros.pipeline.param_table import (
    LIVE_PARAMETERS,
    PARAMETERS,
    SPECS,
    ParameterError,
    ParamSpec,
    check_range,
    coerce,
    launch_arguments,
    launch_value,
)
from sccosf_ros.pipeline.params import NodeParams


def test_every_parameter_is_described_and_its_default_is_valid():
    assert len(SPECS) == len(PARAMETERS)  # no name twice
    for spec in PARAMETERS:
        assert len(spec.description) > 15, spec.name
        assert coerce(spec, spec.default) is not None, spec.name
        if spec.choices:
            assert spec.default in spec.choices, spec.name
        if not isinstance(spec.default, list):
            check_range(spec, coerce(spec, spec.default))


def test_node_params_fields_are_the_table_rows():
    got = [(f.name, f.type) for f in fields(NodeParams)]
    assert got == [(s.attr, s.type) for s in PARAMETERS]
    defaults = NodeParams.defaults()
    for spec in PARAMETERS:
        value = getattr(defaults, spec.attr)
        assert isinstance(value, spec.type), spec.name
    assert NodeParams.__module__ == "sccosf_ros.pipeline.params"


def test_live_set_is_the_live_rows():
    assert {s.name for s in PARAMETERS if s.live} == LIVE_PARAMETERS
    assert "sync.slop" in LIVE_PARAMETERS and "checkpoint" not in LIVE_PARAMETERS
    assert "(live" in SPECS["sync.slop"].summary() and "restart" in SPECS["device"].summary()


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("sync.slop", 0.0, False),  # "> 0"
        ("sync.slop", 1e-6, True),
        ("sync.slop", math.nan, False),
        ("sync.jump_reset", 0.0, True),  # ">= 0"
        ("overlay_alpha", 1.0, True),
        ("overlay_alpha", math.inf, False),
        ("publish.jpeg_quality", 101, False),
        ("diagnostics.window", 0, False),
        ("thermal.low", -1e9, True),  # no range
    ],
)
def test_ranges_come_from_the_table(name, value, ok):
    spec = SPECS[name]
    if ok:
        check_range(spec, value)
    else:
        with pytest.raises(ParameterError, match=name.replace(".", r"\.")):
            check_range(spec, value)


def test_range_text_and_hint():
    assert SPECS["publish.jpeg_quality"].range_text() == "1..100"
    assert SPECS["sync.slop"].range_text() == "> 0"
    assert SPECS["input_qos.reliability"].range_text() == "best_effort | reliable"
    with pytest.raises(ParameterError, match=r"must be > 0 \(a number of seconds, e\.g\. 0\.05\)"):
        check_range(SPECS["sync.slop"], -1.0)


def test_a_new_row_is_a_new_parameter_everywhere():
    """What "one place" means: a row's name reaches launch arguments and types."""
    row = ParamSpec("sync.extra_margin", 0.5, "an example row for this test", minimum=0.0)
    assert row.attr == "sync_extra_margin" and row.type is float and row.range_text() == ">= 0"
    assert launch_value("sync_extra_margin", row, "2") == 2.0
    assert set(launch_arguments()) == {s.attr for s in PARAMETERS}


def test_launch_values_are_typed_as_declared():
    assert launch_value("publish_fused", SPECS["publish.fused"], "Yes") is True
    assert launch_value("publish_fused", SPECS["publish.fused"], "off") is False
    assert launch_value("inference_height", SPECS["inference.height"], " 64 ") == 64
    assert launch_value("device", SPECS["device"], "cuda:1") == "cuda:1"
    hom = SPECS["registration.homography"]
    assert launch_value("registration_homography", hom, "") == [0.0]
    with pytest.raises(ParameterError, match="whole number"):
        launch_value("inference_height", SPECS["inference.height"], "1.5")


def test_errors_derive_from_the_error_root():
    assert issubclass(ParameterError, SccosfError) and issubclass(ParameterError, ValueError)
    from sccosf_ros.pipeline.processor import StartupError

    assert issubclass(StartupError, SccosfError) and issubclass(StartupError, RuntimeError)
    assert ParameterError("a\nb").exit_code == 2
