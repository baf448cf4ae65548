"""``sccosf train``: train SC-CoSF on MFNet, FMB or a synthetic dataset (see training/trainer.py).

Multi-GPU / multi-node: launch the same command under torchrun, e.g.
``torchrun --nproc_per_node 4 -m sccosf_ros.cli train ...`` (``--batch-size`` is per process).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the trainer (and torch) load only when a run starts
    from sccosf_ros.training.trainer import TrainConfig


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` only where X says something (not None/False, not in the text)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.model.network import ABLATIONS
    from sccosf_ros.training.datasets import DATASET_NAMES

    parser.formatter_class = DefaultsHelp
    parser.epilog = (
        "Writes OUT/latest.pt (resumable), OUT/best.pt (best validation mIoU), OUT/log.csv, "
        "OUT/tensorboard/ and OUT/train_config.json. Ctrl-C saves OUT/latest.pt; continue "
        "with --resume. Multi-GPU: torchrun --nproc_per_node N -m sccosf_ros.cli train ..."
    )
    d = parser.add_argument_group("data")
    d.add_argument(
        "--dataset",
        required=True,
        choices=DATASET_NAMES,
        help="dataset format: the MFNet or FMB release, or a folder written by `sccosf synth`",
    )
    d.add_argument("--root", required=True, help="dataset root folder")
    d.add_argument("--train-split", default="train", help="split to train on")
    d.add_argument(
        "--val-split",
        default=None,
        help="split to validate on (default: val for the MFNet layout, test for FMB)",
    )
    d.add_argument(
        "--crop",
        nargs=2,
        type=int,
        default=(480, 640),
        metavar=("H", "W"),
        help="random crop size after the random rescale (paper: 480 640)",
    )
    d.add_argument(
        "--scale-range",
        nargs=2,
        type=float,
        default=(0.5, 1.75),
        metavar=("LOW", "HIGH"),
        help="random rescale range (paper: 0.5 1.75)",
    )
    d.add_argument("--workers", type=int, default=2, help="data-loading worker processes")

    m = parser.add_argument_group("model")
    m.add_argument(
        "--preset",
        default="nano",
        help="model preset: nano (CPU-friendly), tiny, paper (the paper's size)",
    )
    m.add_argument(
        "--ablation",
        choices=list(ABLATIONS),
        default=None,
        help="train a variant of the paper's Table 4 (A..F)",
    )
    m.add_argument(
        "--pretrained",
        action="store_true",
        help="start the encoder from timm's ImageNet weights (needs them downloadable or cached)",
    )

    o = parser.add_argument_group("optimisation")
    length = o.add_mutually_exclusive_group(required=True)
    length.add_argument("--max-iters", type=int, help="total optimizer steps")
    length.add_argument("--epochs", type=int, help="total epochs (paper: 500)")
    o.add_argument("--batch-size", type=int, default=8, help="images per step per process")
    o.add_argument("--lr", type=float, default=6e-5, help="AdamW peak learning rate")
    o.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    o.add_argument("--poly-power", type=float, default=0.9, help="poly decay power")
    o.add_argument(
        "--warmup-iters",
        type=int,
        default=None,
        help="linear warm-up steps (default: min(1500, 10%% of the run))",
    )
    o.add_argument("--grad-clip", type=float, default=None, help="max gradient norm (unset: off)")
    o.add_argument("--seed", type=int, default=0, help="random seed (data order, init)")
    o.add_argument("--no-amp", action="store_true", help="disable bf16 autocast on CUDA")

    r = parser.add_argument_group("run")
    r.add_argument("--out", required=True, help="output folder for checkpoints and logs")
    r.add_argument("--resume", action="store_true", help="continue from OUT/latest.pt")
    r.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    r.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (unset: torch's choice); 1 is much faster when "
        "other jobs share the CPU (OpenMP threads then wait on each other)",
    )
    r.add_argument(
        "--eval-interval",
        type=int,
        default=None,
        help="validate (and save latest.pt) every N steps; default 10 times per run; "
        "0 = only at the end",
    )
    r.add_argument(
        "--eval-size",
        nargs=2,
        type=int,
        default=None,
        metavar=("H", "W"),
        help="resize validation inputs to HxW (unset: native size)",
    )
    r.add_argument(
        "--max-eval-images",
        type=int,
        default=None,
        help="validate on the first N images of the split only",
    )
    r.add_argument(
        "--log-interval", type=int, default=10, help="CSV/TensorBoard row every N steps"
    )
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard event files")
    r.add_argument(
        "--export",
        default=None,
        metavar="FILE",
        help="at the end, also write the best weights as a small fp16 checkpoint "
        "without optimizer state (for shipping)",
    )
    r.add_argument("--json", action="store_true", help="print the final summary as JSON")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    from sccosf_ros.training.trainer import TrainConfig

    return TrainConfig(
        dataset=args.dataset,
        root=args.root,
        out=args.out,
        preset=args.preset,
        max_iters=args.max_iters,
        epochs=args.epochs,
        batch_size=args.batch_size,
        crop=tuple(args.crop),
        scale_range=tuple(args.scale_range),
        lr=args.lr,
        weight_decay=args.weight_decay,
        poly_power=args.poly_power,
        warmup_iters=args.warmup_iters,
        grad_clip=args.grad_clip,
        eval_interval=args.eval_interval,
        eval_size=tuple(args.eval_size) if args.eval_size else None,
        max_eval_images=args.max_eval_images,
        train_split=args.train_split,
        val_split=args.val_split,
        log_interval=args.log_interval,
        num_workers=args.workers,
        seed=args.seed,
        resume=args.resume,
        ablation=args.ablation,
        pretrained_encoder=args.pretrained,
        amp=not args.no_amp,
        device=args.device,
        threads=args.threads,
        progress=not args.no_progress,
        tensorboard=not args.no_tensorboard,
    )


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.training.trainer import Trainer, TrainError

    try:
        trainer = Trainer(config_from_args(args))
    except TrainError as e:
        print(f"sccosf train: error: {e}", file=sys.stderr)
        return 2
    try:
        summary = trainer.fit()
    except TrainError as e:
        print(f"sccosf train: error: {e}", file=sys.stderr)
        return 1
    finally:
        trainer.close()
    if not trainer.main:
        return 0
    if args.export:
        from pathlib import Path

        from sccosf_ros.training.trainer import export_checkpoint

        src = Path(summary["best"]) if Path(summary["best"]).is_file() else Path(summary["latest"])
        dst = export_checkpoint(src, args.export, half=True)
        summary["export"] = str(dst)
        summary["export_mb"] = dst.stat().st_size / 1e6
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    best = summary["best_miou"]
    last = (summary["last_val"] or {}).get("miou")
    print(f"trained {summary['step']}/{summary['max_iters']} steps")
    print(
        f"  best val mIoU: {'n/a' if best is None else f'{best:.4f}'}   "
        f"last: {'n/a' if last is None else f'{last:.4f}'}"
    )
    print(f"  checkpoints:   {summary['best']} (best), {summary['latest']} (latest, resumable)")
    print(
        f"  logs:          {summary['log_csv']}, {summary['tensorboard']}/, "
        f"{summary['config_json']}"
    )
    if args.export:
        print(f"  exported:      {summary['export']} (fp16, {summary['export_mb']:.1f} MB)")
    return 0
