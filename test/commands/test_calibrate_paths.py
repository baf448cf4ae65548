"""``sccosf calibrate --board circles`` end to end: a circle-grid rig drawn here (RGB: dark
printed circles; thermal: the same circles hot, seen through a known homography), the
homography recovered from the image folders; without ``--board circles`` nothing is found."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from sccosf_ros.cli import main
from sccosf_ros.pipeline.params import read_params_files

RGB_HW = (480, 640)
TH_HW = (240, 320)
# thermal pixel → RGB pixel: about 2× with a shift and a little perspective
TRUE_H = np.array([[1.9, 0.05, 20.0], [-0.03, 1.95, 15.0], [2e-5, 1e-5, 1.0]])
COLS, ROWS, STEP = 5, 4, 60  # circle grid (texture pixels between centres)


def _board() -> np.ndarray:
    """The printed board as ink coverage 0..1: a margin of one step around the grid."""
    tex = np.zeros((STEP * (ROWS + 1), STEP * (COLS + 1)), np.float32)
    for r in range(ROWS):
        for c in range(COLS):
            cv2.circle(tex, (STEP * (c + 1), STEP * (r + 1)), 17, 1.0, -1, cv2.LINE_AA)
    return tex


def _pose(i: int) -> np.ndarray:
    """Board texture → RGB: rotated, scaled and moved around the middle of the image."""
    angle = math.radians((-8, 5, 12, -3, 0)[i])
    scale = (1.0, 0.9, 1.1, 0.95, 1.05)[i]
    tx, ty = ((140, 90), (170, 110), (150, 60), (120, 120), (160, 80))[i]
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    return np.array([[c, -s, tx], [s, c, ty], [0, 0, 1.0]])


@pytest.fixture(scope="module")
def circle_rig(tmp_path_factory):
    root = tmp_path_factory.mktemp("circles")
    (root / "rgb").mkdir()
    (root / "thermal").mkdir()
    ink = _board()
    for i in range(5):
        B = _pose(i)
        rgb_ink = cv2.warpPerspective(ink, B, RGB_HW[::-1], flags=cv2.INTER_AREA)
        rgb = np.clip(230 - 200 * rgb_ink, 0, 255).astype(np.uint8)
        th_ink = cv2.warpPerspective(ink, np.linalg.inv(TRUE_H) @ B, TH_HW[::-1])
        thermal = cv2.GaussianBlur(7000 + 2500 * th_ink, (0, 0), 0.8).astype(np.uint16)
        cv2.imwrite(str(root / "rgb" / f"{i:03d}.png"), cv2.cvtColor(
            np.dstack([rgb] * 3), cv2.COLOR_RGB2BGR))  # fmt: skip
        cv2.imwrite(str(root / "thermal" / f"{i:03d}.png"), thermal)
    return root


def _calibrate(rig, out, *flags: str) -> int:
    return main(
        ["calibrate", "--rgb", str(rig / "rgb"), "--thermal", str(rig / "thermal"),
         "--pattern", f"{COLS}x{ROWS}", "--out", str(out), "--quiet", *flags]
    )  # fmt: skip


def test_circle_board_recovers_the_rig_homography(circle_rig, tmp_path, capsys):
    out = tmp_path / "rig.yaml"
    assert _calibrate(circle_rig, out, "--board", "circles") == 0, capsys.readouterr()
    H = np.asarray(read_params_files([out]).registration_homography, float).reshape(3, 3)
    # where the two homographies put the thermal frame's corners and centre, in RGB pixels
    h, w = TH_HW
    pts = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1], [w / 2, h / 2, 1]])
    got, want = (pts @ M.T for M in (H, TRUE_H))
    got, want = got[:, :2] / got[:, 2:], want[:, :2] / want[:, 2:]
    assert np.linalg.norm(got - want, axis=1).max() < 2.0, (H, TRUE_H)
    report = json.loads(out.with_name("rig_calibration.json").read_text())
    assert [p["error_px"] is not None for p in report["pairs"]] == [True] * 5  # every pose


def test_the_default_checkerboard_finds_no_circle_board(circle_rig, tmp_path, capsys):
    assert _calibrate(circle_rig, tmp_path / "rig.yaml") == 2
    err = capsys.readouterr().err
    assert "error" in err and not (tmp_path / "rig.yaml").exists()
