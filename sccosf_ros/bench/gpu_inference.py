"""GPU check parts ``inference`` and ``tensorrt``: Predictor FPS of nano / tiny / paper at
480×640 in fp32 / fp16 / bf16 (parity against fp32), and the same through TensorRT in fp16."""

from __future__ import annotations

from typing import Any

import torch

from sccosf_ros.bench.gpu_context import SIZE, PartContext, PartSkipped, import_status
from sccosf_ros.percentiles import percentile
from sccosf_ros.synthetic.pairs import frame_pair


def _agreement(ref: Any, other: Any) -> dict:
    """Label agreement and fused difference of ``other``'s outputs against ``ref``'s."""
    from sccosf_ros.backends.parity import pair_diff

    return pair_diff(ref.labels, other.labels, ref.fused, other.fused).to_dict()


def _fps_row(pred: Any, frame: tuple, frames: int, warmup: int) -> tuple[dict, Any]:
    for _ in range(warmup):
        last = pred.predict(*frame)
    totals, models = [], []
    for _ in range(frames):
        last = pred.predict(*frame)
        totals.append(last.timings_ms["total"])
        models.append(last.timings_ms["model"])
    p50, model_p50 = percentile(totals, 50), percentile(models, 50)
    row = {
        "total_ms_p50": p50,
        "model_ms_p50": model_p50,
        "fps": 1e3 / p50,
        "model_fps": 1e3 / model_p50,
    }
    return row, last


def _inference_setup(ctx: PartContext) -> tuple[list[str], tuple[int, int], int, int]:
    if ctx.plumbing or ctx.quick:
        return ["nano"], (96, 128), 2, 1
    return ["nano", "tiny", "paper"], SIZE, 30, 5


def _predictor_model(preset: str) -> tuple[Any, dict]:
    """The network and Predictor keywords: the shipped checkpoint for nano, else untrained."""
    from sccosf_ros.inference import load_checkpoint, model_from_checkpoint
    from sccosf_ros.model import build_model
    from sccosf_ros.paths import default_checkpoint

    if preset == "nano" and default_checkpoint().is_file():
        ckpt = load_checkpoint(default_checkpoint())
        kw = {
            "class_names": ckpt["class_names"],
            "palette": ckpt["palette"],
            "thermal_norm": ckpt.get("thermal_norm"),
        }
        return model_from_checkpoint(ckpt), kw
    torch.manual_seed(0)
    return build_model(preset), {}


def part_inference(ctx: PartContext) -> None:
    from sccosf_ros.inference import Predictor
    from sccosf_ros.model.ssm import resolve_backend

    presets, size, frames, warmup = _inference_setup(ctx)
    frame = frame_pair(*size)
    ctx.results["size"] = list(size)
    ctx.results["scan_backend_auto"] = resolve_backend("auto", ctx.device.type)
    for preset in presets:
        if not ctx.enough_time(20, f"inference {preset}"):
            return
        model, kw = _predictor_model(preset)
        ref = None
        for precision in ("fp32", "fp16", "bf16"):
            pred = Predictor(model, ctx.device, precision=precision, **kw)
            row, last = _fps_row(pred, frame, frames, warmup)
            row = {"preset": preset, "precision": precision, "weights": _weights(preset), **row}
            if ref is None:
                ref = last
            else:
                row.update(_agreement(ref, last))
            ctx.row("fps", row)
        del model
        if ctx.cuda:
            torch.cuda.empty_cache()


def _weights(preset: str) -> str:
    from sccosf_ros.paths import default_checkpoint

    return (
        "shipped checkpoint"
        if preset == "nano" and default_checkpoint().is_file()
        else ("untrained (seed 0)")
    )


def part_tensorrt(ctx: PartContext) -> None:
    from sccosf_ros.backends import BackendError
    from sccosf_ros.inference import Predictor, save_checkpoint
    from sccosf_ros.paths import default_checkpoint

    status = import_status("tensorrt")
    if not status["available"] and not ctx.plumbing:
        raise PartSkipped(f"TensorRT does not import ({status['reason']})")
    presets, size, frames, warmup = _inference_setup(ctx)
    frame = frame_pair(*size)
    for preset in sorted(presets, key=lambda p: p != "paper"):  # paper first: the target
        if not ctx.enough_time(60, f"TensorRT {preset}"):
            return
        model, kw = _predictor_model(preset)
        path = default_checkpoint() if preset == "nano" and kw else ctx.work / f"{preset}.pt"
        if not kw:
            save_checkpoint(path, model, half=True)
        try:  # the engine is built on the first frame
            pred = Predictor.from_checkpoint(
                path, str(ctx.device), backend="tensorrt", precision="fp16"
            )
            row, last = _fps_row(pred, frame, frames, warmup)
        except BackendError as e:  # TensorRT missing, no CUDA, an engine that does not build
            ctx.row("fps", {"preset": preset, "skipped": " ".join(str(e).split())[:300]})
            continue
        torch_ref = Predictor(model, ctx.device, **kw).predict(*frame)
        row = {"preset": preset, "weights": _weights(preset), "precision": "fp16", **row}
        row.update(_agreement(torch_ref, last))
        ctx.row("fps", row)
