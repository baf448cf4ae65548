"""``sccosf train`` on a tiny ``sccosf synth`` dataset, for the train command's test files."""

from __future__ import annotations

from pathlib import Path

from sccosf_ros.cli import main

H, W = 48, 64  # the synthetic frames


def make_synth_root(root: Path) -> Path:
    """Eight synthetic H×W pairs in the synthetic dataset layout at ``root``."""
    args = ["synth", str(root), "--n", "8", "--size", str(H), str(W), "--preview", "0"]
    assert main([*args, "--no-progress"]) == 0
    return root


def train(root, out, *flags: str) -> int:
    """Two CPU steps of ``sccosf train`` on ``root`` into ``out``, plus ``flags``."""
    return main(
        ["train", "--dataset", "synthetic", "--root", str(root), "--out", str(out),
         "--crop", "32", "32", "--max-iters", "2", "--batch-size", "2", "--workers", "0",
         "--no-tensorboard", "--no-progress", "--device", "cpu", "--threads", "1",
         "--max-eval-images", "1", "--no-data-check", *flags]
    )  # fmt: skip
