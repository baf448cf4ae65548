"""The folder layout's thermal PNG code and dataset.yaml."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.folder_layout import ThermalPng, read_dataset_yaml, write_dataset_yaml


def test_integer_thermal_is_stored_as_it_is():
    counts = np.array([[7000, 9000]], np.uint16)
    code = ThermalPng.for_frame(counts)
    png, clipped = code.encode(counts)
    assert png is counts and clipped == 0 and code.decode(png) is png


def test_float_celsius_round_trips_to_0_01_with_nan_kept():
    celsius = np.array([[-10.0, 21.37, np.nan], [36.6, 400.0, -300.0]], np.float32)
    code = ThermalPng.for_frame(celsius)
    assert code == ThermalPng(True, 0.01, -273.15)
    png, clipped = code.encode(celsius)
    assert png.dtype == np.uint16 and png[0, 2] == 0 and clipped == 2  # 400 and -300 °C
    back = code.decode(png)
    np.testing.assert_allclose(back[0, :2], celsius[0, :2], atol=0.005)
    assert np.isnan(back[0, 2]) and back[1, 0] == pytest.approx(36.6, abs=0.005)


def test_float_whole_counts_keep_their_values():
    counts = np.array([[7001.0, 8500.0]], np.float32)
    code = ThermalPng.for_frame(counts)
    assert code == ThermalPng(True, 1.0, 0.0)
    np.testing.assert_array_equal(code.decode(code.encode(counts)[0]), counts)


def test_dataset_yaml_round_trip_and_a_bad_one_is_one_line(tmp_path):
    assert read_dataset_yaml(tmp_path) is None  # a hand-made folder
    write_dataset_yaml(tmp_path, {"thermal_png": ThermalPng(True, 0.01, -273.15).to_dict()})
    d = read_dataset_yaml(tmp_path)
    assert ThermalPng.from_dict(d["thermal_png"], "x") == ThermalPng(True, 0.01, -273.15)
    (tmp_path / "dataset.yaml").write_text("a: [\n")
    with pytest.raises(DatasetError, match=r"dataset\.yaml: cannot read it as YAML"):
        read_dataset_yaml(tmp_path)
    with pytest.raises(DatasetError, match="thermal_png needs numbers"):
        ThermalPng.from_dict({"scale": "much"}, "dataset.yaml")
