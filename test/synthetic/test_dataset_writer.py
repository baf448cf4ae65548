"""write_dataset round trips in the MFNet and FMB layouts, and the ``sccosf synth`` CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from sccosf_ros import cli
from sccosf_ros.classes import FMB_CLASSES
from sccosf_ros.data.datasets import build_dataset
from sccosf_ros.synthetic import (
    METADATA_FILE,
    THERMAL_COUNTS,
    DatasetSettings,
    read_metadata,
    render_scene,
    scene_seed,
    write_dataset,
)


def test_write_dataset_mfnet_round_trip(tmp_path):
    root = write_dataset(
        tmp_path / "mf",
        layout="mfnet",
        n=8,
        seed=3,
        height=48,
        width=64,
        night_fraction=0.5,
        progress=False,
    )
    meta = json.loads((root / METADATA_FILE).read_text())
    assert meta["layout"] == "mfnet" and meta["n"] == 8
    assert tuple(meta["thermal_counts"]) == THERMAL_COUNTS
    assert sum(meta["night"].values()) == 4
    assert read_metadata(root) == meta
    all_names = []
    for split in ("train", "val", "test"):
        ds = build_dataset("synthetic", root, split)
        assert ds.name == "mfnet" and ds.synthetic and len(ds) > 0
        all_names += ds.names
    assert sorted(all_names) == sorted(meta["night"])
    test = (root / "test.txt").read_text().split()
    day, night = (
        (root / "test_day.txt").read_text().split(),
        (root / "test_night.txt").read_text().split(),
    )
    assert sorted(day + night) == sorted(test)
    assert all(n.endswith("D") for n in day) and all(n.endswith("N") for n in night)

    ds = build_dataset("synthetic", root, "train")
    raw = ds.load_raw(0)
    i = int(raw.name[:5]) - 1
    scene = render_scene(scene_seed(3, i), 48, 64, "mfnet", night=raw.name.endswith("N"))
    np.testing.assert_array_equal(raw.rgb, scene.rgb)
    np.testing.assert_array_equal(raw.thermal, scene.thermal8)
    np.testing.assert_array_equal(raw.label, scene.label)
    assert raw.night == scene.night
    # the stored image really is the 4-channel MFNet PNG (B,G,R,thermal as OpenCV sees it)
    img = cv2.imread(str(root / "images" / f"{raw.name}.png"), cv2.IMREAD_UNCHANGED)
    assert img.shape == (48, 64, 4)
    np.testing.assert_array_equal(img[..., 3], scene.thermal8)
    np.testing.assert_array_equal(img[..., 2::-1], scene.rgb)


def test_splits_and_night_flags_are_pinned(tmp_path):
    """Which image lands in which split, by day or night, is part of the data's identity."""
    root = write_dataset(
        tmp_path / "mf", DatasetSettings(n=8, seed=3, height=32, width=32), progress=False
    )
    lists = {
        f: (root / f"{f}.txt").read_text().split()
        for f in ("train", "val", "test", "test_day", "test_night")
    }
    assert lists == {
        "train": ["00001D", "00003N", "00004D", "00008N"],
        "val": ["00002N", "00005N"],
        "test": ["00006D", "00007D"],
        "test_day": ["00006D", "00007D"],
        "test_night": [],
    }
    root = write_dataset(
        tmp_path / "fmb",
        layout="fmb",
        n=5,
        seed=1,
        height=32,
        width=32,
        night_fraction=0.4,
        progress=False,
    )
    labels = sorted(p.relative_to(root).as_posix() for p in root.rglob("*/Label/*.png"))
    assert labels == ["test/Label/00005.png"] + [f"train/Label/0000{i}.png" for i in range(1, 5)]
    assert read_metadata(root)["night"] == {
        "00001": False,
        "00002": False,
        "00003": False,
        "00004": True,
        "00005": True,
    }


def test_write_dataset_fmb_round_trip(tmp_path):
    root = write_dataset(
        tmp_path / "fmb",
        layout="fmb",
        n=5,
        seed=1,
        height=48,
        width=64,
        night_fraction=0.0,
        progress=False,
    )
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
            write_dataset(
                real, layout="mfnet", n=3, height=32, width=32, progress=False, overwrite=overwrite
            )
    assert (real / "images" / "00001D.png").read_bytes() == b"precious"


def test_write_dataset_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        write_dataset(tmp_path / "x", layout="kitti", n=4, progress=False)
    with pytest.raises(ValueError, match="at least 3"):
        write_dataset(tmp_path / "x", layout="mfnet", n=2, progress=False)
    with pytest.raises(ValueError, match="night_fraction"):
        write_dataset(tmp_path / "x", layout="mfnet", n=4, night_fraction=1.5, progress=False)
    with pytest.raises(TypeError, match="unknown synthetic dataset option"):
        write_dataset(tmp_path / "x", colour="blue", progress=False)
    assert not (tmp_path / "x").exists()  # validated before anything is written


def test_read_metadata(tmp_path):
    assert read_metadata(tmp_path) is None
    (tmp_path / METADATA_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="not a readable"):
        read_metadata(tmp_path)
    (tmp_path / METADATA_FILE).write_text(json.dumps({"layout": "kitti"}))
    with pytest.raises(ValueError, match="'layout'"):
        read_metadata(tmp_path)


def test_synth_cli_in_process(tmp_path, capsys):
    out = tmp_path / "syn"
    rc = cli.main(
        [
            "synth",
            str(out),
            "--layout",
            "fmb",
            "--n",
            "4",
            "--seed",
            "2",
            "--size",
            "48",
            "64",
            "--night-fraction",
            "0.5",
            "--no-progress",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert str(out) in text and "preview.png" in text
    preview = cv2.imread(str(out / "preview.png"))
    assert preview is not None and preview.shape[1] > 3 * 300  # rgb | thermal | label
    meta = json.loads((out / METADATA_FILE).read_text())
    assert (meta["layout"], meta["height"], meta["width"], meta["seed"]) == ("fmb", 48, 64, 2)
    assert cli.main(["synth", str(tmp_path / "bad"), "--n", "1"]) == 2
    assert "--n" in capsys.readouterr().err
    assert cli.main(["synth", str(tmp_path / "neg"), "--seed", "-1", "--no-progress"]) == 2
    assert "seed must be >= 0" in capsys.readouterr().err
    # an existing output is kept unless --overwrite is given
    again = ["synth", str(out), "--n", "3", "--size", "32", "32", "--no-progress"]
    assert cli.main(again) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert json.loads((out / METADATA_FILE).read_text())["layout"] == "fmb"
    assert cli.main([*again, "--overwrite"]) == 0
    assert not (out / "train" / "Visible").exists()  # the old FMB files are gone
    assert (
        len(build_dataset("synthetic", out, "train"))
        + len(build_dataset("synthetic", out, "val"))
        + len(build_dataset("synthetic", out, "test"))
        == 3
    )


def test_synth_cli_subprocess(tmp_path):
    out = tmp_path / "mf"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sccosf_ros.cli",
            "synth",
            str(out),
            "--n",
            "3",
            "--size",
            "32",
            "48",
            "--no-progress",
            "--preview",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrote 3 synthetic mfnet images" in proc.stdout
    for f in (
        "train.txt",
        "val.txt",
        "test.txt",
        "test_day.txt",
        "test_night.txt",
        "preview.png",
        METADATA_FILE,
    ):
        assert (out / f).is_file(), f
    assert len(list((out / "images").glob("*.png"))) == 3
