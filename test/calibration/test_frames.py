"""``FolderFrames``: the image pairs ``sccosf calibrate --rgb DIR --thermal DIR`` reads, through
``data/image_file.py`` like every other command (16-bit kept, a corrupt file named)."""

from __future__ import annotations

import cv2
import numpy as np

from sccosf_ros.calibration.frames import FolderFrames


def _folders(tmp_path):
    rgb, th = tmp_path / "rgb", tmp_path / "thermal"
    rgb.mkdir()
    th.mkdir()
    colour = np.random.default_rng(3).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    counts = np.arange(12 * 16, dtype=np.uint16).reshape(12, 16) * 300
    for name in ("a", "b"):
        assert cv2.imwrite(str(rgb / f"{name}.png"), colour[..., ::-1])
        assert cv2.imwrite(str(th / f"{name}.png"), counts)
    return rgb, th, colour, counts


def test_pairs_read_as_rgb_and_16_bit_thermal(tmp_path):
    rgb, th, colour, counts = _folders(tmp_path)
    said: list[str] = []
    frames = list(FolderFrames(rgb, th, said.append))
    assert [f.name for f in frames] == ["a", "b"] and said == []
    np.testing.assert_array_equal(frames[0].rgb, colour)
    assert frames[0].thermal.dtype == np.uint16
    np.testing.assert_array_equal(frames[0].thermal, counts)


def test_a_corrupt_png_is_skipped_with_one_line_naming_it(tmp_path, capfd):
    rgb, th, _, _ = _folders(tmp_path)
    bad = th / "a.png"
    data = bytearray(bad.read_bytes())
    data[60:124] = bytes(b ^ 0xFF for b in data[60:124])  # inside the image data: libpng fails
    bad.write_bytes(bytes(data))
    said: list[str] = []
    frames = list(FolderFrames(rgb, th, said.append))
    assert [f.name for f in frames] == ["b"]
    (line,) = said
    assert line.startswith(f"a: cannot read image {bad}: the file is corrupt, truncated or not")
    assert line.endswith("; skipped") and "\n" not in line
    assert capfd.readouterr().err == ""  # libpng's own complaint is in the line, not on stderr
