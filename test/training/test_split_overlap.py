"""Split hygiene: a training image also in a held-out split is refused (by name and by RGB file
content) for the MFNet layouts (the MRFS one included) and FMB; ``allow_overlap`` warns."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest

from sccosf_ros.training.plan import PlanError, make_plan
from sccosf_ros.training.split_overlap import SplitOverlapError, check_split_overlap
from sccosf_ros.training.trainer import Trainer


def _check(cfg) -> str | None:
    plan = make_plan(cfg)
    return check_split_overlap(cfg, plan.train_set, plan.val_set, progress=False)


def _names(root: Path, split: str) -> list[str]:
    return (root / f"{split}.txt").read_text().split()


@pytest.fixture
def mfnet_copy(synth_root, tmp_path):
    root = tmp_path / "mfnet"
    shutil.copytree(synth_root, root)
    return root


def test_clean_splits_pass(synth_root, tmp_path, train_cfg):
    assert _check(train_cfg(synth_root, tmp_path)) is None


def test_a_shared_name_or_a_copied_image_is_refused(mfnet_copy, tmp_path, train_cfg):
    train = _names(mfnet_copy, "train")
    with (mfnet_copy / "val.txt").open("a") as f:
        f.write(f"{train[0]}\n")
    for folder in ("images", "labels"):  # the same picture in test under another name
        shutil.copy(mfnet_copy / folder / f"{train[1]}.png", mfnet_copy / folder / "copy9N.png")
    with (mfnet_copy / "test.txt").open("a") as f:
        f.write("copy9N\n")
    cfg = train_cfg(mfnet_copy, tmp_path / "run")
    with pytest.raises(SplitOverlapError) as info:
        Trainer(cfg)
    msg = str(info.value)
    assert "held-out split(s) val, test" in msg and "\n" not in msg
    assert f"1 by name ({train[0]})" in msg
    assert f"1 by identical RGB file ({train[1]} = copy9N)" in msg and "--allow-overlap" in msg
    cfg.allow_overlap = True
    assert _check(cfg).startswith("warning: training images also in the held-out")


def test_training_on_train_plus_val_is_checked_against_test(mfnet_copy, tmp_path, train_cfg):
    test = _names(mfnet_copy, "test")
    with (mfnet_copy / "val.txt").open("a") as f:
        f.write("\n".join(test[:5]) + "\n")
    cfg = train_cfg(mfnet_copy, tmp_path, train_splits=("train", "val"), val_split="test")
    with pytest.raises(SplitOverlapError, match=r"held-out split\(s\) test: 5 by name .*\+2 more"):
        _check(cfg)


def _mrfs_layout(src: Path, root: Path) -> None:
    """The MRFS copy of MFNet: visible/ infrared/ label/, and its test set named val.txt."""
    for d in ("visible", "infrared", "label"):
        (root / d).mkdir(parents=True)
    for p in (src / "images").glob("*.png"):
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)  # B,G,R,thermal
        cv2.imwrite(str(root / "visible" / p.name), img[..., :3])
        cv2.imwrite(str(root / "infrared" / p.name), img[..., 3])
        shutil.copy(src / "labels" / p.name, root / "label" / p.name)
    shutil.copy(src / "train.txt", root / "train.txt")
    shutil.copy(src / "test.txt", root / "val.txt")


def test_the_mrfs_layout_val_is_its_test_set(synth_root, tmp_path, train_cfg):
    root = tmp_path / "mrfs"
    _mrfs_layout(synth_root, root)
    assert _check(train_cfg(root, tmp_path, dataset="mfnet", val_split="val")) is None
    paper = train_cfg(
        root, tmp_path, dataset="mfnet", train_splits=("train", "val"), val_split="val"
    )
    with pytest.raises(SplitOverlapError, match=r"by name.*names its test set val.txt"):
        _check(paper)
    # the mfnet-paper recipe's split choice: no test.txt exists there, and the reason is said
    recipe = train_cfg(
        root, tmp_path, dataset="mfnet", train_splits=("train", "val"), val_split="test"
    )
    with pytest.raises(PlanError, match=r"test.txt.*its val.txt is the test set.*--train-split"):
        make_plan(recipe)
    recipe.val_split = "val"
    recipe.allow_overlap = True
    assert "names its test set val.txt" in _check(recipe)


def test_fmb_layout_is_checked_by_content(tmp_path, train_cfg):
    from sccosf_ros.synthetic import write_dataset

    root = tmp_path / "fmb"
    write_dataset(root, layout="fmb", n=6, seed=2, height=48, width=64)
    name = sorted(p.stem for p in (root / "train" / "Visible").glob("*.png"))[0]
    for d in ("Visible", "Infrared", "Label"):
        shutil.copy(root / "train" / d / f"{name}.png", root / "test" / d / "dup.png")
    with pytest.raises(
        SplitOverlapError, match=rf"split\(s\) test: 1 by identical RGB file \({name} = dup\)"
    ):
        _check(train_cfg(root, tmp_path, crop=(32, 32)))
