"""Parameter files: config/sccosf.yaml is generated from the table (and committed as generated),
files read as ``--params-file`` reads them, written so rcl and the node read them back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sccosf_ros.pipeline import param_table, params_file
from sccosf_ros.pipeline.params import (
    PARAMETERS,
    SPECS,
    NodeParams,
    ParameterError,
    read_params_file,
    read_params_files,
)
from sccosf_ros.pipeline.params_file import render_defaults, source_defaults_path

CONFIG = Path(__file__).resolve().parents[2] / "config" / "sccosf.yaml"


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _yaml_params() -> dict:
    doc = yaml.safe_load(CONFIG.read_text())
    assert list(doc) == ["/**/sccosf"], "one section, matching node name sccosf in any namespace"
    return _flatten(doc["/**/sccosf"]["ros__parameters"])


def test_yaml_lists_every_parameter_with_its_default():
    values = _yaml_params()
    assert set(values) == set(SPECS) | {"use_sim_time"}
    for spec in PARAMETERS:
        assert values[spec.name] == spec.default, spec.name
        assert type(values[spec.name]) is type(spec.default), spec.name  # ROS typing is strict
    assert NodeParams.from_dict(values) == NodeParams.defaults()


def test_committed_defaults_file_is_what_the_table_generates():
    """Regenerate config/sccosf.yaml; any difference fails (fix: sccosf params
    --write-defaults)."""
    assert source_defaults_path() == CONFIG
    committed = CONFIG.read_text()
    generated = render_defaults()
    assert committed == generated, (
        "config/sccosf.yaml is stale: run sccosf params --write-defaults"
    )


def test_every_parameter_is_commented_with_its_description_in_the_file():
    text = render_defaults()
    for spec in PARAMETERS:
        first_words = " ".join(spec.description.split()[:4])
        assert first_words in " ".join(text.replace("#", " ").split()), spec.name
    assert all(len(line) <= params_file.LINE_WIDTH for line in text.splitlines())


def test_a_group_split_in_the_table_is_refused(monkeypatch):
    """YAML cannot repeat a mapping key: a table that reopens a group cannot be rendered."""
    rows = (*PARAMETERS, param_table.ParamSpec("sync.extra", 1, "an extra sync row"))
    monkeypatch.setattr(params_file, "PARAMETERS", rows)
    with pytest.raises(ValueError, match=r"sync\.extra"):
        render_defaults()


def test_params_file_reads_the_nodes_section_as_ros_does(tmp_path):
    assert read_params_file(CONFIG) == _yaml_params()
    rig = tmp_path / "rig.yaml"
    rig.write_text(
        "/**:\n  ros__parameters:\n    sync: {slop: 0.2}\n    overlay_alpha: 0.9\n"
        "/robot/sccosf:\n  ros__parameters:\n    sync.slop: 0.1\n"
        "    registration: {homography: [1, 0, 5, 0, 1, 0, 0, 0, 1]}\n"
        "other_node:\n  ros__parameters:\n    overlay_alpha: 0.1\n"
    )
    # wildcard first, then the entry naming the node; other nodes' entries are ignored
    assert read_params_file(rig) == {
        "sync.slop": 0.1,
        "overlay_alpha": 0.9,
        "registration.homography": [1, 0, 5, 0, 1, 0, 0, 0, 1],
    }
    p = read_params_files([CONFIG, rig], {"device": "cpu"})  # layered: later files win
    assert p.sync_slop == 0.1 and p.overlay_alpha == 0.9 and p.device == "cpu"
    assert p.homography == (1.0, 0.0, 5.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    assert p.sync_queue_size == NodeParams.defaults().sync_queue_size


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (None, "does not exist"),
        ("a: [1, 2\n", "not valid YAML"),
        ("- 1\n- 2\n", "must map node names"),
        ("other:\n  ros__parameters: {a: 1}\n", "no ros__parameters for node 'sccosf'"),
        ("sccosf:\n  ros__parameters: {sync: {slop: -1.0}}\n", "sync.slop"),
        ("sccosf:\n  ros__parameters: {sync: {slopp: 1.0}}\n", "unknown parameter(s) sync.slopp"),
    ],
)
def test_bad_params_files_say_what_is_wrong(tmp_path, text, needle):
    path = tmp_path / "p.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ParameterError) as e:
        read_params_files([path])
    assert needle in str(e.value) and "\n" not in str(e.value)  # one line for the user


def test_backend_and_its_cache_dir_round_trip_through_a_params_file(tmp_path):
    """``backend`` is a scalar and ``backend.cache_dir`` sits under its name: the file keeps
    the second as one dotted key (YAML cannot nest under a scalar; rcl reads dotted keys)."""
    from sccosf_ros.pipeline.params import read_params_file, write_params_file

    path = write_params_file(
        tmp_path / "p.yaml",
        {"backend": "openvino", "backend.cache_dir": "/tmp/c", "sync.slop": 0.1},
    )
    text = path.read_text()
    assert "backend.cache_dir: /tmp/c" in text and "slop: 0.1" in text
    values = read_params_file(path)
    assert values == {"backend": "openvino", "backend.cache_dir": "/tmp/c", "sync.slop": 0.1}
    p = NodeParams.from_dict(values)
    assert (p.backend, p.backend_cache_dir) == ("openvino", "/tmp/c")
    assert NodeParams.defaults().backend == "auto"


# --------------------------------------------------------------------------- camera presets
CAMERAS_DIR = CONFIG.parent / "cameras"
# preset → what it must set (the camera's encoding decides crop, units and normalisation)
PRESETS = {
    "boson640_raw": {
        "thermal_crop": (0, 2, 0, 0),
        "thermal_units": "counts",
        "thermal_normalization": "percentile",
    },
    "boson640_agc": {
        "thermal_crop": (0, 0, 0, 0),
        "thermal_normalization": "fixed",
        "thermal_low": 0.0,
        "thermal_high": 255.0,
    },
    "lepton35_radiometric": {
        "thermal_crop": (0, 0, 0, 0),
        "thermal_units": "centikelvin",
        "thermal_normalization": "temperature",
        "thermal_window_c": (-10.0, 40.0),
    },
    "generic_celsius_32fc1": {
        "thermal_crop": (0, 0, 0, 0),
        "thermal_units": "celsius",
        "thermal_normalization": "temperature",
        "thermal_window_c": (-10.0, 40.0),
    },
}


def test_every_camera_preset_is_listed():
    assert sorted(p.stem for p in CAMERAS_DIR.glob("*.yaml")) == sorted(PRESETS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_camera_preset_layers_over_the_defaults_and_validates(name):
    path = CAMERAS_DIR / f"{name}.yaml"
    own = read_params_file(path)
    assert own and all(k.startswith("thermal.") for k in own)  # a preset describes the camera
    # doubles written as doubles: rcl refuses [0, 2, 0, 0] for a double-array parameter
    for key, value in own.items():
        if isinstance(SPECS[key].default, list):
            assert all(isinstance(v, float) for v in value), key
    p = read_params_files([CONFIG, path])
    for attr, value in PRESETS[name].items():
        got = getattr(p, attr)
        assert (tuple(got) if isinstance(got, list | tuple) else got) == value, attr
    assert p.thermal_norm() is not None  # a preset's normalisation replaces the checkpoint's
    # the comments state encoding, units, crop and window
    text = path.read_text().lower()
    assert all(word in text for word in ("encoding:", "units:", "crop:", "window:"))
