"""Node parameters: one table, config/sccosf.yaml lists all of them, validation, params files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sccosf_ros.pipeline.params import (
    PARAMETERS,
    SPECS,
    NodeParams,
    ParameterError,
    read_params_file,
    read_params_files,
)

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


def test_every_parameter_is_described():
    for spec in PARAMETERS:
        assert len(spec.description) > 15, spec.name


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
    assert NodeParams.defaults().backend == "torch"
