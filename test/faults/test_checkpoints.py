"""Checkpoints that must not load, through the real commands (eval, predict, train --resume):
a pickle that contains code, a directory, a truncated file. One line each, no traceback, and the
refusal says why and which global it names, in full."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch


class Payload:
    """An object torch would have to import and rebuild: code, not weights."""

    def __init__(self) -> None:
        self.note = "not a tensor"


class Runs:
    """What a malicious file carries: unpickling calls os.system."""

    def __reduce__(self):
        return (os.system, ("echo this-should-never-run",))


def _sccosf(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sccosf_ros.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_error_line(proc: subprocess.CompletedProcess, command: str) -> str:
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"sccosf {command}: error: "), lines
    return lines[0]


@pytest.fixture
def crafted(tmp_path, nano_checkpoint):
    """Real checkpoints with a pickled object added, and the global each one names."""
    ckpt = torch.load(nano_checkpoint, weights_only=True)
    files = {}
    for name, obj, global_name in (
        ("payload.pt", Payload(), f"{Payload.__module__}.{Payload.__qualname__}"),
        ("runs.pt", Runs(), f"{os.system.__module__}.system"),
    ):
        path = tmp_path / name
        torch.save({**ckpt, "meta": {**ckpt["meta"], "extra": obj}}, path)
        files[name] = (path, global_name)
    return files


@pytest.fixture
def pair(tmp_path):
    rgb = np.full((32, 40, 3), 120, np.uint8)
    th = np.full((32, 40), 90, np.uint8)
    cv2.imwrite(str(tmp_path / "rgb.png"), rgb)
    cv2.imwrite(str(tmp_path / "th.png"), th)
    return tmp_path / "rgb.png", tmp_path / "th.png"


def test_a_pickle_with_code_is_refused_naming_the_global(crafted, pair, tmp_path):
    for path, global_name in crafted.values():
        proc = _sccosf(
            "predict", "--checkpoint", str(path), "--rgb", str(pair[0]),
            "--thermal", str(pair[1]), "--out", str(tmp_path / "out"), "--device", "cpu",
        )  # fmt: skip
        line = _one_error_line(proc, "predict")
        assert "was refused: it contains code" in line
        assert f"the pickled global {global_name})" in line  # whole, not cut
        assert "weights_only=False" not in line  # no advice to turn the protection off
        assert "this-should-never-run" not in proc.stdout + proc.stderr


def test_eval_and_resume_give_the_same_refusal(crafted, tmp_path):
    from sccosf_ros.synthetic import write_dataset

    root = write_dataset(tmp_path / "d", layout="mfnet", n=12, height=48, width=64, progress=False)
    path, global_name = crafted["payload.pt"]
    proc = _sccosf(
        "eval", "--checkpoint", str(path), "--dataset", "mfnet", "--root", str(root),
        "--out", str(tmp_path / "e"), "--device", "cpu", "--no-progress",
    )  # fmt: skip
    assert global_name in _one_error_line(proc, "eval")
    out = tmp_path / "run"
    out.mkdir()
    (out / "latest.pt").write_bytes(path.read_bytes())
    proc = _sccosf(
        "train", "--dataset", "mfnet", "--root", str(root), "--out", str(out), "--resume",
        "--max-iters", "2", "--batch-size", "2", "--crop", "32", "32", "--device", "cpu",
        "--workers", "0", "--no-progress", "--no-data-check",
    )  # fmt: skip
    line = _one_error_line(proc, "train")
    assert "--resume" in line and global_name in line


def test_a_directory_is_reported_as_a_directory(nano_checkpoint, pair, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "best.pt").write_bytes(nano_checkpoint.read_bytes())
    proc = _sccosf(
        "predict", "--checkpoint", str(folder), "--rgb", str(pair[0]),
        "--thermal", str(pair[1]), "--out", str(tmp_path / "out"), "--device", "cpu",
    )  # fmt: skip
    line = _one_error_line(proc, "predict")
    assert "is a directory, not a file" in line and str(folder / "best.pt") in line
    assert "does not exist" not in line


def test_a_truncated_checkpoint_and_a_bad_image(nano_checkpoint, pair, tmp_path):
    cut = tmp_path / "cut.pt"
    data = nano_checkpoint.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    proc = _sccosf(
        "predict", "--checkpoint", str(cut), "--rgb", str(pair[0]), "--thermal", str(pair[1]),
        "--out", str(tmp_path / "out"), "--device", "cpu",
    )  # fmt: skip
    assert "corrupt, truncated or not a torch file" in _one_error_line(proc, "predict")
    broken = tmp_path / "broken.png"
    broken.write_bytes(pair[0].read_bytes()[:40])
    proc = _sccosf(
        "predict", "--checkpoint", str(nano_checkpoint), "--rgb", str(broken),
        "--thermal", str(pair[1]), "--out", str(tmp_path / "out"), "--device", "cpu",
    )  # fmt: skip
    assert str(broken) in _one_error_line(proc, "predict")


def _resume(root, out) -> subprocess.CompletedProcess:
    return _sccosf(
        "train", "--dataset", "mfnet", "--root", str(root), "--out", str(out), "--resume",
        "--max-iters", "2", "--batch-size", "2", "--crop", "32", "32", "--device", "cpu",
        "--workers", "0", "--no-progress", "--no-data-check", "--no-tensorboard",
    )  # fmt: skip


def test_resume_names_a_directory_and_a_file_that_is_no_checkpoint(tmp_path):
    from sccosf_ros.synthetic import write_dataset

    root = write_dataset(tmp_path / "d", layout="mfnet", n=12, height=48, width=64, progress=False)
    folder = tmp_path / "dir_run"
    (folder / "latest.pt").mkdir(parents=True)
    line = _one_error_line(_resume(root, folder), "train")
    assert f"{folder / 'latest.pt'} is a directory; expected the checkpoint file" in line
    assert "does not exist" not in line
    text = tmp_path / "text_run"
    text.mkdir()
    (text / "latest.pt").write_text("epoch,loss\n1,0.5\n")
    line = _one_error_line(_resume(root, text), "train")
    assert "is not a PyTorch checkpoint: it is neither a zip nor a pickle file" in line
    assert "KeyError" not in line and "b'epoch,lo'" in line


def test_weights_of_another_network_are_counted_not_listed(nano_checkpoint, pair, tmp_path):
    """A file whose weights come from another preset than its config: one line with the counts,
    the first key of each kind and how the file says it was trained; not torch's list."""
    from sccosf_ros.model import build_model

    ckpt = torch.load(nano_checkpoint, weights_only=True)
    other = build_model("tiny", num_classes=len(ckpt["class_names"])).state_dict()
    mixed = tmp_path / "mixed.pt"
    torch.save({**ckpt, "state_dict": other}, mixed)
    proc = _sccosf(
        "predict", "--checkpoint", str(mixed), "--rgb", str(pair[0]),
        "--thermal", str(pair[1]), "--out", str(tmp_path / "out"), "--device", "cpu",
    )  # fmt: skip
    line = _one_error_line(proc, "predict")
    assert "different network" in line and "(preset 'nano')" in line
    n_missing = len(set(ckpt["state_dict"]) - set(other))
    n_unexpected = len(set(other) - set(ckpt["state_dict"]))
    assert f"{n_missing} missing / {n_unexpected} unexpected keys" in line
    assert "in the file" in line and "Missing key(s)" not in line and "Error(s)" not in line
