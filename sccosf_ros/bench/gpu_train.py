"""GPU check part ``train``: a bf16 training step of nano and paper at batch 8, 480×640 (time,
peak memory) and what it makes of a 500-epoch MFNet run."""

from __future__ import annotations

import math

import torch

from sccosf_ros.bench.gpu_context import BATCH, EPOCHS, MFNET_TRAIN_IMAGES, SIZE, PartContext


def part_train(ctx: PartContext) -> None:
    from sccosf_ros.bench.train import measure
    from sccosf_ros.model.ssm import resolve_backend

    if ctx.plumbing or ctx.quick:
        runs, crop, batch, iters, warmup = [("nano", {})], (64, 96), 1, 1, 0
    else:
        runs, crop, batch, iters, warmup = [("nano", {}), ("paper", {})], SIZE, BATCH, 5, 2
        runs.append(("paper", {"scan_backend": "torch"}))  # the fallback, for comparison
    ctx.results["scan_backend_auto"] = resolve_backend("auto", ctx.device.type)
    ctx.results["amp"] = "bf16 autocast" if ctx.cuda else "none (CPU: float32)"
    for preset, overrides in runs:
        label = preset + (f" scan_backend={overrides['scan_backend']}" if overrides else "")
        if not ctx.enough_time(30, f"train step {label}"):
            return
        n_iter, n_warm = (2, 1) if overrides else (iters, warmup)
        if ctx.cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(ctx.device)
        try:
            r = measure(preset, crop, batch, n_iter, n_warm, 9, ctx.device, **overrides)
        except torch.cuda.OutOfMemoryError as e:
            ctx.row("steps", {"run": label, "error": f"out of GPU memory: {str(e)[:200]}"})
            continue
        r["run"] = label
        if ctx.cuda:
            r["peak_allocated_gb"] = torch.cuda.max_memory_allocated(ctx.device) / 2**30
            r["peak_reserved_gb"] = torch.cuda.max_memory_reserved(ctx.device) / 2**30
        steps = {k: math.ceil(v / batch) * EPOCHS for k, v in MFNET_TRAIN_IMAGES.items()}
        r["mfnet_500_epochs_h"] = {k: s * r["train_ms_median"] / 3.6e6 for k, s in steps.items()}
        ctx.row("steps", r)
