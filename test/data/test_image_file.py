"""read_image: bytes read first, OpenCV's C-level complaints kept off stderr and in the error."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.image_file import read_image, read_rgb, read_thermal


def _write(path, img) -> None:
    assert cv2.imwrite(str(path), img)


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


def test_rgb_files_of_any_depth_and_layout_read_as_8_bit_rgb(tmp_path):
    rgb = np.random.default_rng(4).integers(0, 256, (9, 10, 3), dtype=np.uint8)
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    _write(tmp_path / "c8.png", bgr)
    _write(tmp_path / "c16.png", bgr.astype(np.uint16) * 257)
    _write(tmp_path / "bgra.png", np.dstack([bgr, np.full((9, 10), 255, np.uint8)]))
    for name in ("c8", "c16", "bgra"):
        np.testing.assert_array_equal(read_rgb(tmp_path / f"{name}.png"), rgb, err_msg=name)
    _write(tmp_path / "grey.png", rgb[..., 0])
    np.testing.assert_array_equal(read_rgb(tmp_path / "grey.png"), np.dstack([rgb[..., 0]] * 3))
    # thermal keeps its depth; a grey image saved with three equal channels is one plane
    _write(tmp_path / "t16.png", rgb[..., 0].astype(np.uint16) * 300)
    assert read_thermal(tmp_path / "t16.png").dtype == np.uint16
    _write(tmp_path / "t3.png", np.dstack([rgb[..., 1]] * 3))
    np.testing.assert_array_equal(read_thermal(tmp_path / "t3.png"), rgb[..., 1])
