"""Damaged datasets through the real commands: `sccosf check-dataset` and `sccosf train`.

Each case is one clear line per bad sample naming its file, exit 2, and no Python traceback;
training refuses before step 1 (nothing is written) unless the check is skipped, in which case
the loader's error is one line and latest.pt is saved first.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

H, W = 48, 64


def _sccosf(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sccosf_ros.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    from sccosf_ros.synthetic import write_dataset

    root = tmp_path_factory.mktemp("faults") / "mfnet"
    write_dataset(root, layout="mfnet", n=16, seed=2, height=H, width=W, progress=False)
    return root


def _damaged(clean, tmp_path):
    """A copy with four kinds of damage, one per file."""
    root = tmp_path / "damaged"
    shutil.copytree(clean, root)
    train = (root / "train.txt").read_text().split()
    truncated, wrong_size = (root / "images" / f"{n}.png" for n in train[:2])
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # what an interrupted copy leaves
    img = cv2.imread(str(wrong_size), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(str(wrong_size), cv2.resize(img, (W // 2, H // 2)))
    label = root / "labels" / f"{train[2]}.png"
    lb = cv2.imread(str(label), cv2.IMREAD_UNCHANGED)
    lb[0, :3] = 77  # not an MFNet class id
    cv2.imwrite(str(label), lb)
    return root, {"truncated": truncated, "size": wrong_size, "ids": label}


def test_check_dataset_lists_each_damaged_file(clean, tmp_path):
    root, bad = _damaged(clean, tmp_path)
    proc = _sccosf("check-dataset", "--dataset", "mfnet", "--root", str(root), "--no-progress")
    assert proc.returncode == 2
    _no_traceback(proc)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert any(str(bad["truncated"]) in ln and "corrupt" in ln for ln in lines), lines
    assert any(str(bad["size"]) in ln and "sizes differ" in ln for ln in lines), lines
    assert any(str(bad["ids"]) in ln and "[77]" in ln for ln in lines), lines
    assert lines[-1].startswith("sccosf check-dataset: error: 3 of 16 samples")
    # the listing is capped; the rest are counted
    capped = _sccosf(
        "check-dataset", "--dataset", "mfnet", "--root", str(root), "--no-progress",
        "--max-listed", "1",
    )  # fmt: skip
    assert capped.returncode == 2 and "... and 2 more bad sample(s)" in capped.stderr

    ok = _sccosf("check-dataset", "--dataset", "mfnet", "--root", str(clean), "--no-progress")
    assert ok.returncode == 0 and "16 samples checked" in ok.stdout, ok.stderr


def test_check_dataset_missing_file_and_folder(clean, tmp_path):
    root = tmp_path / "missing"
    shutil.copytree(clean, root)
    gone = (root / "val.txt").read_text().split()[0]
    (root / "labels" / f"{gone}.png").unlink()
    proc = _sccosf("check-dataset", "--dataset", "mfnet", "--root", str(root), "--no-progress")
    assert proc.returncode == 2
    _no_traceback(proc)
    assert f"labels/{gone}.png" in proc.stderr and "missing" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    nowhere = _sccosf("check-dataset", "--dataset", "fmb", "--root", str(tmp_path / "nope"))
    assert nowhere.returncode == 2 and "not found" in nowhere.stderr
    _no_traceback(nowhere)


def _train_args(root, out, *extra: str) -> list[str]:
    return [
        "train", "--dataset", "mfnet", "--root", str(root), "--out", str(out),
        "--preset", "nano", "--batch-size", "2", "--crop", "32", "32", "--device", "cpu",
        "--threads", "1", "--eval-interval", "0", "--max-eval-images", "2",
        "--no-progress", "--no-tensorboard", *extra,
    ]  # fmt: skip


def test_train_refuses_a_damaged_dataset_before_step_1(clean, tmp_path):
    root, bad = _damaged(clean, tmp_path)
    out = tmp_path / "run"
    proc = _sccosf(*_train_args(root, out, "--max-iters", "4", "--workers", "0"))
    assert proc.returncode == 2
    _no_traceback(proc)
    assert proc.stderr.startswith("sccosf train: error: the dataset has damaged samples")
    for path in bad.values():
        assert str(path) in proc.stderr
    assert "sccosf check-dataset" in proc.stderr
    assert not (out / "latest.pt").exists()  # nothing trained


def test_a_sample_failing_in_a_loader_worker_is_one_line_after_saving(clean, tmp_path):
    root = tmp_path / "late"
    shutil.copytree(clean, root)
    names = (root / "train.txt").read_text().split()
    broken = root / "images" / f"{names[-1]}.png"
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    out = tmp_path / "run"
    # the check is skipped: the damage is found by a loader worker during training
    proc = _sccosf(
        *_train_args(root, out, "--max-iters", "40", "--workers", "1", "--no-data-check")
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    _no_traceback(proc)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("sccosf train: error:")]
    assert len(errors) == 1 and str(broken) in errors[0], proc.stderr[-2000:]
    step = int(errors[0].rsplit("saved at step ", 1)[1].rstrip(")"))
    ckpt = torch.load(out / "latest.pt", weights_only=True)
    assert ckpt["train_state"]["step"] == step
    # 8 training images, batch 2: the broken one is met within the first epoch (4 steps)
    assert 0 <= step < 4


def test_check_runs_on_the_validation_split_too(clean, tmp_path):
    root = tmp_path / "val"
    shutil.copytree(clean, root)
    name = (root / "val.txt").read_text().split()[0]
    path = root / "images" / f"{name}.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(np.arange(64, dtype=np.uint8)))
    proc = _sccosf(*_train_args(root, tmp_path / "run", "--max-iters", "2", "--workers", "0"))
    assert proc.returncode == 2 and str(path) in proc.stderr
    _no_traceback(proc)


def test_a_damaged_label_is_named_once_and_libpng_stays_quiet(clean, tmp_path):
    """Bytes flipped inside a label's pixel data, another label of the wrong size: each line
    names its sample once, and libpng's own complaint (printed from C) does not leak."""
    root = tmp_path / "labels"
    shutil.copytree(clean, root)
    names = (root / "train.txt").read_text().split()
    flipped, small = (root / "labels" / f"{n}.png" for n in names[:2])
    data = bytearray(flipped.read_bytes())
    data[60:124] = bytes(b ^ 0xFF for b in data[60:124])
    flipped.write_bytes(bytes(data))
    lb = cv2.imread(str(small), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(str(small), cv2.resize(lb, (W // 2, H // 2), interpolation=cv2.INTER_NEAREST))
    proc = _sccosf("check-dataset", "--dataset", "mfnet", "--root", str(root), "--no-progress")
    assert proc.returncode == 2
    _no_traceback(proc)
    assert "libpng" not in proc.stderr and "Read Error" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 3, lines  # two samples, then the summary
    for name, line in zip(names[:2], lines[:2], strict=True):
        assert line.count(f"sample '{name}'") == 1, line
    assert str(flipped) in lines[0] and "corrupt" in lines[0]
    assert str(small) in lines[1] and "sizes differ" in lines[1]
    # the loader's path (check skipped): the same single prefix, one error line
    proc = _sccosf(
        *_train_args(root, tmp_path / "run", "--max-iters", "2", "--workers", "0",
                     "--no-data-check")
    )  # fmt: skip
    assert proc.returncode == 2 and "libpng" not in proc.stderr, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1 and errors[0].count("sample '") == 1, proc.stderr
