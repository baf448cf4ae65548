"""argparse converters: in-range values pass, everything else is an ArgumentTypeError."""

from __future__ import annotations

import argparse

import pytest

from sccosf_ros import arg_types as t


def test_values_in_range():
    assert t.positive_int("3") == 3 and t.non_negative_int("0") == 0
    assert t.positive_float("0.5") == 0.5 and t.non_negative_float("0") == 0.0
    assert t.size_hw("480x640") == (480, 640) and t.size_hw("4X6") == (4, 6)


@pytest.mark.parametrize(
    ("convert", "text"),
    [
        (t.positive_int, "0"),
        (t.positive_int, "1.5"),
        (t.non_negative_int, "-1"),
        (t.positive_float, "0"),
        (t.positive_float, "nan"),
        (t.non_negative_float, "-3"),
        (t.non_negative_float, "inf"),
        (t.size_hw, "0x5"),
        (t.size_hw, "480"),
    ],
)
def test_values_out_of_range_are_refused(convert, text):
    with pytest.raises(argparse.ArgumentTypeError):
        convert(text)
