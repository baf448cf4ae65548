"""Shared by the training tests: a small synthetic dataset and a quick CPU TrainConfig."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sccosf_ros.training.config import TrainConfig

H, W = 96, 128  # synthetic image size
CROP = (64, 96)


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    from sccosf_ros.synthetic import write_dataset

    root = tmp_path_factory.mktemp("synth") / "mfnet"
    write_dataset(root, layout="mfnet", n=32, seed=3, height=H, width=W)
    return root


@pytest.fixture
def train_cfg():
    """``train_cfg(root, out, **changes)``: a few nano steps on CPU, no logs, no progress."""

    def make(root, out, **kw) -> TrainConfig:
        base = TrainConfig(
            dataset="synthetic",
            root=str(root),
            out=str(out),
            preset="nano",
            max_iters=6,
            batch_size=2,
            crop=CROP,
            num_workers=0,
            eval_interval=0,
            progress=False,
            tensorboard=False,
            log_interval=1,
            device="cpu",
            max_eval_images=4,
        )
        return replace(base, **kw)

    return make
