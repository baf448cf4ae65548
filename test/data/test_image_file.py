"""read_image: bytes read first, OpenCV's C-level complaints kept off stderr and in the error."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.image_file import read_image


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "label.png"
    cv2.imwrite(str(path), (np.arange(48 * 64) % 9).astype(np.uint8).reshape(48, 64))
    return path


def test_a_good_png_reads_as_imread_does(png):
    np.testing.assert_array_equal(read_image(png), cv2.imread(str(png), cv2.IMREAD_UNCHANGED))


def test_libpng_complaints_go_into_the_error_not_to_stderr(png, capfd):
    data = bytearray(png.read_bytes())
    data[60:124] = bytes(b ^ 0xFF for b in data[60:124])
    png.write_bytes(bytes(data))
    with pytest.raises(DatasetError) as info:
        read_image(png)
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # libpng printed into the capture, not to fd 2
    text = str(info.value)
    assert text.startswith(f"cannot read image {png}: the file is corrupt") and "\n" not in text
    assert "(decoder: " in text and "libpng error" not in text


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "the file is empty"), (b"not an image", "corrupt, truncated or not an image")],
)
def test_empty_missing_and_foreign_files(tmp_path, content, words):
    path = tmp_path / "x.png"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=words):
        read_image(path)
    with pytest.raises(DatasetError, match="No such file"):
        read_image(tmp_path / "missing.png")
