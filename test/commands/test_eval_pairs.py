"""``sccosf eval --rgb DIR --thermal DIR`` from the command line: the shipped model on real pairs,
a corrupt file as one warning line, the two modes kept apart with one error line."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from sccosf_ros.cli import main
from sccosf_ros.evaluation.report import GRID_GAP, GRID_HEADER, grid_panel_size


def _pairs(roadscene_dev, root, n=3):
    for side in ("rgb", "thermal"):
        (root / side).mkdir(parents=True)
        for p in sorted((roadscene_dev / side).glob("*.jpg"))[:n]:
            shutil.copy(p, root / side / p.name)
    return root / "rgb", root / "thermal"


def test_shipped_model_on_real_pairs(roadscene_dev, tmp_path, capsys):
    rgb, th = _pairs(roadscene_dev, tmp_path)
    (rgb / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a JPEG")
    shutil.copy(th / sorted(p.name for p in th.iterdir())[0], th / "broken.jpg")
    out = tmp_path / "out"
    # no --checkpoint: the shipped models/sccosf_nano_synthetic.pt, as the node finds it
    # backend torch: the point is the evaluation, not the runtime (auto would export an ONNX
    # graph per pair size on first use)
    args = ["eval", "--rgb", str(rgb), "--thermal", str(th), "--out", str(out), "--device",
            "cpu", "--threads", "1", "--grid-samples", "2", "--no-progress",
            "--backend", "torch"]  # fmt: skip
    rc = main(args)
    captured = capsys.readouterr()
    assert rc == 0
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sccosf eval: warning: ")
    assert str(rgb / "broken.jpg") in err[0] and "corrupt" in err[0]
    assert "3 of 4 pairs evaluated (1 skipped" in captured.out
    data = json.loads((out / "metrics.json").read_text())
    assert data["checkpoint"]["path"].endswith("sccosf_nano_synthetic.pt")
    assert list(data["means"]) == ["model", "rgb", "average", "max"]
    assert all(v is not None for d in data["means"].values() for v in d.values())
    grid = cv2.imread(str(out / "fusion_grid.png"))
    ph, pw = grid_panel_size(*cv2.imread(str(rgb / f"{data['images'][0]}.jpg")).shape[:2])
    assert grid.shape[:2] == (GRID_HEADER + 2 * ph + GRID_GAP, 5 * pw + 4 * GRID_GAP)
    assert "![RGB | thermal | fused (model) | average | max](fusion_grid.png)" in (
        (out / "report.md").read_text()
    )


def test_nothing_evaluable_exits_2_without_traceback(tmp_path, capsys):
    for side in ("rgb", "thermal"):
        (tmp_path / side).mkdir()
        cv2.imwrite(str(tmp_path / side / "flat.png"), np.full((16, 16), 50, np.uint8))
    rc = main(["eval", "--rgb", str(tmp_path / "rgb"), "--thermal", str(tmp_path / "thermal"),
               "--out", str(tmp_path / "o"), "--device", "cpu", "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 2 and "Traceback" not in "".join(err)
    assert err[0].startswith("sccosf eval: warning: ") and "constant image" in err[0]
    assert err[1].startswith("sccosf eval: error: none of the 1 pairs")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rgb", "r", "--thermal", "t", "--dataset", "mfnet", "--root", "d"], "two modes"),
        (["--rgb", "r"], "--rgb and --thermal go together"),
        (["--dataset", "mfnet"], "--dataset and --root go together"),
        ([], "give --dataset and --root"),
        (["--rgb", "r", "--thermal", "t", "--no-fusion-metrics"], "evaluates the fusion only"),
        (["--rgb", "nowhere", "--thermal", "t"], "--rgb folder 'nowhere' does not exist"),
    ],
)
def test_modes_are_one_error_line(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t").mkdir()
    assert main(["eval", "--out", "o", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sccosf eval: error: ") and message in err[0]
    assert not (tmp_path / "o").exists()
