"""What every reader shares: label ids with a file's own ignore value, split files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.segmentation_dataset import read_label, read_split_file


def test_read_label_maps_the_files_ignore_value_to_255(tmp_path):
    label = np.array([[0, 1, 2, 9]], np.uint8)
    cv2.imwrite(str(tmp_path / "l.png"), label)
    np.testing.assert_array_equal(read_label(tmp_path / "l.png", 3, ignore=9), [[0, 1, 2, 255]])
    with pytest.raises(DatasetError, match=r"label values \[9\] are out of range"):
        read_label(tmp_path / "l.png", 3)  # 9 is no class and not the ignore value 255


def test_read_split_file_takes_stems_and_skips_comments(tmp_path):
    (tmp_path / "s.txt").write_text("# names\na\n\nimages/b.png\nc extra words\n")
    assert read_split_file(tmp_path / "s.txt") == ["a", "b", "c"]
