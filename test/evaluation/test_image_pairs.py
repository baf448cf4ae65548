"""``evaluate_pairs`` on real RGB-thermal pairs (RoadScene development set) beside broken ones:
every good pair scored like ``fusion_metrics`` scores it, every bad one a warning line."""

from __future__ import annotations

import csv
import json
import shutil

import cv2
import numpy as np
import pytest

from sccosf_ros.evaluation.report import GRID_GAP, GRID_HEADER, grid_panel_size
from sccosf_ros.metrics.colour_fidelity import colour_fidelity
from sccosf_ros.metrics.fusion import fusion_metrics
from sccosf_ros.metrics.fusion_baselines import average_luminance

N_REAL = 3


def real_pairs(roadscene_dev, rgb_dir, thermal_dir, n=N_REAL) -> list[str]:
    """Copy the first ``n`` real pairs; their names."""
    rgb_dir.mkdir(parents=True, exist_ok=True)
    thermal_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for p in sorted((roadscene_dev / "rgb").glob("*.jpg"))[:n]:
        shutil.copy(p, rgb_dir / p.name)
        shutil.copy(roadscene_dev / "thermal" / p.name, thermal_dir / p.name)
        names.append(p.stem)
    return names


def _write(path, img) -> None:
    assert cv2.imwrite(str(path), img)


@pytest.fixture(scope="module")
def predictor(nano_checkpoint):
    from sccosf_ros.inference import Predictor

    return Predictor.from_checkpoint(nano_checkpoint, device="cpu")


@pytest.fixture(scope="module")
def folders(roadscene_dev, tmp_path_factory):
    """3 real pairs, a real crop with a 16-bit thermal PNG, and four that cannot be scored."""
    root = tmp_path_factory.mktemp("pairs")
    rgb, th = root / "rgb", root / "thermal"
    names = real_pairs(roadscene_dev, rgb, th)
    real_rgb = cv2.imread(str(rgb / f"{names[0]}.jpg"))
    real_th = cv2.imread(str(th / f"{names[0]}.jpg"), cv2.IMREAD_GRAYSCALE)
    _write(rgb / "y16.png", real_rgb[100:164, 200:280])
    _write(th / "y16.png", real_th[100:164, 200:280].astype(np.uint16) * 257)
    noise = np.random.default_rng(0).integers(0, 256, (40, 50), dtype=np.uint8)
    _write(rgb / "z_constant.png", np.full((40, 50, 3), 128, np.uint8))
    _write(th / "z_constant.png", noise)
    _write(rgb / "z_corrupt.png", real_rgb[:40, :50])
    (th / "z_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))  # truncated
    _write(rgb / "z_sizes.png", real_rgb[:40, :50])
    _write(th / "z_sizes.png", noise[:39])
    _write(rgb / "z_lonely.png", real_rgb[:40, :50])  # no thermal partner
    return rgb, th, names


@pytest.fixture(scope="module")
def evaluated(predictor, folders, tmp_path_factory):
    from sccosf_ros.evaluation.image_pairs import evaluate_pairs

    rgb, th, _ = folders
    out = tmp_path_factory.mktemp("out")
    warnings: list[str] = []
    results = evaluate_pairs(
        predictor, rgb, th, out, grid_samples=10, progress=False, warn=warnings.append
    )
    return out, results, warnings


def test_counts_and_one_line_per_bad_file(evaluated, folders):
    out, results, warnings = evaluated
    rgb, th, names = folders
    assert results["images"] == [*names, "y16"]
    assert (results["n_pairs"], results["n_evaluated"]) == (7, 4)
    assert (results["n_skipped"], results["n_unmatched"]) == (3, 1)
    assert len(warnings) == 4 and all("\n" not in w for w in warnings)
    expected = {
        str(rgb / "z_lonely.png"): "no thermal image",
        str(rgb / "z_constant.png"): "constant image",
        str(th / "z_corrupt.png"): "corrupt",
        str(th / "z_sizes.png"): "differ in size",
    }
    for path, reason in expected.items():
        assert sum(path in w and reason in w for w in warnings) == 1, (path, warnings)
    data = json.loads((out / "metrics.json").read_text())
    assert {s["name"] for s in data["skipped"]} == {"z_constant", "z_corrupt", "z_sizes"}
    assert data["unmatched"] == [str(rgb / "z_lonely.png")]


def test_scores_are_the_fusion_metrics_of_each_image(evaluated, folders, predictor):
    out, results, _ = evaluated
    rgb_dir, th_dir, names = folders
    per_image = {r["name"]: r["scores"] for r in json.loads((out / "per_image.json").read_text())}
    for name in names:
        rgb = cv2.cvtColor(cv2.imread(str(rgb_dir / f"{name}.jpg")), cv2.COLOR_BGR2RGB)
        ir = cv2.imread(str(th_dir / f"{name}.jpg"), cv2.IMREAD_GRAYSCALE)
        fused = predictor.predict(rgb, ir).fused
        for kind, img in (("model", fused), ("rgb", rgb), ("average", average_luminance(rgb, ir))):
            want = {**fusion_metrics(img, rgb, ir), **colour_fidelity(img, rgb)}
            assert per_image[name][kind] == pytest.approx(want), (name, kind)
        assert per_image[name]["rgb"]["dCb"] == 0.0
    # the 16-bit thermal PNG went through the checkpoint's thermal normalisation: scored too
    assert all(np.isfinite(v) for s in per_image["y16"].values() for v in s.values())
    # means over the evaluated pairs, per fused image and metric
    for kind in ("model", "rgb", "average", "max"):
        for m in ("SD", "VIF", "dCr"):
            want = np.mean([per_image[n][kind][m] for n in per_image])
            assert results["means"][kind][m] == pytest.approx(want)


def test_csv_report_and_grid(evaluated, folders):
    out, _, _ = evaluated
    rgb_dir, _, names = folders
    rows = list(csv.DictReader((out / "per_image.csv").open()))
    assert len(rows) == 4 * 4
    assert {r["fused_image"] for r in rows} == {"model", "rgb", "average", "max"}
    report = (out / "report.md").read_text()
    header = (
        r"| fused image | EN | SD | SF | AG | MI | SCD | VIF | Qabf | SSIM | \|ΔCb\| | \|ΔCr\| |"
    )
    assert header in report
    for label in ("| model |", "| RGB alone (no fusion) |", "| average of", "| per-pixel max"):
        assert label in report
    assert "## Skipped pairs" in report and "fusion_grid.png" in report
    grid = cv2.imread(str(out / "fusion_grid.png"))
    # one row per evaluated pair, panels sized from the first pair's frame
    h0, w0 = cv2.imread(str(rgb_dir / f"{names[0]}.jpg")).shape[:2]
    ph, pw = grid_panel_size(h0, w0)
    assert grid.shape[:2] == (GRID_HEADER + 4 * ph + 3 * GRID_GAP, 5 * pw + 4 * GRID_GAP)


def test_nothing_evaluable_is_an_error_with_the_reasons_written(predictor, tmp_path):
    from sccosf_ros.evaluation.evaluate import EvaluationError
    from sccosf_ros.evaluation.image_pairs import evaluate_pairs

    (tmp_path / "rgb").mkdir()
    (tmp_path / "th").mkdir()
    _write(tmp_path / "rgb" / "a.png", np.full((20, 20, 3), 7, np.uint8))
    _write(tmp_path / "th" / "a.png", np.full((20, 20), 9, np.uint8))
    warnings: list[str] = []
    with pytest.raises(EvaluationError, match="none of the 1 pairs"):
        evaluate_pairs(
            predictor, tmp_path / "rgb", tmp_path / "th", tmp_path / "o", warn=warnings.append
        )
    assert len(warnings) == 1 and "a.png: constant image (every value 7)" in warnings[0]
    data = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert data["n_evaluated"] == 0 and data["n_skipped"] == 1
    assert not (tmp_path / "o" / "report.md").exists()


def test_missing_folder_and_no_images(tmp_path):
    from sccosf_ros.data.errors import DatasetError
    from sccosf_ros.evaluation.image_pairs import find_pairs

    with pytest.raises(DatasetError, match=r"--thermal folder .* does not exist"):
        find_pairs(tmp_path, tmp_path / "nope")
    with pytest.raises(DatasetError, match="no images"):
        find_pairs(tmp_path, tmp_path)
    (tmp_path / "rgb").mkdir()
    (tmp_path / "th").mkdir()
    _write(tmp_path / "rgb" / "a.png", np.zeros((8, 8, 3), np.uint8))
    _write(tmp_path / "th" / "b.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError, match=r"none of the 1 images .* has a thermal image"):
        find_pairs(tmp_path / "rgb", tmp_path / "th")
