"""latest.pt / best.pt: exact resume, Ctrl-C, loading via Predictor, refusing another network."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest
import torch

from sccosf_ros.training.errors import TrainError
from sccosf_ros.training.trainer import Trainer

CROP = (64, 96)  # conftest's train_cfg crop


def _state_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _optim_equal(a: dict, b: dict) -> None:
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for i in a["state"]:
        for k, v in a["state"][i].items():
            assert torch.equal(torch.as_tensor(v), torch.as_tensor(b["state"][i][k])), (i, k)


def test_resume_reproduces_an_uninterrupted_run(synth_root, tmp_path, train_cfg):
    # the augmentation (flip/scale/crop) is on: resume must replay it exactly
    cfg = train_cfg(synth_root, tmp_path / "straight", max_iters=6, warmup_iters=2)
    straight = Trainer(cfg)
    straight.fit()

    cut = train_cfg(synth_root, tmp_path / "cut", max_iters=6, warmup_iters=2)
    first = Trainer(cut)
    first.fit(stop_at=3)  # like Ctrl-C after step 3: latest.pt holds the state
    assert first.step == 3
    latest = torch.load(tmp_path / "cut" / "latest.pt", weights_only=True)
    assert latest["train_state"]["step"] == 3

    second = Trainer(replace(cut, resume=True))
    assert second.step == 3
    assert second.optimizer.param_groups[0]["lr"] == pytest.approx(
        first.optimizer.param_groups[0]["lr"]
    )
    _optim_equal(second.optimizer.state_dict(), first.optimizer.state_dict())
    second.fit()
    assert second.step == straight.step == 6
    _state_equal(second.model.state_dict(), straight.model.state_dict())
    _optim_equal(second.optimizer.state_dict(), straight.optimizer.state_dict())
    assert second.scheduler.state_dict() == straight.scheduler.state_dict()
    # the loss curve after the resume point is the uninterrupted one
    assert [h["total"] for h in second.history] == [h["total"] for h in straight.history[3:]]
    rows = list(csv.DictReader((tmp_path / "cut" / "log.csv").open()))
    assert [int(r["step"]) for r in rows if r["kind"] == "train"] == [1, 2, 3, 4, 5, 6]


def test_ctrl_c_saves_latest(synth_root, tmp_path, train_cfg):
    class Interrupting(Trainer):
        def train_step(self, batch, counts=None):
            if self.step == 2:
                raise KeyboardInterrupt
            return super().train_step(batch, counts)

    t = Interrupting(train_cfg(synth_root, tmp_path / "run"))
    with pytest.raises(KeyboardInterrupt):
        t.fit()
    ckpt = torch.load(tmp_path / "run" / "latest.pt", weights_only=True)
    assert ckpt["train_state"]["step"] == 2
    resumed = Trainer(train_cfg(synth_root, tmp_path / "run", resume=True))
    assert resumed.step == 2


def test_checkpoints_load_through_predictor(synth_root, tmp_path, train_cfg):
    from sccosf_ros.classes import MFNET_CLASSES
    from sccosf_ros.data.datasets import build_dataset
    from sccosf_ros.inference import Predictor

    Trainer(train_cfg(synth_root, tmp_path / "run", max_iters=2)).fit()
    raw = build_dataset("synthetic", str(synth_root), "test").load_raw(0)
    for name in ("latest.pt", "best.pt"):
        ckpt = torch.load(tmp_path / "run" / name, weights_only=True)
        assert ckpt["meta"]["step"] == 2
        assert ckpt["class_names"] == list(MFNET_CLASSES)
        assert ("train_state" in ckpt) == (name == "latest.pt")
        assert ckpt["train_size"] == list(CROP)
        pred = Predictor.from_checkpoint(tmp_path / "run" / name, device="cpu")
        assert pred.train_size == CROP
        out = pred.predict(raw.rgb, raw.thermal)
        assert out.labels.shape == raw.label.shape and out.fused.shape == raw.rgb.shape
    cfg = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert cfg["config"]["crop"] == list(CROP) and cfg["num_classes"] == len(MFNET_CLASSES)


def test_resume_refuses_a_different_network(synth_root, tmp_path, train_cfg):
    Trainer(train_cfg(synth_root, tmp_path / "run", max_iters=4)).fit(stop_at=1)
    with pytest.raises(TrainError, match=r"different network.*use_sc_fgb: True → False"):
        Trainer(train_cfg(synth_root, tmp_path / "run", max_iters=4, resume=True, ablation="B"))
    with pytest.raises(TrainError, match=r"d_state: 1 → 2"):
        Trainer(
            train_cfg(
                synth_root,
                tmp_path / "run",
                max_iters=4,
                resume=True,
                model_overrides={"d_state": 2},
            )
        )
