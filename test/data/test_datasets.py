"""MFNet and FMB readers on fixture files written in the real layouts with cv2.imwrite."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from sccosf_ros.classes import FMB_CLASSES, MFNET_CLASSES, MFNET_PALETTE
from sccosf_ros.data.datasets import (
    FMBDataset,
    MFNetDataset,
    RawSample,
    build_dataset,
    night_from_name,
)
from sccosf_ros.data.transforms import TrainTransform

H, W = 24, 32


def _sample(seed: int, num_classes: int):
    """Distinct R, G, B, thermal planes (catches any channel swap) and a label with ignores."""
    rng = np.random.default_rng(seed)
    rgb = np.stack(
        [
            np.full((H, W), 10 + seed, np.uint8),
            rng.integers(0, 256, (H, W), np.uint8),
            np.full((H, W), 200 + seed, np.uint8),
        ],
        axis=2,
    )
    thermal = rng.integers(0, 256, (H, W), np.uint8)
    label = rng.integers(0, num_classes, (H, W)).astype(np.uint8)
    label[0, :4] = 255
    return rgb, thermal, label


def _write(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img)


def _mfnet_release(root: Path, names=("00001D", "00002N", "00003D")) -> dict:
    data = {}
    for k, n in enumerate(names):
        rgb, th, lb = _sample(k, 9)
        _write(root / "images" / f"{n}.png", np.dstack([rgb[..., ::-1], th]))  # B,G,R,A on disk
        _write(root / "labels" / f"{n}.png", lb)
        data[n] = (rgb, th, lb)
    (root / "train.txt").write_text("00001D\n00002N\n\n")
    (root / "test.txt").write_text("00003D\n")
    (root / "test_night.txt").write_text("00002N\n")
    return data


def _rgb_modal(root: Path, names=("00007N", "00008D")) -> dict:
    data = {}
    for k, n in enumerate(names):
        rgb, th, lb = _sample(10 + k, 9)
        _write(root / "RGB" / f"{n}.png", rgb[..., ::-1])
        # one thermal stored 1-channel, one as a 3-channel grey PNG
        _write(root / "Modal" / f"{n}.png", th if k == 0 else np.dstack([th, th, th]))
        _write(root / "Label" / f"{n}.png", lb)
        data[n] = (rgb, th, lb)
    (root / "train.txt").write_text("".join(f"{n}.png\n" for n in names))  # with extension
    return data


def _fmb(root: Path, split="train", names=("00001", "00002")) -> dict:
    data = {}
    for k, n in enumerate(names):
        rgb, th, lb = _sample(20 + k, 15)
        _write(root / split / "Visible" / f"{n}.png", rgb[..., ::-1])
        _write(root / split / "Infrared" / f"{n}.png", th if k == 0 else np.dstack([th] * 3))
        _write(root / split / "Label" / f"{n}.png", lb)
        data[n] = (rgb, th, lb)
    return data


def _assert_raw(raw: RawSample, expect) -> None:
    rgb, th, lb = expect
    assert raw.rgb.dtype == raw.thermal.dtype == raw.label.dtype == np.uint8
    np.testing.assert_array_equal(raw.rgb, rgb)
    np.testing.assert_array_equal(raw.thermal, th)
    np.testing.assert_array_equal(raw.label, lb)


# --------------------------------------------------------------------------- MFNet
def test_mfnet_release_layout(tmp_path):
    data = _mfnet_release(tmp_path)
    ds = MFNetDataset(tmp_path, "train")
    assert ds.layout == "mfnet" and ds.name == "mfnet"
    assert ds.class_names == list(MFNET_CLASSES)
    assert [tuple(c) for c in ds.palette] == list(MFNET_PALETTE)
    assert ds.names == ["00001D", "00002N"] and len(ds) == 2
    for i, name in enumerate(ds.names):
        raw = ds.load_raw(i)
        assert raw.name == name
        _assert_raw(raw, data[name])
    assert ds.load_raw(0).night is False and ds.load_raw(1).night is True
    assert MFNetDataset(tmp_path, "test_night").names == ["00002N"]

    item = ds[1]
    assert item["rgb"].shape == (3, H, W) and item["rgb"].dtype == torch.float32
    assert item["thermal"].shape == (1, H, W) and item["thermal"].dtype == torch.float32
    assert item["label"].shape == (H, W) and item["label"].dtype == torch.int64
    assert item["name"] == "00002N" and item["night"] is True
    rgb, th, _ = data["00002N"]
    torch.testing.assert_close(item["rgb"][2], torch.from_numpy(rgb[..., 2]).float() / 255)
    torch.testing.assert_close(item["thermal"][0], torch.from_numpy(th).float() / 255)
    assert int(item["label"][0, 0]) == 255
    assert float(item["rgb"].min()) >= 0.0 and float(item["rgb"].max()) <= 1.0


def test_mfnet_processed_layouts(tmp_path):
    data = _rgb_modal(tmp_path / "cmx")
    ds = build_dataset("mfnet", tmp_path / "cmx", "train")
    assert ds.layout == "rgb_modal" and ds.names == ["00007N", "00008D"]
    for i, name in enumerate(ds.names):
        _assert_raw(ds.load_raw(i), data[name])
    assert [ds.load_raw(i).night for i in range(2)] == [True, False]

    root = tmp_path / "mrfs"  # MRFS: visible/ infrared/ label/
    rgb, th, lb = _sample(3, 9)
    _write(root / "visible" / "00010D.png", rgb[..., ::-1])
    _write(root / "infrared" / "00010D.png", th)
    _write(root / "label" / "00010D.png", lb)
    (root / "test.txt").write_text("00010D\n")
    ds = MFNetDataset(root, "test")
    assert ds.layout == "visible_infrared"
    _assert_raw(ds.load_raw(0), (rgb, th, lb))


def test_day_night_from_names():
    assert night_from_name("00001D") is False
    assert night_from_name("01234N") is True
    assert night_from_name("frame_17") is None


def test_mfnet_with_transform_and_dataloader(tmp_path):
    _mfnet_release(tmp_path)
    ds = MFNetDataset(tmp_path, "train", transform=TrainTransform(crop=(16, 20), seed=0))
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["rgb"].shape == (2, 3, 16, 20)
    assert batch["thermal"].shape == (2, 1, 16, 20)
    assert batch["label"].shape == (2, 16, 20)
    assert batch["valid"].shape == (2, 16, 20) and batch["valid"].dtype == torch.bool
    assert batch["night"].tolist() == [False, True]
    labels = set(batch["label"].unique().tolist())
    assert labels <= set(range(9)) | {255}


def test_several_splits_are_their_union(tmp_path):
    _mfnet_release(tmp_path)
    (tmp_path / "val.txt").write_text("00003D\n00001D\n")  # 00001D is also in train
    ds = MFNetDataset(tmp_path, ["train", "val"])
    assert ds.names == ["00001D", "00002N", "00003D"] and ds.split == "train+val"
    assert ds.splits == ("train", "val")
    assert MFNetDataset.available_splits(tmp_path) == ["test", "test_night", "train", "val"]
    with pytest.raises(FileNotFoundError, match=r"nope\.txt"):
        MFNetDataset(tmp_path, ["train", "nope"])


# --------------------------------------------------------------------------- FMB
def test_fmb_layout_with_1_and_3_channel_infrared(tmp_path):
    data = _fmb(tmp_path, "train")
    _fmb(tmp_path, "test", names=("00100",))
    ds = FMBDataset(tmp_path, "train")
    assert ds.name == "fmb" and ds.class_names == list(FMB_CLASSES)
    assert ds.names == ["00001", "00002"]
    for i, name in enumerate(ds.names):
        raw = ds.load_raw(i)
        _assert_raw(raw, data[name])
        assert raw.night is None  # FMB names say nothing about the hour
    assert len(build_dataset("fmb", tmp_path, "test")) == 1
    item = ds[0]
    assert item["label"].max() <= 255 and item["night"] is None


# --------------------------------------------------------------------------- errors
def test_missing_root_and_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="root not found"):
        MFNetDataset(tmp_path / "nope", "train")
    (tmp_path / "images").mkdir()  # labels/ missing
    with pytest.raises(FileNotFoundError, match="not an MFNet dataset"):
        MFNetDataset(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="FMB split folder not found"):
        FMBDataset(tmp_path, "train")
    (tmp_path / "train" / "Visible").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="Infrared"):
        FMBDataset(tmp_path, "train")


def test_missing_split_file(tmp_path):
    _mfnet_release(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"val\.txt.*splits present"):
        MFNetDataset(tmp_path, "val")


def test_name_in_split_without_file(tmp_path):
    _mfnet_release(tmp_path)
    (tmp_path / "train.txt").write_text("00001D\n00099N\n")
    with pytest.raises(FileNotFoundError) as e:
        MFNetDataset(tmp_path, "train")
    msg = str(e.value)
    assert "00099N.png" in msg and "train.txt" in msg and "00001D" not in msg


def test_fmb_visible_without_pair(tmp_path):
    _fmb(tmp_path, "train")
    (tmp_path / "train" / "Label" / "00002.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"Label/00002\.png"):
        FMBDataset(tmp_path, "train")


def test_size_mismatch(tmp_path):
    _mfnet_release(tmp_path)
    _write(tmp_path / "labels" / "00002N.png", np.zeros((H + 2, W), np.uint8))
    ds = MFNetDataset(tmp_path, "train")
    ds.load_raw(0)
    with pytest.raises(ValueError, match=r"sizes differ.*label 26x32"):
        ds.load_raw(1)


def test_fmb_size_mismatch(tmp_path):
    _fmb(tmp_path, "train")
    _write(tmp_path / "train" / "Infrared" / "00001.png", np.zeros((H, W + 8), np.uint8))
    with pytest.raises(ValueError, match=r"00001.*thermal 24x40"):
        FMBDataset(tmp_path, "train").load_raw(0)


def test_label_values_out_of_range(tmp_path):
    _mfnet_release(tmp_path)
    lb = np.zeros((H, W), np.uint8)
    lb[3, 3], lb[4, 4] = 9, 255  # 255 is the ignore index: allowed
    _write(tmp_path / "labels" / "00001D.png", lb)
    with pytest.raises(ValueError, match=r"00001D\.png.*\[9\].*0\.\.8"):
        MFNetDataset(tmp_path, "train").load_raw(0)


def test_wrong_channel_counts(tmp_path):
    _mfnet_release(tmp_path)
    rgb, _, _ = _sample(0, 9)
    _write(tmp_path / "images" / "00001D.png", rgb)  # 3 channels: thermal missing
    with pytest.raises(ValueError, match="4-channel"):
        MFNetDataset(tmp_path, "train").load_raw(0)
    _write(tmp_path / "labels" / "00002N.png", rgb)  # a colour image as the label
    with pytest.raises(ValueError, match="class-id"):
        MFNetDataset(tmp_path, "train").load_raw(1)


def test_unreadable_image(tmp_path):
    _mfnet_release(tmp_path)
    (tmp_path / "images" / "00001D.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="corrupt"):
        MFNetDataset(tmp_path, "train").load_raw(0)


def test_build_dataset_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        build_dataset("cityscapes", tmp_path, "train")
    _mfnet_release(tmp_path)
    with pytest.raises(FileNotFoundError, match="sccosf synth"):
        build_dataset("synthetic", tmp_path, "train")  # real layout, no metadata
    (tmp_path / "sccosf_synth.json").write_text("{broken")
    with pytest.raises(ValueError, match=r"sccosf_synth\.json"):
        build_dataset("synthetic", tmp_path, "train")
