"""The synthetic-folder marker file, read below both its writer and the dataset readers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sccosf_ros.data.errors import DatasetError, DatasetNotFoundError
from sccosf_ros.data.synth_metadata import LAYOUTS, METADATA_FILE, read_metadata
from sccosf_ros.errors import SccosfError


def test_read_metadata(tmp_path):
    assert read_metadata(tmp_path) is None
    (tmp_path / METADATA_FILE).write_text(json.dumps({"layout": LAYOUTS[0], "seed": 1}))
    assert read_metadata(tmp_path) == {"layout": "mfnet", "seed": 1}
    (tmp_path / METADATA_FILE).write_text("{not json")
    with pytest.raises(DatasetError, match="not a readable"):
        read_metadata(tmp_path)
    (tmp_path / METADATA_FILE).write_text(json.dumps({"layout": "kitti"}))
    with pytest.raises(ValueError, match="'layout'"):  # DatasetError is still a ValueError
        read_metadata(tmp_path)


def test_dataset_errors_have_one_root():
    assert issubclass(DatasetError, SccosfError) and issubclass(DatasetError, ValueError)
    assert issubclass(DatasetNotFoundError, DatasetError)
    assert issubclass(DatasetNotFoundError, FileNotFoundError)


def test_the_synthetic_writer_shares_it_without_torch():
    import sccosf_ros.synthetic as synthetic

    assert synthetic.METADATA_FILE is METADATA_FILE and synthetic.read_metadata is read_metadata
    code = "import sccosf_ros.data.synth_metadata, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
