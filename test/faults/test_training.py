"""Signals and crashes during a real `sccosf train` subprocess, then `--resume`.

SIGTERM (systemd, docker, SLURM, `timeout`) saves like Ctrl-C: the step in progress finishes,
latest.pt holds it, resume loses 0 steps. SIGKILL cannot be caught: resume loses at most one
checkpoint interval (by default 200 steps or 2 minutes, whatever --eval-interval says). A second
Ctrl-C while latest.pt is written waits for the file.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

H, W = 48, 64
LONG = 400  # steps: far more than the test waits for


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from sccosf_ros.synthetic import write_dataset

    root = tmp_path_factory.mktemp("signals") / "mfnet"
    write_dataset(root, layout="mfnet", n=12, seed=4, height=H, width=W, progress=False)
    return root


def _args(root: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "sccosf_ros.cli", "train", "--dataset", "mfnet",
        "--root", str(root), "--out", str(out), "--preset", "nano", "--batch-size", "2",
        "--crop", "32", "32", "--device", "cpu", "--threads", "1", "--workers", "0",
        "--eval-interval", "0", "--max-eval-images", "1", "--log-interval", "1",
        "--no-progress", "--no-tensorboard", "--no-data-check", *extra,
    ]  # fmt: skip


def _logged_steps(out: Path) -> list[int]:
    path = out / "log.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return [int(r["step"]) for r in csv.DictReader(f) if r.get("kind") == "train"]


def _start_and_wait(root: Path, out: Path, min_steps: int, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        _args(root, out, "--max-iters", str(LONG), *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while len(_logged_steps(out)) < min_steps:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"training did not reach {min_steps} steps: {proc.communicate()}")
        time.sleep(0.05)
    return proc


def _latest_step(out: Path) -> int:
    return int(torch.load(out / "latest.pt", weights_only=True)["train_state"]["step"])


def _resume_to(root: Path, out: Path, steps: int) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        _args(root, out, "--max-iters", str(steps), "--resume"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _latest_step(out) == steps
    logged = _logged_steps(out)
    assert logged == list(range(1, steps + 1)), logged  # no gap, no repeat
    return proc


@pytest.mark.slow
def test_sigterm_saves_the_current_step_and_resume_loses_nothing(tiny, tmp_path):
    out = tmp_path / "term"
    # no periodic checkpoint at all: only the signal handler can have saved
    proc = _start_and_wait(tiny, out, 3, "--checkpoint-minutes", "0", "--checkpoint-interval", "0")
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert "Traceback" not in stderr + stdout
    assert "SIGTERM: stopping after the current step" in stderr
    assert "stopped by SIGTERM" in stdout
    reached = _logged_steps(out)[-1]
    assert _latest_step(out) == reached  # 0 steps lost
    _resume_to(tiny, out, reached + 2)


@pytest.mark.slow
def test_sigkill_loses_at_most_one_checkpoint_interval(tiny, tmp_path):
    out = tmp_path / "kill"
    interval = 3
    proc = _start_and_wait(
        tiny, out, 2 * interval + 1, "--checkpoint-interval", str(interval),
        "--checkpoint-minutes", "0",
    )  # fmt: skip
    proc.kill()  # SIGKILL: no handler runs
    proc.communicate(timeout=60)
    reached = _logged_steps(out)[-1]
    saved = _latest_step(out)
    assert saved % interval == 0 and 0 <= reached - saved <= interval, (reached, saved)
    _resume_to(tiny, out, reached + 1)


@pytest.mark.slow
def test_sigkill_with_the_default_checkpoints_resumes_from_step_200(tiny, tmp_path):
    """No checkpoint flag and --eval-interval 0 (only the final evaluation): the default step
    checkpoint still saves latest.pt at step 200, so a kill -9 at step >= 250 loses < 200."""
    out = tmp_path / "default"
    proc = _start_and_wait(tiny, out, 250)
    proc.kill()
    proc.communicate(timeout=60)
    reached = _logged_steps(out)[-1]
    saved = _latest_step(out)
    assert 200 <= saved <= reached, (reached, saved)
    assert not list(out.glob(".latest.pt.*"))  # no temp file left: replaced atomically
    resumed = _resume_to(tiny, out, reached + 1)
    assert "Traceback" not in resumed.stderr


# `sccosf train` with torch.save held at the latest.pt write the stop asks for: it writes
# argv[1] when it enters that save and goes on once argv[2] exists, so the test can signal while
# the save is certainly in progress (no sleep that may land before or after it).
_HELD_SAVE = """
import sys, time
from pathlib import Path
import torch
entered, release = Path(sys.argv[1]), Path(sys.argv[2])
real_save = torch.save
def held_save(obj, f, *args, **kwargs):
    if isinstance(obj, dict) and obj.get("train_state") is not None and not entered.exists():
        entered.write_text("saving")
        deadline = time.monotonic() + 600  # hang guard
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    return real_save(obj, f, *args, **kwargs)
torch.save = held_save
from sccosf_ros.cli import main
sys.exit(main(sys.argv[3:]))
"""


def _wait_until(cond, proc: subprocess.Popen, what: str) -> None:
    """Wait until ``cond()``; the process must still be running."""
    deadline = time.monotonic() + 240  # a hang guard
    while not cond():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no {what} (exit code {proc.poll()})")
        time.sleep(0.02)


@pytest.mark.slow
def test_a_second_ctrl_c_during_the_save_waits_for_it(tiny, tmp_path):
    out = tmp_path / "int"
    entered, release = tmp_path / "entered", tmp_path / "release"
    stdout_path, stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    train = _args(
        tiny, out, "--max-iters", str(LONG), "--checkpoint-minutes", "0",
        "--checkpoint-interval", "0",
    )  # fmt: skip
    # no periodic save and no evaluation: the only latest.pt write is the one the stop asks for
    with stdout_path.open("w") as so, stderr_path.open("w") as se:
        proc = subprocess.Popen(
            [sys.executable, "-c", _HELD_SAVE, str(entered), str(release), *train[3:]],
            stdout=so,
            stderr=se,
            text=True,
        )
    try:
        _wait_until(lambda: len(_logged_steps(out)) >= 2, proc, "two logged steps")
        proc.send_signal(signal.SIGINT)  # stop after the current step, save latest.pt
        _wait_until(entered.exists, proc, "latest.pt save after the first SIGINT")
        proc.send_signal(signal.SIGINT)  # while latest.pt is being written
        _wait_until(
            lambda: "a checkpoint is being written" in stderr_path.read_text(),
            proc,
            "the held second SIGINT",
        )
        assert not (out / "latest.pt").exists()  # still in the save
        release.write_text("go")
        proc.wait(timeout=240)
    finally:
        proc.kill()
    stdout, stderr = stdout_path.read_text(), stderr_path.read_text()
    assert proc.returncode == 128 + signal.SIGINT, stderr[-3000:]
    assert "Traceback" not in stderr + stdout
    assert "SIGINT again: a checkpoint is being written, waiting for it to finish" in stderr
    saved = _latest_step(out)  # the held save completed: a complete, loadable file
    assert saved == _logged_steps(out)[-1] >= 2  # ... of the last step, none lost
    _resume_to(tiny, out, saved + 1)


_CRITICAL_SECTION = """
import os, signal, time
from sccosf_ros.training.stop_signals import GracefulStop
done = []
with GracefulStop(announce=False) as stop:
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.stop_requested and stop.exit_code == 143
    try:
        with stop.critical():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            done.append("saved")  # still runs: the signal waited
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the held SIGINT was not raised after the critical section")
    assert done == ["saved"]
    try:  # outside a critical section: at once
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
        raise AssertionError("SIGINT outside a critical section did not interrupt")
    except KeyboardInterrupt:
        pass
assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
print("ok")
"""


def test_signals_inside_a_critical_section_wait_for_its_end():
    """The real handler on real signals: the first asks for a stop, a second one during a
    critical section (a checkpoint write) is held until the section is done. In a fresh
    interpreter: signals sent to the pytest process would also reach whatever handlers
    earlier tests' libraries (rclpy, DDS) left installed."""
    res = subprocess.run(
        [sys.executable, "-c", _CRITICAL_SECTION], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stdout + res.stderr


def test_checkpoint_interval_and_minutes_are_independent_of_evaluation(tiny, tmp_path):
    from sccosf_ros.training.config import TrainConfig
    from sccosf_ros.training.trainer import Trainer

    class Recording(Trainer):
        saves: list[int]

        def _save_latest(self) -> None:
            self.saves = [*getattr(self, "saves", []), self.step]
            super()._save_latest()

    base = dict(
        dataset="mfnet", root=str(tiny), preset="nano", max_iters=5, batch_size=2,
        crop=(32, 32), num_workers=0, eval_interval=0, progress=False, tensorboard=False,
        device="cpu", max_eval_images=1, check_data=False,
    )  # fmt: skip
    by_steps = Recording(TrainConfig(out=str(tmp_path / "a"), checkpoint_interval=2, **base))
    by_steps.fit()
    assert by_steps.saves == [2, 4, 5]  # 5: the final evaluation
    by_time = Recording(
        TrainConfig(out=str(tmp_path / "b"), checkpoint_minutes=1e-9, **base)
    )  # always due: after every step
    by_time.fit()
    assert by_time.saves == [1, 2, 3, 4, 5]
    neither = Recording(TrainConfig(out=str(tmp_path / "c"), checkpoint_minutes=0, **base))
    neither.fit()
    assert neither.saves == [5]


def test_pretrained_weights_offline_is_one_line(tiny, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(tmp_path / "empty"))
    proc = subprocess.run(
        _args(tiny, tmp_path / "run", "--max-iters", "1", "--pretrained", "in1k"),
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "convnext_atto.d2_in1k" in lines[0], lines
    assert "--pretrained none" in lines[0]
