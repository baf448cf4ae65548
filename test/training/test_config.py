"""TrainConfig: normalised on construction, one TrainError per bad field, JSON-ready."""

from __future__ import annotations

import pytest

from sccosf_ros.errors import SccosfError
from sccosf_ros.training.config import MIN_CROP, TrainConfig
from sccosf_ros.training.errors import TrainError


def _ok(**kw) -> TrainConfig:
    return TrainConfig(**{"root": "data", "max_iters": 2, **kw})


def test_construction_normalises_sequences():
    cfg = _ok(train_splits="train", crop=[64.0, 96], scales=[1, 2], pretrained="none")
    assert cfg.train_splits == ("train",) and cfg.crop == (64, 96) and cfg.scales == (1.0, 2.0)
    assert cfg.pretrained is None
    cfg.validate()
    d = cfg.to_json_dict()
    assert d["crop"] == [64, 96] and d["train_splits"] == ["train"]


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"dataset": "kitti"}, "dataset must be one of"),
        ({"root": ""}, "no dataset root"),
        ({"epochs": 3}, "exactly one of"),
        ({"crop": (MIN_CROP - 1, 64)}, "crop must be"),
        ({"scale_range": (2.0, 1.0)}, "scale_range"),
        ({"lr": 0.0}, "lr > 0"),
        ({"warmup_iters": 1, "warmup_epochs": 1.0}, "at most one of"),
        ({"ablation": "Z"}, "ablation must be one of"),
        ({"checkpoint_minutes": -1.0}, "checkpoint_minutes"),
        ({"checkpoint_interval": -1}, "checkpoint_interval"),
    ],
)
def test_each_bad_field_is_one_train_error(changes, match):
    with pytest.raises(TrainError, match=match) as info:
        _ok(**changes).validate()
    assert isinstance(info.value, SccosfError) and isinstance(info.value, RuntimeError)
    assert info.value.exit_code == 2 and "\n" not in info.value.message


def test_latest_pt_is_saved_every_200_steps_or_2_minutes_by_default():
    """Whatever eval_interval says: a killed run loses at most this much."""
    from sccosf_ros.cli import build_parser
    from sccosf_ros.commands.train import config_from_args

    cfg = TrainConfig()
    assert (cfg.checkpoint_interval, cfg.checkpoint_minutes) == (200, 2.0)
    parser, _ = build_parser("train")
    args = parser.parse_args(
        ["--dataset", "synthetic", "--root", "d", "--out", "o", "--max-iters", "5",
         "--eval-interval", "0"]
    )  # fmt: skip
    cfg = config_from_args(args)
    assert (cfg.checkpoint_interval, cfg.checkpoint_minutes, cfg.eval_interval) == (200, 2.0, 0)
    args = parser.parse_args(
        ["--dataset", "synthetic", "--root", "d", "--out", "o", "--max-iters", "5",
         "--checkpoint-steps", "20", "--checkpoint-minutes", "0"]
    )  # fmt: skip
    cfg = config_from_args(args)
    assert (cfg.checkpoint_interval, cfg.checkpoint_minutes) == (20, 0.0)
    cfg.validate()
