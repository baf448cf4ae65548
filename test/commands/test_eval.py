"""`sccosf eval`: bad arguments and a missing dataset are one error line, before any model."""

from __future__ import annotations

import pytest

from sccosf_ros.cli import main


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-images", "0"], "--max-images must be >= 1"),
        (["--ssim-data-range", "0"], "--ssim-data-range must be > 0"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path, capsys, extra, message):
    args = ["eval", "--dataset", "mfnet", "--root", str(tmp_path), "--out", str(tmp_path / "o")]
    assert main([*args, *extra]) == 2
    assert capsys.readouterr().err.strip() == f"sccosf eval: error: {message}"


def test_missing_dataset_folder_is_one_line(tmp_path, capsys):
    root = tmp_path / "nowhere"
    rc = main(["eval", "--dataset", "fmb", "--root", str(root), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "does not exist" in err[0]
    assert err[0].startswith("sccosf eval: error: ")
    assert not (tmp_path / "o").exists()
