"""``with_recorded_thermal``: a run on an extracted dataset takes the node's thermal
normalisation from its dataset.yaml (``sccosf train --dataset folder`` and ``sccosf bench adapt``
alike), unless a thermal flag is given."""

from __future__ import annotations

import pytest

from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.folder_layout import write_dataset_yaml
from sccosf_ros.thermal import ThermalNorm
from sccosf_ros.training.config import TrainConfig
from sccosf_ros.training.recorded_thermal import THERMAL_FIELDS, with_recorded_thermal


def _folder(tmp_path, norm: ThermalNorm | None):
    write_dataset_yaml(tmp_path, {"thermal_norm": None if norm is None else norm.to_dict()})
    return TrainConfig(dataset="folder", root=str(tmp_path))


def test_the_recorded_normalisation_is_the_one_trained_with(tmp_path):
    node = ThermalNorm(mode="fixed", low=7000.0, high=9000.0)
    said: list[str] = []
    cfg = with_recorded_thermal(_folder(tmp_path, node), {}, said.append)
    assert cfg.thermal() == node and said == []


def test_a_thermal_flag_another_dataset_or_nothing_recorded_keep_the_config(tmp_path):
    cfg = _folder(tmp_path, ThermalNorm(mode="fixed", low=7000.0, high=9000.0))
    for field in THERMAL_FIELDS:
        assert with_recorded_thermal(cfg, {field: "given"}, print) is cfg
    synthetic = TrainConfig(dataset="synthetic", root=str(tmp_path))
    assert with_recorded_thermal(synthetic, {}, print) is synthetic
    (tmp_path / "hand-made").mkdir()
    unrecorded = _folder(tmp_path / "hand-made", None)
    assert with_recorded_thermal(unrecorded, {}, print) is unrecorded
    missing = TrainConfig(dataset="folder", root=str(tmp_path / "nowhere"))
    assert with_recorded_thermal(missing, {}, print) is missing


def test_other_node_percentiles_are_used_with_a_warning(tmp_path):
    node = ThermalNorm(mode="percentile", percentile_low=2.0, percentile_high=98.0)
    said: list[str] = []
    cfg = with_recorded_thermal(_folder(tmp_path, node), {}, said.append)
    assert cfg.thermal_norm == "percentile"
    (line,) = said
    assert "2/98" in line and "1/99" in line


def test_a_bad_recorded_normalisation_names_the_file(tmp_path):
    write_dataset_yaml(tmp_path, {"thermal_norm": {"mode": "sideways"}})
    with pytest.raises(DatasetError, match=r"dataset\.yaml: thermal_norm: "):
        with_recorded_thermal(TrainConfig(dataset="folder", root=str(tmp_path)), {}, print)
