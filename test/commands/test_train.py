"""`sccosf train`: what is missing or malformed is one error line from cli.main, exit 2."""

from __future__ import annotations

import pytest

from sccosf_ros.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "mfnet", "--max-iters", "1"], "no output folder: give --out DIR"),
        (["--out", "o", "--max-iters", "1"], "no dataset: give --dataset"),
        (["--out", "o", "--dataset", "mfnet"], "no run length: give --max-iters or --epochs"),
        (["--out", "o", "--recipe", "nope"], "no recipe 'nope'"),
    ],
)
def test_missing_settings_are_one_line(tmp_path, capsys, args, message):
    assert main(["train", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"sccosf train: error: {message}")


def test_a_bad_recipe_value_is_a_bad_configuration(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("dataset: mfnet\nmax_iters: 1\ncrop: [a, b]\n")
    assert main(["train", "--recipe", str(recipe), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sccosf train: error: bad configuration: ")


def test_a_missing_root_is_one_line_before_training(tmp_path, capsys):
    args = ["--dataset", "mfnet", "--root", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]
    assert main(["train", *args, "--max-iters", "1", "--device", "cpu", "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read the training split(s) of mfnet" in err[0]
    assert "dataset root not found" in err[0]
