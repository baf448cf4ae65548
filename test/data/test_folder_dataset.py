"""``--dataset folder``: classes.yaml, splits, optional labels, and thermal normalised exactly as
the node normalises the same message (extracted bags and hand-made folders)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from sccosf_ros.bag.bag_io import BagReader, stamp_ns
from sccosf_ros.bag.extract import ExtractConfig, extract
from sccosf_ros.class_set import ClassSet, write_class_set
from sccosf_ros.cli import main
from sccosf_ros.data.datasets import DATASET_NAMES, build_dataset, dataset_class
from sccosf_ros.data.errors import DatasetError, DatasetNotFoundError
from sccosf_ros.data.folder_dataset import FolderDataset
from sccosf_ros.pipeline.pairing import ApproxTimePairer
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.processor import PairProcessor
from sccosf_ros.synthetic import write_synthetic_bag

SHIFT = [1.0, 0.0, 2.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]  # thermal 2 px right, 1 px down


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """A 2 s bag extracted with a registration homography and percentile normalisation."""
    tmp = tmp_path_factory.mktemp("folder")
    bag = write_synthetic_bag(
        tmp / "bag",
        duration=2.0,
        rgb_rate=10.0,
        thermal_rate=10.0,
        height=32,
        width=40,
        show_progress=False,
    )
    params = NodeParams.from_dict(
        {
            "registration.homography": SHIFT,
            "thermal.normalization": "percentile",
            "thermal.percentile_low": 2.0,
            "thermal.percentile_high": 98.0,
        }
    )
    c = bag.config
    cfg = ExtractConfig(
        bag=bag.path,
        rgb_topic=c.rgb_topic,
        thermal_topic=c.thermal_topic,
        label_topic=c.label_topic,
        out=tmp / "ds",
        params=params,
        every_s=0.0,
        duplicate_threshold=0.0,
        block=4,
        progress=False,
        warn=lambda m: None,
    )
    extract(cfg)
    return bag, params, tmp / "ds"


def _node_pairs(bag, params: NodeParams) -> dict[int, tuple]:
    """RGB stamp → (RGB, thermal) messages of every pair, paired as the node pairs them."""
    c = bag.config
    pairer = ApproxTimePairer(2, params.sync_queue_size, params.sync_slop)
    pairs = {}
    with BagReader(bag.path) as r:
        for topic, msgtype, _, raw in r.messages([c.rgb_topic, c.thermal_topic]):
            msg = r.deserialize(raw, msgtype)
            for rgb, th in pairer.add(int(topic == c.thermal_topic), stamp_ns(msg), msg):
                pairs[stamp_ns(rgb)] = (rgb, th)
    return pairs


def test_the_model_sees_the_thermal_the_node_computes_for_the_same_message(extracted):
    bag, params, root = extracted
    ds = build_dataset("folder", root, ("train", "val", "test"))
    assert isinstance(ds, FolderDataset) and len(ds) > 10
    assert ds.thermal_norm == params.thermal_norm()  # dataset.yaml's, not the default
    processor = PairProcessor(params, None)
    pairs = _node_pairs(bag, params)
    for i in (0, len(ds) // 2, len(ds) - 1):
        sample = ds[i]
        rgb_msg, th_msg = pairs[int(sample["name"].split("_")[1])]
        rgb, thermal = processor.prepare(rgb_msg, th_msg)
        node = torch.from_numpy(processor.thermal_norm(thermal))[None]
        assert torch.equal(sample["thermal"], node)
        assert torch.equal(sample["rgb"], torch.from_numpy(rgb).permute(2, 0, 1).float() / 255)
        assert sample["label"].max() < 9  # labels present: no pixel ignored


def test_splits_classes_and_missing_labels(extracted, tmp_path):
    _, _, root = extracted
    assert "folder" in DATASET_NAMES and dataset_class("folder", root) is FolderDataset
    assert FolderDataset.available_splits(root) == ["test", "train", "val"]
    train, test = FolderDataset(root, "train"), FolderDataset(root, "test")
    assert not set(train.names) & set(test.names)
    assert train.class_names == list(ClassSet.of_dataset("mfnet").names)
    gone = train.names[0]
    (root / "labels" / f"{gone}.png").rename(tmp_path / "kept.png")
    try:
        s = FolderDataset(root, "train").load_raw(0)
        assert s.name == gone and (s.label == 255).all()  # every pixel ignored
    finally:
        (tmp_path / "kept.png").rename(root / "labels" / f"{gone}.png")


def _hand_made(root: Path, ignore: int = 255) -> None:
    """Three 8-bit samples, a 3-class set, labels for two of them, no dataset.yaml."""
    classes = ClassSet(("floor", "pallet", "person"), ((0, 0, 0), (200, 120, 0), (220, 20, 60)))
    (root / "rgb").mkdir(parents=True)
    (root / "thermal").mkdir()
    (root / "labels").mkdir()
    (root / "splits").mkdir()
    write_class_set(ClassSet(classes.names, classes.palette, ignore), root)
    rng = np.random.default_rng(0)
    for i, name in enumerate(("a", "b", "c")):
        cv2.imwrite(str(root / "rgb" / f"{name}.png"), rng.integers(0, 255, (24, 32, 3), np.uint8))
        cv2.imwrite(str(root / "thermal" / f"{name}.png"), np.full((24, 32), 40 * i, np.uint8))
        if name != "c":
            label = np.full((24, 32), i, np.uint8)
            label[:4] = ignore
            cv2.imwrite(str(root / "labels" / f"{name}.png"), label)
    (root / "splits" / "train.txt").write_text("a\nb\n")
    (root / "splits" / "val.txt").write_text("c\n")


def test_a_hand_made_folder_with_8_bit_thermal_and_its_own_classes(tmp_path):
    _hand_made(tmp_path, ignore=7)
    ds = FolderDataset(tmp_path, ("train", "val"))
    assert ds.class_names == ["floor", "pallet", "person"] and ds.num_classes == 3
    assert ds.palette[1] == (200, 120, 0)
    a, b, c = (ds[i] for i in range(3))
    assert torch.allclose(b["thermal"], torch.full_like(b["thermal"], 40 / 255))  # auto: /255
    assert (a["label"][:4] == 255).all() and (b["label"][4:] == 1).all()  # 7 → 255
    assert (c["label"] == 255).all()  # no label file


def test_check_dataset_accepts_a_folder_and_bad_folders_are_one_line(tmp_path, capsys):
    _hand_made(tmp_path / "ok")
    assert main(["check-dataset", "--dataset", "folder", "--root", str(tmp_path / "ok")]) == 0
    assert "3 samples checked" in capsys.readouterr().out
    cv2.imwrite(str(tmp_path / "ok" / "labels" / "a.png"), np.full((24, 32), 5, np.uint8))
    with pytest.raises(DatasetError, match=r"a\.png: label values \[5\] are out of range"):
        FolderDataset(tmp_path / "ok", "train").load_raw(0)
    (tmp_path / "ok" / "classes.yaml").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"classes\.yaml: no such file"):
        FolderDataset(tmp_path / "ok", "train")
    _hand_made(tmp_path / "nosplit")
    with pytest.raises(DatasetNotFoundError, match=r"split file not found: .*test\.txt .*train"):
        FolderDataset(tmp_path / "nosplit", "test")
