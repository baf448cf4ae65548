"""``sccosf train``: train SC-CoSF on MFNet, FMB or a synthetic dataset (see training/trainer.py).

``--recipe NAME|FILE`` starts from a recipe (``config/recipes/``: mfnet-paper, fmb-paper,
mfnet-ablation-a … -f, finetune); every flag given overrides it (defaults < recipe < flags;
the flags below have no defaults of their own, so "not given" is visible). ``--dry-run`` resolves
everything, writes OUT/train_config.json (with a time estimate) and exits without training.

Multi-GPU / multi-node: launch the same command under torchrun, e.g.
``torchrun --nproc_per_node 4 -m sccosf_ros.cli train ...``; ``--batch-size`` is the global
batch, divided over the processes.

Exit codes: 0 done, 2 bad input (arguments, recipe, dataset, checkpoint, a damaged sample),
1 the run failed (non-finite loss), 130/143 stopped by SIGINT/SIGTERM (latest.pt saved). Errors
are ``SccosfError``s (``training.errors``, ``RecipeError``, ``PlanError``, ``EstimateError``,
``DatasetError``) that ``sccosf_ros.cli.main`` prints as one ``error:`` line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sccosf_ros.arg_types import DefaultsHelp

# flag dest → TrainConfig field, where the names differ
FIELD_OF = {"workers": "num_workers", "train_split": "train_splits"}
# flags that switch a TrainConfig field off
NEGATIONS = {
    "no_amp": "amp",
    "no_progress": "progress",
    "no_tensorboard": "tensorboard",
    "no_sync_bn": "sync_bn",
    "no_data_check": "check_data",
}
# flags of the command itself, not TrainConfig fields
COMMAND_FLAGS = ("recipe", "dry_run", "export", "json", "throughput_json")


def _recipe_help() -> str:
    from sccosf_ros.training.recipes import available_recipes

    names = ", ".join(available_recipes()) or "none installed"
    return f"start from a recipe: a name ({names}) or a YAML file"


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.commands.model_options import add_thermal_arguments
    from sccosf_ros.data.datasets import DATASET_NAMES

    d = parser.add_argument_group("data")
    d.add_argument(
        "--dataset",
        choices=DATASET_NAMES,
        help="dataset format: the MFNet or FMB release, or a folder written by `sccosf synth`",
    )
    d.add_argument("--root", help="dataset root folder")
    d.add_argument(
        "--train-split",
        nargs="+",
        metavar="SPLIT",
        help="split(s) to train on, their union (default train; mfnet-paper: train val)",
    )
    d.add_argument(
        "--val-split",
        help="split to validate and select best.pt on (default: val for the MFNet layout, "
        "test for FMB; the paper recipes: test)",
    )
    d.add_argument(
        "--crop",
        nargs=2,
        type=int,
        metavar=("H", "W"),
        help="random crop size after the random rescale (default and paper: 480 640)",
    )
    d.add_argument(
        "--scale-range",
        nargs=2,
        type=float,
        metavar=("LOW", "HIGH"),
        help="uniform random rescale range (default 0.5 1.75)",
    )
    d.add_argument(
        "--scales",
        nargs="+",
        type=float,
        metavar="S",
        help="rescale by one of these instead (the recipes: 0.5 0.75 1 1.25 1.5 1.75)",
    )
    add_thermal_arguments(d, training=True)
    d.add_argument("--workers", type=int, help="data-loading worker processes (default 2)")
    d.add_argument(
        "--no-data-check",
        action="store_true",
        help="skip decoding every sample before step 1 (see `sccosf check-dataset`)",
    )


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.model.network import ABLATIONS

    m = parser.add_argument_group("model")
    m.add_argument(
        "--preset",
        help="model preset: nano (default, CPU-friendly), tiny, paper (the paper's size)",
    )
    m.add_argument(
        "--ablation", choices=list(ABLATIONS), help="train a variant of the paper's Table 4"
    )
    m.add_argument(
        "--pretrained",
        nargs="?",
        const="in1k",
        metavar="WEIGHTS",
        help="encoder ImageNet weights: none, in1k (ImageNet-1k only; the flag alone), in22k "
        "(ImageNet-22k pre-training fine-tuned on 1k: timm's default for convnext_base) or a "
        "timm tag, which need them downloadable or in the Hugging Face cache; or a local "
        ".pth/.safetensors file of the same ConvNeXt (timm's or Facebook's; checked, loaded "
        "without running code) (default none; the paper recipes: in1k)",
    )
    m.add_argument(
        "--drop-path",
        type=float,
        metavar="RATE",
        help="stochastic depth in the ConvNeXt encoder (timm drop_path_rate; default 0 as in "
        "the paper; ConvNeXt segmentation set-ups use 0.2-0.6)",
    )
    m.add_argument(
        "--no-sync-bn",
        action="store_true",
        help="under torchrun, keep per-process BatchNorm statistics (default: synchronised)",
    )


def _finetune_arguments(parser: argparse.ArgumentParser) -> None:
    f = parser.add_argument_group("fine-tuning (docs/training.md)")
    f.add_argument(
        "--init-from",
        metavar="CKPT",
        help="start from an SC-CoSF checkpoint's weights (its preset unless --preset is given); "
        "the segmentation classifier starts fresh when the dataset's classes differ. Unlike "
        "--resume: new optimizer, step 0",
    )
    f.add_argument(
        "--freeze-encoder",
        action="store_true",
        help="keep the ConvNeXt encoder's weights fixed (and its norm layers in eval mode)",
    )
    f.add_argument(
        "--freeze-fusion-modules",
        action="store_true",
        help="keep the Sc-CFM fusion modules fixed; with --freeze-encoder --fusion-only only the "
        "ReAW fusion head learns and the segmentation stays exactly the checkpoint's",
    )
    f.add_argument(
        "--fusion-only",
        action="store_true",
        help="freeze the segmentation head and turn its loss off: trains the fused image, "
        "e.g. on an unlabelled recording of your cameras",
    )
    f.add_argument(
        "--allow-overlap",
        action="store_true",
        help="train even when training images are also in the validation/test splits (by "
        "name or identical RGB file); a warning instead of an error",
    )


def _optim_arguments(parser: argparse.ArgumentParser) -> None:
    o = parser.add_argument_group("optimisation")
    length = o.add_mutually_exclusive_group()
    length.add_argument("--max-iters", type=int, help="total optimizer steps")
    length.add_argument("--epochs", type=int, help="total epochs (paper: 500)")
    o.add_argument(
        "--batch-size",
        type=int,
        help="GLOBAL images per step, divided over the torchrun processes (default 8)",
    )
    o.add_argument("--lr", type=float, help="AdamW peak learning rate (default 6e-5)")
    o.add_argument("--weight-decay", type=float, help="AdamW weight decay (default 0.01)")
    o.add_argument("--poly-power", type=float, help="poly decay power (default 0.9)")
    warm = o.add_mutually_exclusive_group()
    warm.add_argument(
        "--warmup-iters",
        type=int,
        help="linear warm-up steps (default: min(1500, 10%% of the run))",
    )
    warm.add_argument("--warmup-epochs", type=float, help="linear warm-up in epochs")
    o.add_argument("--grad-clip", type=float, help="max gradient norm (unset: off)")
    o.add_argument("--seed", type=int, help="random seed: data order, init (default 0)")
    o.add_argument("--no-amp", action="store_true", help="disable bf16 autocast on CUDA")


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    r = parser.add_argument_group("run")
    r.add_argument("--out", help="output folder for checkpoints and logs")
    r.add_argument("--resume", action="store_true", help="continue from OUT/latest.pt")
    r.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    r.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (unset: torch's choice); 1 is much faster when "
        "other jobs share the CPU (OpenMP threads then wait on each other)",
    )
    r.add_argument(
        "--eval-interval",
        type=int,
        help="validate (and save latest.pt, best.pt) every N steps; default 10 times per run; "
        "0 = only at the end",
    )
    r.add_argument(
        "--checkpoint-interval",
        "--checkpoint-steps",
        type=int,
        metavar="STEPS",
        help="also save latest.pt every N steps, whatever --eval-interval says (default 200; "
        "0 = off)",
    )
    r.add_argument(
        "--checkpoint-minutes",
        type=float,
        metavar="MIN",
        help="also save latest.pt when this many minutes passed since the last save "
        "(default 2; 0 = off)",
    )
    r.add_argument(
        "--eval-size",
        nargs=2,
        type=int,
        metavar=("H", "W"),
        help="resize validation inputs to HxW (unset: native size)",
    )
    r.add_argument(
        "--max-eval-images", type=int, help="validate on the first N images of the split only"
    )
    r.add_argument("--log-interval", type=int, help="CSV/TensorBoard row every N steps (10)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard event files")
    r.add_argument(
        "--export",
        metavar="FILE",
        help="at the end, also write the best weights as a small fp16 checkpoint "
        "without optimizer state (for shipping)",
    )
    r.add_argument("--json", action="store_true", help="print the final summary as JSON")
    r.add_argument(
        "--dry-run",
        action="store_true",
        help="resolve recipe, flags and data, write OUT/train_config.json with a time "
        "estimate, and exit without training",
    )
    r.add_argument(
        "--throughput-json",
        metavar="FILE",
        help="`sccosf bench train --json` output measured on the training machine, for the "
        "dry run's time estimate (default: the shipped reference measurement)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # no defaults: an option not given is absent, so a recipe's value stays (see FIELD_OF)
    parser.argument_default = argparse.SUPPRESS
    parser.formatter_class = DefaultsHelp
    parser.epilog = (
        "Writes OUT/latest.pt (resumable), OUT/best.pt (best validation mIoU), OUT/log.csv, "
        "OUT/tensorboard/ and OUT/train_config.json. Ctrl-C or SIGTERM finishes the step, saves "
        "OUT/latest.pt and exits; continue with --resume. Multi-GPU: torchrun "
        "--nproc_per_node N -m sccosf_ros.cli train ..."
    )
    parser.add_argument("--recipe", metavar="NAME|FILE", help=_recipe_help())
    _data_arguments(parser)
    _model_arguments(parser)
    _finetune_arguments(parser)
    _optim_arguments(parser)
    _run_arguments(parser)


def flags_of(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig values the command line gave (options not given are absent)."""
    flags: dict[str, Any] = {}
    for dest, value in vars(args).items():
        if dest in COMMAND_FLAGS:
            continue
        if dest in NEGATIONS:
            if value:
                flags[NEGATIONS[dest]] = False
            continue
        flags[FIELD_OF.get(dest, dest)] = value
    return flags


def config_from_args(args: argparse.Namespace) -> Any:
    """TrainConfig of defaults < recipe < flags; RecipeError for a bad recipe."""
    from sccosf_ros.training.recipes import RecipeError, load_recipe, resolve
    from sccosf_ros.training.recorded_thermal import with_recorded_thermal

    recipe = load_recipe(args.recipe) if getattr(args, "recipe", None) else None
    flags = flags_of(args)
    if "out" not in flags:
        raise RecipeError("no output folder: give --out DIR")
    if "dataset" not in flags and (recipe is None or "dataset" not in recipe.values):
        raise RecipeError(
            "no dataset: give --dataset (mfnet, fmb, synthetic, folder) or a --recipe naming one"
        )
    if recipe is None and not ({"max_iters", "epochs"} & set(flags)):
        raise RecipeError("no run length: give --max-iters or --epochs (or --recipe)")
    return with_recorded_thermal(resolve(recipe, flags), flags, _warn)


def _warn(message: str) -> None:
    print(f"sccosf train: warning: {message}", file=sys.stderr)


def _dry_run(cfg: Any, args: argparse.Namespace) -> int:
    from sccosf_ros.training import distributed as dist_utils
    from sccosf_ros.training.plan import describe, make_plan, write_train_config
    from sccosf_ros.training.split_overlap import report_split_overlap
    from sccosf_ros.training.time_estimate import estimate

    cfg.validate()
    world = dist_utils.DistInfo.from_env().world_size
    plan = make_plan(cfg, world)
    report_split_overlap(cfg, plan.train_set, plan.val_set, cfg.progress)
    info = describe(cfg, plan)
    info["dry_run"] = True
    info["time_estimate"] = estimate(
        preset=cfg.preset,
        crop=tuple(cfg.crop),
        global_batch=plan.global_batch,
        max_iters=plan.max_iters,
        world_size=world,
        num_classes=plan.num_classes,
        throughput_file=getattr(args, "throughput_json", None),
    )
    path = write_train_config(cfg.out, info)
    if getattr(args, "json", False):
        print(json.dumps(info, indent=2))
        return 0
    est = info["time_estimate"]
    print(f"dry run: {path} written, nothing trained")
    start = (
        f"from {info['init_from']}"
        if info["init_from"]
        else f"pretrained {info['pretrained_weights'] or 'none'}"
    )
    frozen = [k for k in ("freeze_encoder", "freeze_fusion_modules", "fusion_only") if info.get(k)]
    print(
        f"  {info['preset']} ({start}{''.join(', ' + k for k in frozen)}), "
        f"{info['n_train_images']} training images ({' + '.join(info['train_splits'])}), "
        f"best.pt on {info['val_split']} ({info['n_val_images']})"
    )
    print(
        f"  {info['epochs']:g} epochs = {info['max_iters']} steps of {info['global_batch_size']} "
        f"images ({info['batch_size_per_process']} per process x {info['world_size']}), "
        f"lr {info['lr']:g}, weight decay {info['weight_decay']:g}, crop "
        f"{info['crop'][0]}x{info['crop'][1]}"
    )
    print(
        f"  estimated {est['hours']:.1f} h on {est['processes']} x {est['measured_on']} "
        f"({est['seconds_per_step']:.2f} s/step); from {est['source']}"
    )
    return 0


def _finish(trainer: Any, summary: dict, args: argparse.Namespace) -> int:
    if getattr(args, "export", None) and summary["stopped"] is None:
        from sccosf_ros.training.checkpointing import export_checkpoint

        best = Path(summary["best"])
        src = best if best.is_file() else Path(summary["latest"])
        dst = export_checkpoint(src, args.export, half=True)
        summary["export"] = str(dst)
        summary["export_mb"] = dst.stat().st_size / 1e6
    if getattr(args, "json", False):
        print(json.dumps(summary, indent=2))
        return 0
    best = summary["best_miou"]
    last = (summary["last_val"] or {}).get("miou")
    if summary["stopped"]:
        print(f"stopped by {summary['stopped']} after step {summary['step']}")
    print(f"trained {summary['step']}/{summary['max_iters']} steps")
    print(
        f"  best val mIoU: {'n/a' if best is None else f'{best:.4f}'}   "
        f"last: {'n/a' if last is None else f'{last:.4f}'}"
    )
    print(f"  checkpoints:   {summary['best']} (best), {summary['latest']} (latest, resumable)")
    tb = summary["tensorboard"]
    logs = [summary["log_csv"], *([f"{tb}/"] if tb else []), summary["config_json"]]
    print(f"  logs:          {', '.join(logs)}")
    if summary.get("export"):
        print(f"  exported:      {summary['export']} (fp16, {summary['export_mb']:.1f} MB)")
    return 0


def _train(cfg: Any, args: argparse.Namespace) -> int:
    from sccosf_ros.training.stop_signals import GracefulStop
    from sccosf_ros.training.trainer import Trainer

    with GracefulStop() as stop:
        trainer = Trainer(cfg, stop=stop)
        try:
            summary = trainer.fit()
        except KeyboardInterrupt:
            print(
                f"sccosf train: stopped at step {trainer.step}; {trainer.latest_path} holds "
                "it (continue with --resume)",
                file=sys.stderr,
            )
            return stop.exit_code
        finally:
            trainer.close()
        code = _finish(trainer, summary, args) if trainer.main else 0
        return stop.exit_code if summary["stopped"] else code


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if getattr(args, "dry_run", False):
        return _dry_run(cfg, args)
    return _train(cfg, args)
