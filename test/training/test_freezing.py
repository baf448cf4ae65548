"""``--freeze-encoder`` and ``--fusion-only`` freeze what they say: no gradient, weights unchanged
after optimizer steps, eval mode kept through validation; fusion-only trains on unlabelled data."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
import torch

from sccosf_ros.training.trainer import Trainer


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(module: torch.nn.Module, before: dict[str, torch.Tensor]) -> list[str]:
    now = module.state_dict()
    return [k for k, v in before.items() if not torch.equal(now[k], v)]


def _steps(trainer: Trainer, n: int) -> list[dict]:
    """``n`` optimizer steps; returns their loss terms."""
    loader = iter(trainer._loader())
    return [trainer.train_step(next(loader)) for _ in range(n)]


@pytest.fixture(scope="module")
def unlabelled_root(synth_root, tmp_path_factory):
    """The synthetic dataset with every label pixel 255: a recording nobody labelled."""
    root = tmp_path_factory.mktemp("unlabelled") / "ds"
    shutil.copytree(synth_root, root)
    for p in (root / "labels").glob("*.png"):
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        assert cv2.imwrite(str(p), np.full_like(img, 255))
    return root


def test_freeze_encoder_keeps_it_fixed_and_in_eval_mode(
    synth_root, tmp_path, train_cfg, one_thread
):
    trainer = Trainer(train_cfg(synth_root, tmp_path / "run", freeze_encoder=True, lr=1e-2))
    model = trainer.model
    enc, seg = _snapshot(model.encoder), _snapshot(model.seg_head)
    _steps(trainer, 2)
    assert all(p.grad is None for p in model.encoder.parameters())
    assert _changed(model.encoder, enc) == []
    assert _changed(model.seg_head, seg) and model.fusion[0].training
    trainer.validate()  # eval, then back to training: the frozen part stays in eval
    assert model.training and not model.encoder.training
    assert not any(m.training for m in model.encoder.modules())
    trained = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    assert not any(id(p) in trained for p in model.encoder.parameters())


def test_fusion_only_trains_the_fused_image_on_unlabelled_data(
    unlabelled_root, tmp_path, train_cfg, one_thread
):
    trainer = Trainer(train_cfg(unlabelled_root, tmp_path / "run", fusion_only=True, lr=1e-2))
    model = trainer.model
    seg, enc, head = (
        _snapshot(model.seg_head),
        _snapshot(model.encoder),
        _snapshot(model.fusion_head),
    )
    terms = _steps(trainer, 2)
    assert all(p.grad is None for p in model.seg_head.parameters())
    assert _changed(model.seg_head, seg) == [] and not model.seg_head.training
    assert _changed(model.encoder, enc) and _changed(model.fusion_head, head)
    for t in terms:  # no labelled pixel: the total is the weighted fusion loss alone
        assert t["ce"] == 0.0 and t["fusion"] > 0
        assert t["total"] == pytest.approx(0.1 * t["fusion"])
    summary = trainer.fit()  # validation on unlabelled images: no mIoU, best.pt = latest
    assert summary["best_miou"] is None and (tmp_path / "run" / "best.pt").is_file()


def test_without_fusion_only_the_segmentation_loss_counts(
    synth_root, tmp_path, train_cfg, one_thread
):
    trainer = Trainer(train_cfg(synth_root, tmp_path / "run", lr=1e-2))
    seg = _snapshot(trainer.model.seg_head)
    (t,) = _steps(trainer, 1)
    assert t["ce"] > 0 and t["total"] == pytest.approx(t["ce"] + 0.1 * t["fusion"], rel=1e-5)
    assert _changed(trainer.model.seg_head, seg)
