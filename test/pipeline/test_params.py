"""NodeParams: built from the parameter table, validated, with its derived values."""

from __future__ import annotations

import pytest

from sccosf_ros.pipeline.params import NodeParams, ParameterError


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"sync.slop": 0.0}, "sync.slop"),
        ({"sync.queue_size": 0}, "sync.queue_size"),
        ({"inference.height": 32}, "both be 0"),
        ({"inference.width": -1}, "inference.width"),
        ({"input_qos.reliability": "sometimes"}, "best_effort, reliable"),
        ({"output_qos.depth": 0}, "output_qos.depth"),
        (
            {"thermal.normalization": "fixed", "thermal.low": 10.0, "thermal.high": 5.0},
            "high > low",
        ),
        ({"thermal.normalization": "percentile", "thermal.percentile_high": 150.0}, "percentiles"),
        ({"thermal.nan_policy": "ignore"}, "zero, reject"),
        ({"thermal.units": "fahrenheit"}, "counts, centikelvin, decikelvin, kelvin, celsius"),
        ({"thermal.window_c": [40.0, -10.0]}, "thermal.window_c = [40.0, -10.0] is invalid"),
        ({"thermal.window_c": [20.0, 20.0]}, "low < high"),
        ({"thermal.window_c": [20.0]}, "thermal.window_c"),
        ({"thermal.normalization": "temperature"}, "set the units"),  # counts, no scale
        ({"thermal.crop": [0.0, 2.5, 0.0, 0.0]}, "thermal.crop = [0.0, 2.5, 0.0, 0.0]"),
        ({"thermal.crop": [0.0, -2.0, 0.0, 0.0]}, "whole numbers >= 0"),
        ({"thermal.crop": [0.0, 2.0]}, "[top, bottom, left, right]"),
        ({"registration.homography": [1.0, 0.0]}, "9 numbers"),
        ({"registration.homography": [1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 0.0, 0.0, 1.0]}, "singular"),
        ({"overlay_alpha": 1.5}, "overlay_alpha"),
        ({"diagnostics.period": 0.0}, "diagnostics.period"),
        ({"device": 3}, "must be a string"),
        ({"publish.fused": "yes"}, "boolean"),
        ({"no_such_thing": 1}, "unknown parameter"),
        ({"precision": "fp8"}, "fp32, fp16, bf16"),
    ],
)
def test_invalid_values_raise_a_clear_error(values, needle):
    with pytest.raises(ParameterError) as e:
        NodeParams.from_dict(values)
    assert needle in str(e.value)


def test_coercions_and_derived_values():
    p = NodeParams.from_dict(
        {
            "sync.slop": 1,  # an integer where a double is declared
            "registration.homography": [1, 0, 0, 0, 1, 0, 0, 0, 1],
            "inference.height": 96,
            "inference.width": 128,
            "thermal.normalization": "fixed",
            "thermal.low": 7000,
            "thermal.high": 9000,
        }
    )
    assert p.sync_slop == 1.0 and isinstance(p.sync_slop, float)
    assert p.homography == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    assert p.inference_size == (96, 128)
    norm = p.thermal_norm()
    assert (norm.mode, norm.low, norm.high) == ("fixed", 7000.0, 9000.0)
    d = NodeParams.defaults()
    assert d.homography is None and d.inference_size is None and d.thermal_norm() is None
    assert NodeParams.from_dict({"registration.homography": [0.0]}).homography is None
    assert NodeParams.from_dict({"registration.homography": "1 0 0 0 1 0 0 0 1"}).homography


def test_checkpoint_default_is_the_shipped_model(monkeypatch, tmp_path):
    monkeypatch.delenv("SCCOSF_CHECKPOINT", raising=False)
    assert NodeParams.defaults().checkpoint_path().name == "sccosf_nano_synthetic.pt"
    monkeypatch.setenv("SCCOSF_CHECKPOINT", str(tmp_path / "x.pt"))
    assert NodeParams.defaults().checkpoint_path() == tmp_path / "x.pt"
    p = NodeParams.from_dict({"checkpoint": str(tmp_path / "y.pt")})
    assert p.checkpoint_path() == tmp_path / "y.pt"


def test_thermal_units_window_and_crop():
    from sccosf_ros.thermal import ThermalNorm

    p = NodeParams.from_dict(
        {
            "thermal.normalization": "temperature",
            "thermal.units": "centikelvin",
            "thermal.window_c": [0, 50],
            "thermal.crop": [0, 2, 0, 0],
        }
    )
    norm = p.thermal_norm()
    assert (norm.mode, norm.units, norm.window_low, norm.window_high) == (
        "temperature",
        "centikelvin",
        0.0,
        50.0,
    )
    assert p.thermal_crop_px == (0, 2, 0, 0)
    assert NodeParams.defaults().thermal_crop_px == (0, 0, 0, 0)
    assert NodeParams.from_dict({"thermal.crop": [0.0]}).thermal_crop_px == (0, 0, 0, 0)
    # normalization = checkpoint: the checkpoint's mode and window, the camera's units
    trained = ThermalNorm(mode="temperature", units="centikelvin", window_low=0, window_high=30)
    assert NodeParams.defaults().thermal_norm(trained) is None  # counts: keep the checkpoint's
    mine = NodeParams.from_dict({"thermal.units": "celsius"}).thermal_norm(trained)
    assert (mine.mode, mine.units, mine.window_high) == ("temperature", "celsius", 30.0)
