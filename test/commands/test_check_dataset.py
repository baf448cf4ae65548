"""`sccosf check-dataset`: a folder that cannot be opened is one error line from cli.main."""

from __future__ import annotations

from sccosf_ros.cli import main


def test_missing_folder_is_one_line(tmp_path, capsys):
    rc = main(["check-dataset", "--dataset", "mfnet", "--root", str(tmp_path / "nope")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert err == [f"sccosf check-dataset: error: dataset folder not found: {tmp_path / 'nope'}"]


def test_a_folder_without_splits_is_one_line(tmp_path, capsys):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    rc = main(["check-dataset", "--dataset", "mfnet", "--root", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith("sccosf check-dataset: error: ") and "holds no mfnet split" in err[0]
