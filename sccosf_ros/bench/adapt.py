"""``sccosf bench adapt``: does fine-tuning on a recording of a new scene style pay off?

The loop a team runs on its own rig — record, extract, fine-tune, evaluate — on synthetic
recordings in a scene style the shipped model was not trained on (``synthetic/style.py``):

1. two recordings of the style (``write_synthetic_bag``), different seeds (different streets):
   one to adapt on, one held out;
2. the first extracted into a dataset the way the node sees it (``sccosf extract``), once with
   its labels and once without (the day a team mounts its cameras it has no labels);
3. the shipped checkpoint fine-tuned on each (``sccosf train --dataset folder --init-from ...
   --recipe finetune``; the unlabelled one with ``--fusion-only``);
4. shipped vs fine-tuned vs fusion-fine-tuned run over the held-out recording
   (``sccosf bag-eval``): mIoU (and per class) and the nine fusion metrics.

Each step calls the code its command runs. Writes ``OUT/report.md``, ``OUT/results.json``,
``OUT/grid.png`` (held-out frames: RGB | shipped | fine-tuned | ground truth) and
``OUT/fusion_grid.png`` (RGB | thermal | shipped fused | fusion-fine-tuned fused).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from sccosf_ros.arg_types import DefaultsHelp
from sccosf_ros.bench.adapt_config import AdaptConfig, check_config

STEPS = 8  # progress lines [k/STEPS]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = DefaultsHelp
    d = AdaptConfig(Path(), Path())
    parser.add_argument("--out", type=Path, default=Path("outputs/bench_adapt"))
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="the model to adapt (default: shipped)"
    )
    parser.add_argument(
        "--style", default=d.style, help="scene style of the recordings: a preset or a .yaml file"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs=2,
        default=d.seeds,
        metavar=("ADAPT", "HELD_OUT"),
        help="seeds of the two recordings (two different streets)",
    )
    parser.add_argument("--duration", type=float, default=d.duration, help="s per recording")
    parser.add_argument("--size", type=int, nargs=2, default=d.size, metavar=("H", "W"))
    parser.add_argument("--every", type=float, default=d.every, help="s between extracted frames")
    parser.add_argument("--steps", type=int, default=d.steps, help="fine-tuning steps")
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--crop", type=int, nargs=2, default=d.crop, metavar=("H", "W"))
    parser.add_argument("--threads", type=int, default=d.threads, help="torch threads")
    parser.add_argument("--grid-rows", type=int, default=d.grid_rows, help="frames in grid.png")
    parser.add_argument(
        "--fusion-frames", type=int, default=d.fusion_frames, help="frames for fusion metrics"
    )
    parser.add_argument("--no-progress", action="store_true")


def config_from_args(args: argparse.Namespace) -> AdaptConfig:
    from sccosf_ros.paths import default_checkpoint

    cfg = AdaptConfig(
        out=args.out,
        checkpoint=args.checkpoint or default_checkpoint(),
        style=args.style,
        seeds=tuple(args.seeds),
        duration=args.duration,
        size=tuple(args.size),
        every=args.every,
        steps=args.steps,
        batch_size=args.batch_size,
        crop=tuple(args.crop),
        threads=args.threads,
        grid_rows=args.grid_rows,
        fusion_frames=args.fusion_frames,
        progress=not args.no_progress,
    )
    check_config(cfg)
    return cfg


def say(cfg: AdaptConfig, step: int, text: str) -> None:
    print(f"[{step}/{STEPS}] {text}", flush=True)


class Stopwatch:
    """Wall time of one phase into ``cfg.timings``."""

    def __init__(self, cfg: AdaptConfig, name: str) -> None:
        self.cfg, self.name = cfg, name

    def __enter__(self) -> Stopwatch:
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cfg.timings[self.name] = time.perf_counter() - self.t0


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.bench.adapt_report import write_report

    if "OMP_WAIT_POLICY" not in os.environ:
        # torch is loaded by now (other bench targets import it), too late to set it here
        print(
            "sccosf bench adapt: note: on a shared machine run it with OMP_WAIT_POLICY=PASSIVE "
            "(a training step measured 58 s with spinning OpenMP workers, 2.3 s without)",
            file=sys.stderr,
        )
    cfg = config_from_args(args)
    results = run_adapt(cfg)
    paths = write_report(cfg, results)
    print(summary(results))
    print(f"report: {paths['report']}  grid: {paths['grid']}  results: {paths['results']}")
    return 0


def run_adapt(cfg: AdaptConfig) -> dict[str, Any]:
    """Every step of the loop; the figures as a dict (``results.json``)."""
    from sccosf_ros.bench.adapt_steps import (
        bag_eval,
        extract,
        finetune,
        record,
        rig_params,
    )

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    params = rig_params(cfg, out)
    say(
        cfg,
        1,
        f"recordings in style {cfg.style!r}: seeds {cfg.seeds[0]} (adapt), "
        f"{cfg.seeds[1]} (held out)",
    )
    with Stopwatch(cfg, "record"):
        bags = [
            record(cfg, seed, out / f"bag_{role}")
            for seed, role in zip(cfg.seeds, ("adapt", "heldout"), strict=True)
        ]
    say(cfg, 2, "extract the adapt recording (with labels, and without)")
    with Stopwatch(cfg, "extract"):
        labelled = extract(cfg, bags[0], params, out / "data_labelled", labels=True)
        unlabelled = extract(cfg, bags[0], params, out / "data_unlabelled", labels=False)
    say(cfg, 3, f"fine-tune {cfg.steps} steps on {labelled['images']} labelled frames")
    with Stopwatch(cfg, "finetune"):
        tuned = finetune(cfg, labelled["root"], out / "run_finetune", fusion_only=False)
    say(cfg, 4, f"fusion-only fine-tune {cfg.steps} steps on the frames without labels")
    with Stopwatch(cfg, "finetune_fusion"):
        fused = finetune(cfg, unlabelled["root"], out / "run_fusion", fusion_only=True)
    models = {"shipped": Path(cfg.checkpoint), "finetuned": tuned, "fusion_finetuned": fused}
    evals = {}
    for k, (name, ckpt) in enumerate(models.items()):
        say(cfg, 5 + k, f"bag-eval {name} on the held-out recording")
        with Stopwatch(cfg, f"bag_eval_{name}"):
            evals[name] = bag_eval(cfg, bags[1], params, ckpt, out / f"eval_{name}")
    say(cfg, 8, "report")
    return {
        "config": _config_dict(cfg),
        "data": {"labelled": labelled, "unlabelled": unlabelled},
        "checkpoints": {k: str(v) for k, v in models.items()},
        "bags": [str(b) for b in bags],
        "params_file": str(params),
        "eval": evals,
        "timings_s": dict(cfg.timings),
        "machine": {
            "cpus": os.cpu_count(),
            "threads": cfg.threads,
            "load_average_at_end": list(os.getloadavg()),  # others' work on a shared machine
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        },
    }


def _config_dict(cfg: AdaptConfig) -> dict[str, Any]:
    from sccosf_ros.synthetic.style import load_style, style_to_dict

    keys = ("style", "seeds", "duration", "size", "every", "steps", "batch_size", "crop")
    d = {k: getattr(cfg, k) for k in keys}
    d["checkpoint"] = str(cfg.checkpoint)
    d["style_settings"] = style_to_dict(load_style(cfg.style))
    return d


def summary(results: dict[str, Any]) -> str:
    ev = results["eval"]
    c = results["config"]
    t = results["timings_s"]
    return (
        f"held-out recording, style {c['style']}: mIoU shipped {ev['shipped']['miou']:.3f} -> "
        f"fine-tuned {ev['finetuned']['miou']:.3f} ({c['steps']} steps, "
        f"{t.get('finetune', float('nan')):.0f} s)"
    )
