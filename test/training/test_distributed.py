"""DistributedDataParallel training under torchrun: 2 CPU processes on Gloo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

H, W = 64, 96

# Runs in each torchrun process: train, then record a digest of this rank's weights.
WORKER = textwrap.dedent("""
    import hashlib, json, os, sys
    import torch
    from sccosf_ros.training.trainer import TrainConfig, Trainer

    root, out = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    cfg = TrainConfig(dataset="synthetic", root=root, out=out, preset="nano", max_iters=3,
                      batch_size=2, crop=(64, 64), num_workers=0, eval_interval=3,
                      progress=False, tensorboard=False, device="cpu", max_eval_images=4,
                      log_interval=1)
    t = Trainer(cfg)
    summary = t.fit()
    h = hashlib.sha256()
    for k, v in sorted(t.model.named_parameters()):
        h.update(k.encode()); h.update(v.detach().contiguous().numpy().tobytes())
    rank = int(os.environ["RANK"])
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump({"digest": h.hexdigest(), "world": t.dist.world_size, "step": t.step,
                   "miou": summary["best_miou"], "backend": torch.distributed.get_backend()}, f)
    t.close()
""")


@pytest.mark.slow
def test_ddp_two_cpu_processes_gloo(tmp_path):
    from sccosf_ros.inference import Predictor
    from sccosf_ros.synthetic import write_dataset

    root = tmp_path / "synth"
    write_dataset(root, layout="mfnet", n=16, seed=1, height=H, width=W)
    out = tmp_path / "ddp"
    out.mkdir()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = dict(os.environ, OMP_NUM_THREADS="1")
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
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 and r["step"] == 3 and r["backend"] == "gloo" for r in ranks)
    # DDP kept the trainable weights identical (BatchNorm running statistics are per process,
    # as in any DDP run without SyncBatchNorm; rank 0 saves its own)
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["miou"] == ranks[1]["miou"]  # validation summed over both shards

    ckpt = torch.load(out / "latest.pt", weights_only=True)
    assert ckpt["train_state"]["step"] == 3
    assert ckpt["meta"]["train_config"]["batch_size"] == 2
    info = json.loads((out / "train_config.json").read_text())
    assert info["world_size"] == 2
    Predictor.from_checkpoint(out / "best.pt", device="cpu")
