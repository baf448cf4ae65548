"""DistributedDataParallel training under torchrun: 2 CPU processes on Gloo.

Two processes with the global batch split over them follow the one-process run with the same
global batch and seed: same images per step (StepBatchSampler), SyncBatchNorm (batch statistics
over the global batch), loss terms divided by global counts. Their logged losses are the
all-process means, a non-finite loss on one process stops both, and an indivisible batch is
refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

H, W = 64, 96
STEPS = 4

# Runs in each torchrun process: train, then record this rank's history and weights.
WORKER = textwrap.dedent("""
    import hashlib, json, os, sys
    import torch
    from sccosf_ros.training.config import TrainConfig
    from sccosf_ros.training.errors import TrainError
    from sccosf_ros.training.trainer import Trainer

    root, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    cfg = TrainConfig(dataset="synthetic", root=root, out=out, preset="nano", max_iters=4,
                      batch_size=int(os.environ.get("GLOBAL_BATCH", "4")), crop=(64, 64),
                      num_workers=0, eval_interval=4, progress=False, tensorboard=False,
                      device="cpu", max_eval_images=4, log_interval=1, lr=1e-3,
                      warmup_iters=0)
    try:
        t = Trainer(cfg)
    except TrainError as e:
        print(f"rank {rank}: {e}", file=sys.stderr)
        sys.exit(2)
    if mode == "nan" and rank == 1:  # fault injection: this process alone goes non-finite
        forward = t.loss_fn.forward
        def poisoned(*a, **k):
            total, terms = forward(*a, **k)
            if t.step == 1:
                return total * float("nan"), {**terms, "total": float("nan")}
            return total, terms
        t.loss_fn.forward = poisoned
    try:
        summary = t.fit()
    except TrainError as e:
        print(f"rank {rank}: {e}", file=sys.stderr)
        t.close()
        sys.exit(1)
    h = hashlib.sha256()
    for k, v in sorted(t.model.state_dict().items()):  # parameters AND BatchNorm statistics
        h.update(k.encode()); h.update(v.detach().contiguous().numpy().tobytes())
    sbn = sum(type(m).__name__.endswith("SyncBatchNorm") for m in t.model.modules())
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump({"digest": h.hexdigest(), "world": t.dist.world_size, "step": t.step,
                   "miou": summary["best_miou"], "backend": torch.distributed.get_backend(),
                   "history": t.history, "local_batch": t.local_batch, "sync_bn": sbn}, f)
    t.close()
""")


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    from sccosf_ros.synthetic import write_dataset

    root = tmp_path_factory.mktemp("ddp") / "synth"
    write_dataset(root, layout="mfnet", n=16, seed=1, height=H, width=W, progress=False)
    return root


def _torchrun(tmp_path, root, out, mode="plain", global_batch=4, timeout=600):
    out.mkdir(parents=True, exist_ok=True)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOBAL_BATCH=str(global_batch))
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(script),
        str(root),
        str(out),
        mode,
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_two_processes_follow_the_one_process_run(synth_root, tmp_path):
    from sccosf_ros.inference import Predictor
    from sccosf_ros.training.config import TrainConfig
    from sccosf_ros.training.trainer import Trainer

    out = tmp_path / "ddp"
    proc = _torchrun(tmp_path, synth_root, out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 and r["step"] == STEPS and r["backend"] == "gloo" for r in ranks)
    assert all(r["local_batch"] == 2 and r["sync_bn"] > 0 for r in ranks)
    # weights AND BatchNorm running statistics identical on both processes (SyncBatchNorm)
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["miou"] == ranks[1]["miou"]  # validation summed over both shards
    assert ranks[0]["history"] == ranks[1]["history"]  # logged terms are all-process means

    # the same global batch of 4 on one process: the same loss curve up to float rounding
    torch.set_num_threads(1)
    cfg = TrainConfig(
        dataset="synthetic",
        root=str(synth_root),
        out=str(tmp_path / "single"),
        preset="nano",
        max_iters=STEPS,
        batch_size=4,
        crop=(64, 64),
        num_workers=0,
        eval_interval=STEPS,
        progress=False,
        tensorboard=False,
        device="cpu",
        max_eval_images=4,
        log_interval=1,
        lr=1e-3,
        warmup_iters=0,
    )
    single = Trainer(cfg)
    single.fit()
    for a, b in zip(single.history, ranks[0]["history"], strict=True):
        assert a["step"] == b["step"]
        for k in ("total", "ce", "content", "gradient", "color"):
            assert b[k] == pytest.approx(a[k], rel=2e-4, abs=1e-6), (a["step"], k)
    # the loss changes over these steps (the comparison is not of constants)
    assert abs(single.history[-1]["total"] - single.history[0]["total"]) > 1e-3

    ddp = torch.load(out / "latest.pt", weights_only=True)
    assert ddp["train_state"]["step"] == STEPS
    assert ddp["meta"]["train_config"]["batch_size"] == 4
    one = single.model.state_dict()
    worst = max(
        float(
            (ddp["state_dict"][k].float() - v.float()).abs().max() / (v.float().abs().max() + 1e-6)
        )
        for k, v in one.items()
        if v.is_floating_point()
    )
    assert worst < 1e-3, worst
    info = json.loads((out / "train_config.json").read_text())
    assert info["world_size"] == 2 and info["batch_size_per_process"] == 2
    assert info["global_batch_size"] == 4
    Predictor.from_checkpoint(out / "best.pt", device="cpu")  # plain BatchNorm loads it


@pytest.mark.slow
def test_non_finite_loss_on_one_process_stops_both(synth_root, tmp_path):
    out = tmp_path / "nan"
    proc = _torchrun(tmp_path, synth_root, out, mode="nan", timeout=300)
    assert proc.returncode != 0
    # both processes report it (no hang: the run ended within the timeout)
    assert "rank 0: loss became non-finite at step 2 on 1 of 2 processes" in proc.stderr
    assert "rank 1: loss became non-finite at step 2 on 1 of 2 processes" in proc.stderr
    assert not (out / "rank0.json").exists()


@pytest.mark.slow
def test_global_batch_must_divide_over_the_processes(synth_root, tmp_path):
    proc = _torchrun(tmp_path, synth_root, tmp_path / "odd", global_batch=3, timeout=300)
    assert proc.returncode != 0
    assert "--batch-size 3 is the global batch and must divide evenly over the 2 processes" in (
        proc.stderr
    )


def test_sampler_gives_the_same_global_batches_for_any_world_size():
    from sccosf_ros.training.sampling import StepBatchSampler

    def batches(world: int) -> list[list[int]]:
        per_rank = [
            list(
                StepBatchSampler(
                    10, 4, rank=r, world_size=world, seed=3, start_step=0, max_iters=6
                )
            )
            for r in range(world)
        ]
        return [sorted(i for r in range(world) for _, i in per_rank[r][s]) for s in range(6)]

    one, two, four = batches(1), batches(2), batches(4)
    assert one == two == four
    assert all(len(b) == 4 for b in one)
    epochs = [sorted(one[s] + one[s + 1]) for s in (0, 2, 4)]  # 2 steps per epoch
    assert all(len(set(e)) == 8 for e in epochs) and epochs[0] != epochs[1]


def test_sync_batchnorm_without_a_process_group_is_batchnorm():
    from sccosf_ros.training.sync_batchnorm import CpuSyncBatchNorm, convert_sync_batchnorm

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.BatchNorm2d(4))
    ref = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.BatchNorm2d(4))
    ref.load_state_dict(net.state_dict())
    net = convert_sync_batchnorm(net, torch.device("cpu"))
    assert isinstance(net[1], CpuSyncBatchNorm)
    x = torch.randn(5, 3, 6, 7)
    torch.testing.assert_close(net(x), ref(x))
    assert net.state_dict().keys() == ref.state_dict().keys()
    torch.testing.assert_close(net[1].running_var, ref[1].running_var)
