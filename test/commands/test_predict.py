"""``sccosf predict``'s bad-input errors: one ``sccosf predict: error:`` line from cli.main, exit
2, before any model is loaded, or at the image that cannot be read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.commands.model_options import ModelOptionError
from sccosf_ros.commands.predict import PredictError
from sccosf_ros.errors import SccosfError


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--alpha", "2"], "--alpha must be within 0..1, got 2.0"),
        (["--thermal-norm", "fixed"], "--thermal-norm fixed needs --thermal-range LOW HIGH"),
        (["--thermal", "{folder}"], "--rgb and --thermal must both be files or both be folders"),
        (["--thermal", "{missing}"], "does not exist"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path, image, capsys, extra, message):
    extra = [a.format(folder=tmp_path, missing=tmp_path / "no.png") for a in extra]
    args = ["predict", "--rgb", str(image), "--thermal", str(image), "--out", str(tmp_path)]
    code = sccosf_main([*args, *extra, "--checkpoint", str(tmp_path / "never_loaded.pt")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith("sccosf predict: error: ") and message in lines[0]


def test_command_errors_derive_from_the_root_and_the_old_builtin():
    for cls in (PredictError, ModelOptionError):
        assert issubclass(cls, SccosfError) and issubclass(cls, ValueError)


def test_a_corrupt_png_is_one_clear_line_naming_the_pair_and_the_file(
    tmp_path, image, nano_checkpoint, capfd
):
    broken = tmp_path / "broken.png"
    cv2.imwrite(str(broken), np.full((16, 16), 40000, np.uint16))  # a 16-bit thermal frame
    data = bytearray(broken.read_bytes())
    data[60:124] = bytes(b ^ 0xFF for b in data[60:124])  # inside the image data: libpng fails
    broken.write_bytes(bytes(data))
    args = ["predict", "--rgb", str(image), "--thermal", str(broken), "--out", str(tmp_path)]
    code = sccosf_main([*args, "--checkpoint", str(nano_checkpoint), "--device", "cpu"])
    err = capfd.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err  # libpng's own complaint is inside the line
    assert lines[0].startswith(
        f"sccosf predict: error: a: cannot read image {broken}: the file is corrupt, truncated"
    )
    assert "(decoder: " in lines[0] and "Traceback" not in err
