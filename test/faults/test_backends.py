"""Backend faults: each is one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sccosf_ros.backends.errors import MissingExtraError, require
from sccosf_ros.cli import main as sccosf_main

REPO = Path(__file__).resolve().parents[2]


def test_missing_extra_names_the_extra_to_install():
    with pytest.raises(MissingExtraError) as e:
        require("no_such_runtime_module", "openvino", "backend openvino")
    assert "pip install 'sccosf_ros[openvino]'" in str(e.value)


def test_cli_with_an_uninstalled_backend_is_one_line(tmp_path):
    """openvino made unimportable in a fresh interpreter (as when the extra is missing)."""
    code = (
        "import sys; sys.modules['openvino'] = None\n"
        "from sccosf_ros.cli import main\n"
        "sys.exit(main(sys.argv[1:]))"
    )
    rgb = tmp_path / "x.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(rgb), np.zeros((32, 32, 3), np.uint8))
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "predict",
            "--rgb",
            str(rgb),
            "--thermal",
            str(rgb),
            "--out",
            str(tmp_path / "o"),
            "--backend",
            "openvino",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert "pip install 'sccosf_ros[openvino]'" in res.stderr
    assert not (tmp_path / "cache").exists()  # refused before exporting anything


def test_export_dynamic_says_why(tmp_path, capsys):
    code = sccosf_main(["export", "--out", str(tmp_path / "d.onnx"), "--dynamic"])
    err = capsys.readouterr().err
    assert code == 2 and "--dynamic is not supported" in err and "chunk" in err
    assert not (tmp_path / "d.onnx").exists()


@pytest.mark.parametrize("flag", ["--out", "--json"])
def test_an_output_path_that_cannot_be_written_is_one_line_before_exporting(
    tmp_path, flag, capsys
):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    paths = {"--out": tmp_path / "m.onnx", "--json": tmp_path / "r.json"}
    for bad, why in ((blocker / "x", "is not a folder"), (tmp_path, "is a folder")):
        paths[flag] = bad
        code = sccosf_main(["export", *(str(v) for kv in paths.items() for v in kv)])
        lines = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(lines) == 1, lines
        assert lines[0].startswith(f"sccosf export: error: {flag}") and why in lines[0]
    assert not (tmp_path / "m.onnx").exists()  # refused before the export


@pytest.mark.parametrize("content", [b"", b"\x08\x07garbage not protobuf" * 10])
def test_bad_onnx_file_is_a_clear_error(tmp_path, content, capsys):
    pytest.importorskip("onnx")
    from sccosf_ros.backends import BackendError
    from sccosf_ros.inference import Predictor

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(content)
    with pytest.raises(BackendError, match="sccosf export"):
        Predictor.from_onnx(bad, backend="onnxruntime")
    code = sccosf_main(["export", "--out", str(bad), "--verify"])
    assert code == 2 and "sccosf export: error:" in capsys.readouterr().err


def test_parity_failure_exits_2_and_keeps_the_file(tmp_path, nano_checkpoint, capsys):
    """A file verified against a checkpoint it was not exported from fails the bar."""
    pytest.importorskip("onnxruntime")
    out = tmp_path / "ship.onnx"
    args = ["export", "--out", str(out), "--height", "32", "--width", "32", "--check-pairs", "0"]
    assert sccosf_main(args) == 0
    code = sccosf_main(
        [
            "export",
            "--out",
            str(out),
            "--verify",
            "--checkpoint",
            str(nano_checkpoint),
            "--check-backends",
            "onnxruntime",
            "--check-pairs",
            "2",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "BELOW THE BAR" in captured.out and "other weights" in captured.out
    assert "beyond the parity bar" in captured.err and "left as it was" in captured.err
    assert out.is_file()


def test_unknown_backend_in_a_parameter_file(tmp_path, capsys):
    from sccosf_ros.pipeline.params import NodeParams, ParameterError

    choices = "auto, torch, onnxruntime, openvino, tensorrt"
    with pytest.raises(ParameterError, match=f"not one of {choices}"):
        NodeParams.from_dict({"backend": "onnx"})


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the no-CUDA message")
def test_tensorrt_without_cuda_is_a_startup_error():
    from sccosf_ros.pipeline.params import NodeParams
    from sccosf_ros.pipeline.processor import StartupError, load_predictor

    with pytest.raises(StartupError, match="tensorrt needs CUDA"):
        load_predictor(NodeParams.from_dict({"backend": "tensorrt"}))
