"""The backends' cache: export once and reuse, new entries for a new size / weights / opset,
a corrupt entry rebuilt with one line, atomic files only."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

import torch

import sccosf_ros
from sccosf_ros.backends.cache import digest, source_files
from sccosf_ros.inference import Predictor, load_checkpoint, model_from_checkpoint, save_checkpoint


def test_source_files_cover_the_scan_package():
    """An edit to the scan (model/ssm/) must change the cache key like any model file."""
    root = Path(sccosf_ros.__file__).resolve().parent
    names = {f.relative_to(root).as_posix() for f in source_files()}
    assert {"model/ssm/chunked.py", "model/ssm/graph.py", "model/s6.py"} <= names


def _onnx_files(cache):
    return sorted((cache / "onnx").glob("*.onnx"))


@pytest.mark.slow
def test_export_once_reuse_and_rebuild(tmp_path, nano_checkpoint, capsys):
    cache = tmp_path / "cache"
    first = Predictor.from_checkpoint(
        nano_checkpoint, "cpu", backend="onnxruntime", cache_dir=cache
    )
    first.prepare((32, 32))
    assert "building ONNX graph at 32x32" in capsys.readouterr().err
    (entry,) = _onnx_files(cache)
    assert entry.name.startswith("nano-32x32-") and entry.with_name(entry.name + ".json").is_file()
    assert not list((cache / "onnx").glob(".*tmp"))  # no temporary file left behind
    stamp = entry.stat().st_mtime_ns

    # another Predictor (as another process would): the entry is reused, not rebuilt
    again = Predictor.from_checkpoint(
        nano_checkpoint, "cpu", backend="onnxruntime", cache_dir=cache
    )
    again.prepare((32, 32))
    assert "building" not in capsys.readouterr().err
    assert entry.stat().st_mtime_ns == stamp and _onnx_files(cache) == [entry]

    # a truncated entry is rebuilt with one line, and works
    entry.write_bytes(entry.read_bytes()[:1000])
    fixed = Predictor.from_checkpoint(
        nano_checkpoint, "cpu", backend="onnxruntime", cache_dir=cache
    )
    rgb = torch.randint(0, 256, (32, 32, 3), dtype=torch.uint8).numpy()
    out = fixed.predict(rgb, rgb[..., 0])
    err = capsys.readouterr().err
    assert "could not be loaded" in err and "rebuilding" in err
    assert out.labels.shape == (32, 32)


def test_keys_change_with_weights_size_and_opset(tmp_path, nano_checkpoint):
    pytest.importorskip("onnx")

    def fields(pred, size=(32, 32)):
        return digest(pred.compiled.export_fields(size))

    base = Predictor.from_checkpoint(
        nano_checkpoint, "cpu", backend="openvino", cache_dir=tmp_path
    )
    same = Predictor.from_checkpoint(
        nano_checkpoint, "cpu", backend="onnxruntime", cache_dir=tmp_path
    )
    assert fields(base) == fields(same)  # one graph serves both runtimes
    # the thermal normalisation is not part of the graph: overriding it reuses the entry
    other_norm = Predictor.from_checkpoint(
        nano_checkpoint,
        "cpu",
        backend="openvino",
        cache_dir=tmp_path,
        thermal_norm={"mode": "minmax"},
    )
    assert fields(other_norm) == fields(base)
    assert fields(base, (32, 64)) != fields(base)
    opset = Predictor.from_checkpoint(
        nano_checkpoint,
        "cpu",
        backend="openvino",
        cache_dir=tmp_path,
        backend_options={"opset": 19},
    )
    assert fields(opset) != fields(base)
    # retrained weights (one value changed) → another key
    model = model_from_checkpoint(load_checkpoint(nano_checkpoint))
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1.0
    changed = tmp_path / "changed.pt"
    save_checkpoint(changed, model, class_names=base.class_names, palette=base.palette)
    retrained = Predictor.from_checkpoint(changed, "cpu", backend="openvino", cache_dir=tmp_path)
    assert fields(retrained) != fields(base)
