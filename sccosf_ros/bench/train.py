"""``sccosf bench train``: training throughput (images/s) of a preset on this machine.

One training iteration = forward + joint loss (CE + 0.1·fusion) + backward + AdamW step, on a
fixed random batch at the given crop. Reported: median ms per iteration over ``--iters`` timed
iterations after ``--warmup`` untimed ones, images/s, and as the in-run baseline the median of a
forward-only pass (inference mode) on the same batch, so ``train/forward`` shows the cost of
learning relative to inference. CPU figures are noisy on a shared machine: read the spread.

The JSON (``--json``) also records the model's multiply-accumulates per image at the crop and the
device name: ``sccosf train --dry-run --throughput-json FILE`` turns it into a run-time estimate
(``training/time_estimate.py``); ``config/recipes/train_throughput.json`` is the shipped one.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import TYPE_CHECKING

from sccosf_ros.arg_types import DefaultsHelp
from sccosf_ros.bench.errors import BenchError
from sccosf_ros.bench.timing import repeat, timed_ms
from sccosf_ros.percentiles import percentile

if TYPE_CHECKING:  # torch loads only when a benchmark runs
    import torch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = DefaultsHelp
    parser.add_argument(
        "--presets", nargs="+", default=["nano"], help="model presets to measure (e.g. nano tiny)"
    )
    parser.add_argument(
        "--crop",
        nargs=2,
        type=int,
        default=(240, 320),
        metavar=("H", "W"),
        help="training crop size",
    )
    parser.add_argument("--batch-size", type=int, default=2, help="images per iteration")
    parser.add_argument("--iters", type=int, default=5, help="timed iterations")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    parser.add_argument("--num-classes", type=int, default=9, help="classes (MFNet: 9)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch intra-op threads (unset: torch's choice)"
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")


def measure(
    preset: str,
    crop: tuple[int, int],
    batch_size: int,
    iters: int,
    warmup: int,
    num_classes: int,
    device: torch.device,
    **overrides: object,
) -> dict:
    """Median ms of a training iteration and of a forward-only pass for one preset
    (``overrides``: SCCoSFConfig fields, e.g. ``scan_backend="torch"``)."""
    import torch

    from sccosf_ros.model import build_model
    from sccosf_ros.training.losses import JointLoss
    from sccosf_ros.training.param_groups import param_groups

    torch.manual_seed(0)
    model = build_model(preset, num_classes=num_classes, **overrides).to(device).train()
    params = sum(p.numel() for p in model.parameters())
    loss_fn = JointLoss("mfnet").to(device)
    opt = torch.optim.AdamW(param_groups(model, 0.01), lr=6e-5)
    h, w = crop
    g = torch.Generator().manual_seed(0)
    rgb = torch.rand(batch_size, 3, h, w, generator=g).to(device)
    th = torch.rand(batch_size, 1, h, w, generator=g).to(device)
    label = torch.randint(0, num_classes, (batch_size, h, w), generator=g).to(device)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else None

    def step() -> None:
        if amp is not None:
            with amp:
                loss, _ = loss_fn(model(rgb, th), rgb, th, label)
        else:
            loss, _ = loss_fn(model(rgb, th), rgb, th, label)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def forward() -> None:
        with torch.inference_mode():
            model(rgb, th)

    train_ms = repeat(lambda: timed_ms(step, device), iters, warmup=warmup)
    model.eval()
    fwd_ms = repeat(lambda: timed_ms(forward, device), iters, warmup=1)
    med = percentile(train_ms, 50)
    fmed = percentile(fwd_ms, 50)
    from sccosf_ros.bench.model import count_flops

    return {
        "preset": preset,
        "params_m": params / 1e6,
        "gmac_per_image": count_flops(preset, (h, w), num_classes)["gmac"],
        "crop": [h, w],
        "batch_size": batch_size,
        "train_ms_median": med,
        "train_ms_min": min(train_ms),
        "train_ms_max": max(train_ms),
        "train_images_per_s": batch_size * 1e3 / med,
        "forward_ms_median": fmed,
        "train_over_forward": med / fmed,
        "iters": iters,
    }


def run(args: argparse.Namespace) -> int:
    import torch

    from sccosf_ros.device import resolve_device

    if args.batch_size < 1 or args.iters < 1 or args.warmup < 0 or min(args.crop) < 32:
        raise BenchError("need --batch-size >= 1, --iters >= 1, --warmup >= 0 and a crop >= 32x32")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    results = [
        measure(
            p, tuple(args.crop), args.batch_size, args.iters, args.warmup, args.num_classes, device
        )
        for p in args.presets
    ]
    env = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"cpu ({platform.processor() or platform.machine()})",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "measured": time.strftime("%Y-%m-%d"),
    }
    if args.json:
        print(json.dumps({"env": env, "results": results}, indent=2))
        return 0
    print(
        f"training throughput on {env['device']} ({env['threads']} threads, torch "
        f"{env['torch']}); one iteration = forward + loss + backward + AdamW step"
    )
    print(
        f"{'preset':<8} {'params':>8} {'crop':>9} {'batch':>5} {'ms/iter':>9} "
        f"{'(min-max)':>15} {'img/s':>7} {'fwd ms':>8} {'train/fwd':>9}"
    )
    for r in results:
        crop = f"{r['crop'][0]}x{r['crop'][1]}"
        spread = f"{r['train_ms_min']:.0f}-{r['train_ms_max']:.0f}"
        print(
            f"{r['preset']:<8} {r['params_m']:>7.2f}M {crop:>9} {r['batch_size']:>5} "
            f"{r['train_ms_median']:>9.0f} {spread:>15} {r['train_images_per_s']:>7.2f} "
            f"{r['forward_ms_median']:>8.0f} {r['train_over_forward']:>8.1f}x"
        )
    if len(results) > 1:
        base = results[0]
        for r in results[1:]:
            ratio = base["train_images_per_s"] / r["train_images_per_s"]
            print(f"{r['preset']} trains {ratio:.1f}x slower than {base['preset']}")
    return 0
