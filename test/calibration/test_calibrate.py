"""``sccosf calibrate`` on a generated rig: RGB 1280×720 (JPEG CompressedImage) + thermal 640×512
mono16 (16-bit PNG) through a known homography, heated-board pairs seen through it; the written
parameter file then drives ``sccosf bag-eval`` (the node over DDS: test/ros/test_node_rig.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from sccosf_ros.bag.bag_io import BagReader
from sccosf_ros.calibration.board import BoardSpec, canonical_order, find_board, parse_pattern
from sccosf_ros.calibration.homography import frame_agreement
from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.pipeline.compressed import decode_compressed
from sccosf_ros.pipeline.params import read_params_files, write_params_file
from sccosf_ros.synthetic.rig import (
    RigSettings,
    lepton_rig,
    render_rig_frames,
    write_rig_bag,
    write_rig_images,
)

RIG = RigSettings()  # 4 board poses + 1 pair without the board
TRUE_H = np.asarray(RIG.homography).reshape(3, 3)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    root = tmp_path_factory.mktemp("rig")
    write_rig_images(root / "images", RIG)
    write_rig_bag(root / "rig_bag", RIG)
    return root


def _homography(path) -> np.ndarray:
    return np.asarray(read_params_files([path]).registration_homography).reshape(3, 3)


def test_calibrate_from_a_bag_recovers_the_rig_homography(rig, tmp_path, capsys):
    out = tmp_path / "rig.yaml"
    code = sccosf_main(
        [
            "calibrate",
            "--bag",
            str(rig / "rig_bag"),
            "--rgb-topic",
            "/rig/rgb/image_raw",  # the base name: the bag holds <base>/compressed
            "--thermal-topic",
            "/rig/thermal/image_raw",
            "--pattern",
            "9x6",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    H = _homography(out)
    assert frame_agreement(H, TRUE_H, RIG.thermal_size) < 1.0  # px, mean over the thermal frame
    # Per-pair and mean errors printed; the pair without a board listed and skipped.
    assert printed.count("skipped: no board found") == 1
    assert "mean reprojection error" in printed and "over 4 pairs" in printed
    params = read_params_files([out])
    assert (params.rgb_transport, params.thermal_transport) == ("compressed", "compressed")
    report = json.loads(out.with_name("rig_calibration.json").read_text())
    assert report["rgb_size"] == [1280, 720] and report["thermal_size"] == [640, 512]
    assert [p["error_px"] is not None for p in report["pairs"]] == [True] * 4 + [False]
    assert all(p["error_px"] < 0.5 for p in report["pairs"][:4])
    overlay = cv2.imread(str(out.with_name("rig_overlay.png")))
    assert overlay is not None and overlay.shape[1] == 2 * 960 + 2  # before | after


def test_calibrate_from_folders_and_bag_eval_with_the_written_file(
    rig, tmp_path, nano_checkpoint, capsys
):
    out = tmp_path / "rig.yaml"
    args = ["calibrate", "--rgb", str(rig / "images" / "rgb")]
    args += ["--thermal", str(rig / "images" / "thermal"), "--pattern", "9x6"]
    assert sccosf_main([*args, "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert frame_agreement(_homography(out), TRUE_H, RIG.thermal_size) < 1.0

    # bag-eval with the same file: every pair paired, outputs at the RGB resolution (the JPEG
    # copies too, switched on by a second, layered file).
    jpeg = write_params_file(tmp_path / "jpeg.yaml", {"publish.compressed": True})
    code = sccosf_main(
        [
            "bag-eval",
            str(rig / "rig_bag"),
            "--rgb-topic",
            "/rig/rgb/image_raw",
            "--thermal-topic",
            "/rig/thermal/image_raw",
            "--params-file",
            str(out),
            "--params-file",
            str(jpeg),
            "--checkpoint",
            str(nano_checkpoint),
            "--device",
            "cpu",
            "--input-size",
            "72",
            "128",
            "--out",
            str(tmp_path / "eval"),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    m = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    frames = RIG.poses + RIG.empty
    assert m["pairs"] == frames and m["malformed"] == dict.fromkeys(m["malformed"], 0)
    assert m["params"]["registration.homography"] == pytest.approx(list(_homography(out).ravel()))
    with BagReader(tmp_path / "eval" / "rig_bag_sccosf") as r:
        for _, ty, _, raw in r.messages(["/sccosf/overlay", "/sccosf/fused"]):
            msg = r.deserialize(raw, ty)
            assert (msg.width, msg.height) == (1280, 720)
        assert r.topics()["/sccosf/overlay"].count == frames
        assert r.topics()["/sccosf/overlay/compressed"].count == frames
        _, ty, _, raw = next(r.messages(["/sccosf/fused/compressed"]))
        assert decode_compressed(r.deserialize(raw, ty)).shape == (720, 1280, 3)


def test_too_few_pairs_is_one_line_and_exit_2(rig, tmp_path, capsys):
    base = ["calibrate", "--rgb", str(rig / "images" / "rgb")]
    base += ["--thermal", str(rig / "images" / "thermal"), "--out", str(tmp_path / "r.yaml")]
    for extra, words in (
        (["--pattern", "9x6", "--min-pairs", "5"], "found in both images of 4 of 5 pair(s)"),
        (["--pattern", "7x5"], "0 of 5 pair(s)"),  # wrong pattern: no board anywhere
    ):
        assert sccosf_main([*base, *extra, "--quiet"]) == 2
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("sccosf calibrate: error:"), err
        assert words in lines[0] and "Traceback" not in err
    assert not (tmp_path / "r.yaml").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--pattern", "9by6"], "COLSxROWS"),
        (["--pattern", "9x6", "--rgb", "nowhere"], "go together"),
        (["--pattern", "9x6", "--rgb", "nowhere", "--thermal", "nothere"], "does not exist"),
        (["--pattern", "9x6", "--bag", "b"], "--rgb-topic and --thermal-topic"),
        (["--pattern", "9x6"], "either --rgb DIR --thermal DIR or --bag BAG"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path, capsys, args, words):
    assert sccosf_main(["calibrate", *args, "--out", str(tmp_path / "r.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sccosf calibrate: error:" in err and words in err


def test_unpaired_file_names_are_reported(tmp_path, capsys):
    (tmp_path / "rgb").mkdir()
    (tmp_path / "thermal").mkdir()
    cv2.imwrite(str(tmp_path / "rgb" / "a.png"), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "thermal" / "b.png"), np.zeros((8, 8), np.uint16))
    args = ["calibrate", "--rgb", str(tmp_path / "rgb"), "--thermal", str(tmp_path / "thermal")]
    assert sccosf_main([*args, "--pattern", "9x6", "--out", str(tmp_path / "r.yaml")]) == 2
    assert "matched by file name" in capsys.readouterr().err


def test_heated_board_polarity_and_corner_order_agree_between_modalities():
    """A thermal board is inverted (hot black squares) and may be found from another corner:
    both detections come back in the same canonical order."""
    spec = BoardSpec(9, 6)
    frame = render_rig_frames(RIG)[0]
    rgb_pts = find_board(frame.rgb, spec)
    th_pts = find_board(frame.thermal, spec, inverted_first=True)
    mapped = cv2.perspectiveTransform(th_pts.reshape(-1, 1, 2).astype(np.float64), TRUE_H)
    assert np.abs(mapped.reshape(-1, 2) - rgb_pts).max() < 1.0  # corner i ↔ corner i
    # Any of the grid's orientations comes back as the same order.
    grid = rgb_pts.reshape(6, 9, 2)
    for variant in (grid[::-1, ::-1], grid[::-1, :], grid[:, ::-1]):
        np.testing.assert_array_equal(canonical_order(variant.reshape(-1, 2), spec), rgb_pts)
    # 8-bit thermal works too.
    th8 = ((frame.thermal.astype(np.float32) - 7000) / 10).clip(0, 255).astype(np.uint8)
    assert find_board(th8, spec) is not None


def test_circle_grid_board():
    spec = parse_pattern("5x4", "circles")
    img = np.full((300, 400), 255, np.uint8)
    centres = [(80 + 60 * c, 60 + 60 * r) for r in range(4) for c in range(5)]
    for x, y in centres:
        cv2.circle(img, (x, y), 15, 0, -1, cv2.LINE_AA)
    hot = cv2.GaussianBlur((255 - img).astype(np.uint16) * 20 + 7000, (0, 0), 1.0)  # thermal
    for image in (img, hot):
        pts = find_board(image, spec)
        assert pts is not None
        np.testing.assert_allclose(pts, np.array(centres, np.float32), atol=0.3)


def test_thermal_crop_removes_telemetry_rows_and_is_written_with_the_homography(
    rig, tmp_path, capsys
):
    """Boson-style 640x514 thermal images (2 garbage telemetry rows below): with
    --thermal-crop 0 2 0 0 the homography of the cropped image is the rig's."""
    raw = tmp_path / "thermal514"
    raw.mkdir()
    rng = np.random.default_rng(4)
    for png in sorted((rig / "images" / "thermal").iterdir()):
        t = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
        rows = rng.integers(0, 65536, (2, t.shape[1])).astype(t.dtype)
        cv2.imwrite(str(raw / png.name), np.vstack([t, rows]))
    out = tmp_path / "rig.yaml"
    args = ["calibrate", "--rgb", str(rig / "images" / "rgb"), "--thermal", str(raw)]
    args += ["--pattern", "9x6", "--thermal-crop", "0", "2", "0", "0", "--quiet"]
    assert sccosf_main([*args, "--out", str(out)]) == 0, capsys.readouterr().err
    assert frame_agreement(_homography(out), TRUE_H, RIG.thermal_size) < 1.0
    assert read_params_files([out]).thermal_crop_px == (0, 2, 0, 0)
    report = json.loads(out.with_name("rig_calibration.json").read_text())
    assert report["thermal_size"] == [640, 512]
    capsys.readouterr()
    assert sccosf_main([*args[:-5], "0", "600", "0", "0", "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "leaves nothing of the 640x514 thermal image" in err[0], err


def _corner_distances(H: np.ndarray, H_true: np.ndarray, thermal_size) -> np.ndarray:
    """Where the two homographies put the thermal image's four corners apart, RGB pixels."""
    h, w = thermal_size
    c = np.array([[[0, 0]], [[w - 1, 0]], [[0, h - 1]], [[w - 1, h - 1]]], np.float64)
    a, b = (
        cv2.perspectiveTransform(c, np.asarray(M, np.float64).reshape(3, 3)) for M in (H, H_true)
    )
    return np.linalg.norm(a - b, axis=-1).ravel()


@pytest.mark.parametrize("rgb_size", [(480, 640), (720, 1280)])
def test_lepton_sized_rig_calibrates_within_a_thermal_pixel(tmp_path, rgb_size):
    """A 160x120 radiometric core (centikelvin, NETD, column noise, vignetting, soft optics)
    beside a 640x480 or 1280x720 RGB camera, 8 board poses of 6-9 px squares in thermal: the
    real ``sccosf`` command finds every board (upscaled, sub-pixel) and recovers the rig."""
    cfg = lepton_rig(rgb_size)
    write_rig_images(tmp_path / "rig", cfg)
    out = tmp_path / "rig.yaml"
    cmd = [str(Path(sys.executable).with_name("sccosf")), "calibrate", "--pattern", "9x6",
           "--rgb", str(tmp_path / "rig" / "rgb"), "--thermal", str(tmp_path / "rig" / "thermal"),
           "--out", str(out), "--quiet"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.with_name("rig_calibration.json").read_text())
    assert report["thermal_size"] == [160, 120]
    assert report["mean_error_thermal_px"] <= 1.5
    printed = re.search(r"([\d.]+) thermal px \(160x120\) over 8 pairs", proc.stdout)
    assert printed and float(printed.group(1)) <= 1.5, proc.stdout
    pairs = report["pairs"]
    assert [p["error_thermal_px"] is not None for p in pairs] == [True] * 8 + [False]
    assert all(4 <= p["thermal_board"]["square_px"] <= 10 for p in pairs[:8])
    H = _homography(out)
    assert _corner_distances(H, cfg.homography, cfg.thermal_size).max() < 2.5, H


def test_board_too_small_in_thermal_is_named_in_the_table_and_the_one_line_error(tmp_path, capsys):
    """Seen by the 1280x720 RGB camera (squares ~9 px) but only ~2 px squares in the 160x120
    thermal image: every pair says so, and the error names the size and what to do."""
    cfg = lepton_rig((720, 1280), board_width=(0.13, 0.15), poses=4)
    write_rig_images(tmp_path / "rig", cfg)
    args = ["calibrate", "--rgb", str(tmp_path / "rig" / "rgb"), "--pattern", "9x6"]
    args += ["--thermal", str(tmp_path / "rig" / "thermal"), "--out", str(tmp_path / "r.yaml")]
    assert sccosf_main([*args, "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out.count("skipped: board too small in thermal (about ") == 4, captured.out
    assert captured.out.count("skipped: no board found") == 1  # the empty pair
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("sccosf calibrate: error:"), captured.err
    m = re.search(r"the board spans only (\d+)x(\d+) px in the 160x120 thermal image", lines[0])
    assert m and 15 <= int(m.group(1)) <= 24 and 10 <= int(m.group(2)) <= 18, lines[0]
    assert "bring it closer or use a board with bigger squares" in lines[0]
    assert not (tmp_path / "r.yaml").exists()
