"""``check_colour_triple``: the one check of ``[r, g, b]`` colours in classes.yaml and styles."""

from __future__ import annotations

import pytest

from sccosf_ros.colour_triple import check_colour_triple
from sccosf_ros.errors import SccosfError


class _Error(SccosfError):
    pass


@pytest.mark.parametrize("value", [[0, 0, 0], (255, 128, 1), [0, 255, 255]])
def test_integer_colours_0_to_255_pass(value):
    check_colour_triple(value, "f.yaml: class 'a': color", _Error)


@pytest.mark.parametrize(
    "value",
    [[1, 2], [1, 2, 3, 4], [0, 0, 256], [-1, 0, 0], [0.5, 0, 0], [True, 0, 0], "red", None, 7],
)
def test_anything_else_is_the_callers_error_naming_key_and_value(value):
    with pytest.raises(_Error) as e:
        check_colour_triple(value, "f.yaml: class 'a': color", _Error)
    msg = str(e.value)
    assert msg == (
        f"f.yaml: class 'a': color must be [r, g, b] with integers 0-255, got {value!r}"
    )


def test_real_colours_take_their_own_upper_bound():
    check_colour_triple((0.2, 1.0, 0.0), "palette.road", _Error, hi=1.0, integers=False)
    check_colour_triple([1, 2.5, 3.0], "lighting.tint", _Error, hi=3.0, integers=False)
    for bad in [(0.2, 1.01, 0.0), (float("nan"), 0.0, 0.0), (float("inf"), 0.0, 0.0)]:
        with pytest.raises(_Error, match=r"palette\.road must be \[r, g, b\] with numbers 0-1, "):
            check_colour_triple(bad, "palette.road", _Error, hi=1.0, integers=False)
