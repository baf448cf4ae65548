"""Synthetic RGB-thermal scenes, ``write_dataset`` round trips and the ``sccosf synth`` CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from sccosf_ros import cli
from sccosf_ros.classes import FMB_CLASSES, MFNET_CLASSES
from sccosf_ros.thermal import ThermalNorm
from sccosf_ros.training.datasets import build_dataset
from sccosf_ros.training.synthetic import (
    METADATA_FILE,
    THERMAL_COUNTS,
    _scene_seed,
    render_scene,
    thermal8_from_counts,
    write_dataset,
)

H, W = 96, 128


def test_scene_arrays_and_determinism():
    a = render_scene(5, H, W)
    b = render_scene(5, H, W)
    assert a.rgb.shape == (H, W, 3) and a.rgb.dtype == np.uint8
    assert a.thermal16.shape == (H, W) and a.thermal16.dtype == np.uint16
    assert a.thermal8.shape == (H, W) and a.thermal8.dtype == np.uint8
    assert a.label.shape == (H, W) and a.label.dtype == np.uint8
    for k in ("rgb", "thermal16", "thermal8", "label"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.night == b.night
    c = render_scene(6, H, W)
    assert not np.array_equal(a.rgb, c.rgb)
    assert not np.array_equal(a.label, c.label)


@pytest.mark.parametrize("layout,names", [("mfnet", MFNET_CLASSES), ("fmb", FMB_CLASSES)])
def test_labels_cover_the_dataset_classes(layout, names):
    seen: set[int] = set()
    with_people = 0
    for seed in range(12):
        scene = render_scene(seed, 120, 160, layout=layout)
        ids = set(np.unique(scene.label).tolist())
        assert ids <= set(range(len(names))), f"ids outside the {layout} classes: {ids}"
        assert names.index("car" if layout == "mfnet" else "Car") in ids
        with_people += names.index("person" if layout == "mfnet" else "Person") in ids
        seen |= ids
    assert seen == set(range(len(names))), f"never drawn: {set(range(len(names))) - seen}"
    # every street has people, though a nearer car may hide them
    assert with_people >= 10


def test_night_is_dark_in_rgb_while_thermal_keeps_warm_objects():
    checked = 0
    for seed in range(6):
        day = render_scene(seed, 120, 160, night=False)
        night = render_scene(seed, 120, 160, night=True)
        assert not day.night and night.night
        # the same street: day and night share the layout
        np.testing.assert_array_equal(day.label, night.label)
        assert night.rgb.mean() < 0.45 * day.rgb.mean()
        lab = night.label
        bg = lab == 0
        person = lab == MFNET_CLASSES.index("person")
        car = lab == MFNET_CLASSES.index("car")
        if not person.any():  # hidden behind a car in this street
            continue
        checked += 1
        th = night.thermal8.astype(np.float32)
        gray = night.rgb.astype(np.float32).mean(axis=2)
        # warm bodies and engines stand out in thermal at night...
        assert th[person].mean() > th[bg].mean() + 30
        assert th[car].mean() > th[bg].mean() + 5
        # ...while people are nearly invisible in the dark RGB image
        rgb_contrast = abs(gray[person].mean() - gray[bg].mean())
        assert rgb_contrast < 0.5 * (th[person].mean() - th[bg].mean())
        # by day people are warmer than their surroundings too
        assert day.thermal8[day.label == 2].mean() > day.thermal8[day.label == 0].mean()
    assert checked >= 4


def test_thermal16_maps_linearly_onto_thermal8():
    scene = render_scene(3, H, W)
    lo, hi = THERMAL_COUNTS
    np.testing.assert_array_equal(scene.thermal8, thermal8_from_counts(scene.thermal16))
    expect = np.clip((scene.thermal16.astype(np.float64) - lo) * 255.0 / (hi - lo), 0, 255)
    assert np.abs(scene.thermal8 - expect).max() <= 0.5 + 1e-6
    fixed = ThermalNorm(mode="fixed", low=lo, high=hi)(scene.thermal16)
    assert np.abs(fixed - scene.thermal8 / 255.0).max() <= 0.5 / 255 + 1e-6
    # raw counts look like a radiometric camera's, not a stretched 8-bit image
    assert scene.thermal16.min() > 4000 and scene.thermal16.max() < 12000
    assert int(scene.thermal16.max()) - int(scene.thermal16.min()) > 300


def test_t_moves_objects_smoothly():
    a = render_scene(2, 240, 320, t=0.0)
    b = render_scene(2, 240, 320, t=0.1)
    c = render_scene(2, 240, 320, t=3.0)
    small = (a.label != b.label).mean()
    large = (a.label != c.label).mean()
    assert 0 < small < large
    assert small < 0.02
    # the static world stays: curb pixels change only where a moving agent passes over them
    curb, movers = MFNET_CLASSES.index("curve"), [1, 2, 3]  # car, person, bike
    changed = (a.label == curb) != (c.label == curb)
    covered = np.isin(a.label, movers) | np.isin(c.label, movers)
    assert changed.any() or (a.label == curb).any()
    assert not (changed & ~covered).any()
    np.testing.assert_array_equal(render_scene(2, 240, 320, t=0.1).rgb, b.rgb)


def test_render_scene_rejects_bad_arguments():
    with pytest.raises(ValueError, match="layout"):
        render_scene(0, H, W, layout="cityscapes")
    with pytest.raises(ValueError, match="at least 16"):
        render_scene(0, 8, 8)
    with pytest.raises(ValueError, match="seed"):
        render_scene(-1, H, W)


def test_write_dataset_mfnet_round_trip(tmp_path):
    root = write_dataset(tmp_path / "mf", "mfnet", n=8, seed=3, height=48, width=64,
                         night_fraction=0.5, progress=False)
    meta = json.loads((root / METADATA_FILE).read_text())
    assert meta["layout"] == "mfnet" and meta["n"] == 8
    assert tuple(meta["thermal_counts"]) == THERMAL_COUNTS
    assert sum(meta["night"].values()) == 4
    all_names = []
    for split in ("train", "val", "test"):
        ds = build_dataset("synthetic", root, split)
        assert ds.name == "mfnet" and ds.synthetic and len(ds) > 0
        all_names += ds.names
    assert sorted(all_names) == sorted(meta["night"])
    test = (root / "test.txt").read_text().split()
    day, night = (root / "test_day.txt").read_text().split(), (
        root / "test_night.txt").read_text().split()
    assert sorted(day + night) == sorted(test)
    assert all(n.endswith("D") for n in day) and all(n.endswith("N") for n in night)

    ds = build_dataset("synthetic", root, "train")
    raw = ds.load_raw(0)
    i = int(raw.name[:5]) - 1
    scene = render_scene(_scene_seed(3, i), 48, 64, "mfnet", night=raw.name.endswith("N"))
    np.testing.assert_array_equal(raw.rgb, scene.rgb)
    np.testing.assert_array_equal(raw.thermal, scene.thermal8)
    np.testing.assert_array_equal(raw.label, scene.label)
    assert raw.night == scene.night
    # the stored image really is the 4-channel MFNet PNG (B,G,R,thermal as OpenCV sees it)
    img = cv2.imread(str(root / "images" / f"{raw.name}.png"), cv2.IMREAD_UNCHANGED)
    assert img.shape == (48, 64, 4)
    np.testing.assert_array_equal(img[..., 3], scene.thermal8)
    np.testing.assert_array_equal(img[..., 2::-1], scene.rgb)


def test_write_dataset_fmb_round_trip(tmp_path):
    root = write_dataset(tmp_path / "fmb", "fmb", n=5, seed=1, height=48, width=64,
                         night_fraction=0.0, progress=False)
    train = build_dataset("synthetic", root, "train")
    test = build_dataset("fmb", root, "test")  # also readable as plain FMB
    assert train.name == test.name == "fmb"
    assert len(train) + len(test) == 5 and len(test) >= 1
    for ds in (train, test):
        for i in range(len(ds)):
            raw = ds.load_raw(i)
            assert raw.night is False  # known from the metadata
            assert raw.label.max() < len(FMB_CLASSES)
            assert (root / ds.split / "Infrared" / f"{raw.name}.png").is_file()


def test_write_dataset_never_writes_over_other_data(tmp_path):
    real = tmp_path / "MFNet"
    (real / "images").mkdir(parents=True)
    (real / "images" / "00001D.png").write_bytes(b"precious")
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match="not written by `sccosf synth`"):
            write_dataset(real, "mfnet", n=3, height=32, width=32, progress=False,
                          overwrite=overwrite)
    assert (real / "images" / "00001D.png").read_bytes() == b"precious"


def test_odd_sizes_render():
    for h, w in ((16, 16), (33, 47), (16, 120), (120, 20)):
        for layout in ("mfnet", "fmb"):
            scene = render_scene(1, h, w, layout=layout, t=0.7)
            assert scene.rgb.shape == (h, w, 3) and scene.label.shape == (h, w)


def test_write_dataset_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        write_dataset(tmp_path / "x", "kitti", n=4, progress=False)
    with pytest.raises(ValueError, match="at least 3"):
        write_dataset(tmp_path / "x", "mfnet", n=2, progress=False)
    with pytest.raises(ValueError, match="night_fraction"):
        write_dataset(tmp_path / "x", "mfnet", n=4, night_fraction=1.5, progress=False)


def test_synth_cli_in_process(tmp_path, capsys):
    out = tmp_path / "syn"
    rc = cli.main(["synth", str(out), "--layout", "fmb", "--n", "4", "--seed", "2",
                   "--size", "48", "64", "--night-fraction", "0.5", "--no-progress"])
    assert rc == 0
    text = capsys.readouterr().out
    assert str(out) in text and "preview.png" in text
    preview = cv2.imread(str(out / "preview.png"))
    assert preview is not None and preview.shape[1] > 3 * 300  # rgb | thermal | label
    meta = json.loads((out / METADATA_FILE).read_text())
    assert (meta["layout"], meta["height"], meta["width"], meta["seed"]) == ("fmb", 48, 64, 2)
    assert cli.main(["synth", str(tmp_path / "bad"), "--n", "1"]) == 2
    assert "--n" in capsys.readouterr().err
    # an existing output is kept unless --overwrite is given
    again = ["synth", str(out), "--n", "3", "--size", "32", "32", "--no-progress"]
    assert cli.main(again) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert json.loads((out / METADATA_FILE).read_text())["layout"] == "fmb"
    assert cli.main([*again, "--overwrite"]) == 0
    assert not (out / "train" / "Visible").exists()  # the old FMB files are gone
    assert len(build_dataset("synthetic", out, "train")) + len(
        build_dataset("synthetic", out, "val")) + len(build_dataset("synthetic", out, "test")) == 3


def test_synth_cli_subprocess(tmp_path):
    out = tmp_path / "mf"
    proc = subprocess.run(
        [sys.executable, "-m", "sccosf_ros.cli", "synth", str(out), "--n", "3", "--size",
         "32", "48", "--no-progress", "--preview", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrote 3 synthetic mfnet images" in proc.stdout
    for f in ("train.txt", "val.txt", "test.txt", "test_day.txt", "test_night.txt",
              "preview.png", METADATA_FILE):
        assert (out / f).is_file(), f
    assert len(list((out / "images").glob("*.png"))) == 3
