"""``sccosf eval``: evaluate a checkpoint on a labelled dataset split, or its fusion on folders
of unlabelled image pairs.

* ``--dataset D --root DIR``: mIoU, fusion metrics, the fused image against the baselines;
  writes ``OUT/metrics.json``, ``OUT/report.md`` (tables in the layout of the paper's Tables 1
  and 2), ``OUT/examples.png`` and ``OUT/fusion_violin.png`` (``evaluation.evaluate``).
* ``--rgb DIR --thermal DIR``: pairs matched by file stem, no labels; the fused image and three
  baselines scored with the nine fusion metrics and the colour fidelity; writes
  ``OUT/metrics.json``, ``per_image.json/.csv``, ``report.md`` and ``fusion_grid.png``
  (``evaluation.image_pairs``). A pair that cannot be scored is one warning line.

Both print a short summary. Exit codes: 0 done, 2 bad checkpoint / dataset / arguments, or no
pair could be evaluated (a ``SccosfError``, printed by ``sccosf_ros.cli.main`` as one
``error:`` line).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sccosf_ros.commands.model_options import add_model_arguments, model_params

if TYPE_CHECKING:
    from sccosf_ros.metrics.fusion import FusionConvention


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.data.datasets import DATASET_NAMES

    parser.add_argument(
        "--dataset",
        choices=DATASET_NAMES,
        default=None,
        help="dataset format of --root (synthetic: a folder from `sccosf synth`); labelled mode",
    )
    parser.add_argument("--root", type=Path, default=None, help="dataset folder")
    parser.add_argument(
        "--rgb",
        type=Path,
        default=None,
        help="folder of RGB images (.png/.jpg): fusion quality without labels, against "
        "baselines (instead of --dataset/--root)",
    )
    parser.add_argument(
        "--thermal",
        type=Path,
        default=None,
        help="folder of thermal images (8/16-bit) with the file names of --rgb's",
    )
    parser.add_argument("--split", default="test", help="split to evaluate (default: test)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--max-images",
        type=int,
        default=None,
        metavar="N",
        help="evaluate only the first N images of the split (or pairs, by name)",
    )
    parser.add_argument(
        "--grid-samples",
        type=int,
        default=8,
        metavar="N",
        help="rows in examples.png / fusion_grid.png (default 8, 0 = none)",
    )
    parser.add_argument(
        "--no-fusion-metrics",
        action="store_true",
        help="skip the fusion metrics (segmentation only, faster)",
    )
    parser.add_argument(
        "--ssim-data-range",
        type=float,
        default=2.0,
        help="SSIM data range (default 2: the CDDFuse evaluator, scikit-image 0.19 on float "
        "images; 255: the textbook value)",
    )
    parser.add_argument(
        "--mi-units",
        choices=("nats", "bits"),
        default="nats",
        help="mutual information in nats (default: CDDFuse, VIFB) or bits (MATLAB analysis_MI)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_model_arguments(parser.add_argument_group("model (node parameters)"))


def _pct(v: float | None) -> str:
    return "  n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:5.1f}"


def _check_mode(args: argparse.Namespace) -> str | None:
    """One of the two modes, complete."""
    labelled = args.dataset is not None or args.root is not None
    pairs = args.rgb is not None or args.thermal is not None
    if labelled and pairs:
        return (
            "--dataset/--root (a labelled dataset) and --rgb/--thermal (folders of image "
            "pairs) are two modes: give one of them"
        )
    if not labelled and not pairs:
        return "give --dataset and --root (a labelled dataset) or --rgb and --thermal (pairs)"
    if pairs and (args.rgb is None or args.thermal is None):
        return "--rgb and --thermal go together (two folders with the same file names)"
    if pairs and args.no_fusion_metrics:
        return "--no-fusion-metrics: --rgb/--thermal evaluates the fusion only"
    if labelled and (args.dataset is None or args.root is None):
        return "--dataset and --root go together (the dataset format and its folder)"
    return None


def _check_args(args: argparse.Namespace) -> str | None:
    problem = _check_mode(args)
    if problem:
        return problem
    if args.max_images is not None and args.max_images < 1:
        return "--max-images must be >= 1"
    if args.input_size is not None and min(args.input_size) < 1:
        return "--input-size needs two positive numbers H W"
    if not args.ssim_data_range > 0:
        return "--ssim-data-range must be > 0"
    return None


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.data.datasets import build_dataset
    from sccosf_ros.data.errors import DatasetNotFoundError
    from sccosf_ros.evaluation.evaluate import EvaluationError, evaluate
    from sccosf_ros.metrics.fusion import FusionConvention
    from sccosf_ros.pipeline.processor import load_predictor

    problem = _check_args(args)
    if problem:
        raise EvaluationError(problem)
    convention = FusionConvention(ssim_data_range=args.ssim_data_range, mi_units=args.mi_units)
    if args.rgb is not None:
        return _run_pairs(args, convention)
    if not args.root.is_dir():
        raise DatasetNotFoundError(
            f"dataset folder {str(args.root)!r} does not exist; pass --root with the "
            f"{args.dataset} dataset (or create one with `sccosf synth`)"
        )
    params = model_params(args)
    predictor = load_predictor(params)
    dataset = build_dataset(args.dataset, args.root, args.split)
    results = evaluate(
        predictor,
        dataset,
        args.out,
        max_images=args.max_images,
        grid_samples=args.grid_samples,
        progress=not args.no_progress,
        fusion=not args.no_fusion_metrics,
        split=args.split,
        synthetic=True if args.dataset == "synthetic" else None,
        checkpoint=params.checkpoint_path(),
        convention=convention,
    )

    print(
        f"\n{results['n_images']} images of {args.dataset} {args.split} "
        f"({results['dataset']} classes), checkpoint {params.checkpoint_path()}"
    )
    print(f"{'class':<16}  IoU %")
    for name, v in results["iou"].items():
        print(f"{name:<16}  {_pct(v)}")
    print(f"{'mIoU':<16}  {_pct(results['miou'])}   (all {len(results['iou'])} classes)")
    if results.get("miou_without_background") is not None:
        print(
            f"{'mIoU w/o ' + results['background_class']:<16}  "
            f"{_pct(results['miou_without_background'])}"
        )
    for part in ("day", "night"):
        if part in results:
            d = results[part]
            print(f"{'mIoU ' + part:<16}  {_pct(d['miou'])}   ({d['n_images']} images)")
    fusion = results.get("fusion")
    if fusion:
        cells = []
        for m, d in fusion.items():
            cells.append(f"{m} {d['mean']:.3f}" if d["mean"] is not None else f"{m} n/a")
        print("fusion (mean): " + ", ".join(cells))
    out = Path(args.out)
    print(
        f"wrote {out / 'metrics.json'}, {out / 'report.md'}"
        + "".join(
            f", {p}" for k, p in results.get("files", {}).items() if k in ("examples", "violin")
        )
    )
    return 0


def _run_pairs(args: argparse.Namespace, convention: FusionConvention) -> int:
    """``--rgb DIR --thermal DIR``: the model's fusion against the baselines, no labels."""
    from tqdm import tqdm

    from sccosf_ros.data.errors import DatasetNotFoundError
    from sccosf_ros.evaluation.image_pairs import evaluate_pairs
    from sccosf_ros.metrics.fusion_comparison import COMPARISON_METRICS, METRIC_LABELS
    from sccosf_ros.pipeline.processor import load_predictor
    from sccosf_ros.tables import text_table

    def warn(message: str) -> None:
        tqdm.write(f"sccosf eval: warning: {message}", file=sys.stderr)

    for flag, folder in (("--rgb", args.rgb), ("--thermal", args.thermal)):
        if not folder.is_dir():  # before the model loads
            raise DatasetNotFoundError(f"{flag} folder {str(folder)!r} does not exist")
    params = model_params(args)
    predictor = load_predictor(params)
    results = evaluate_pairs(
        predictor,
        args.rgb,
        args.thermal,
        args.out,
        grid_samples=args.grid_samples,
        max_images=args.max_images,
        progress=not args.no_progress,
        convention=convention,
        checkpoint=params.checkpoint_path(),
        warn=warn,
    )
    means = results["means"]
    rows = [
        [kind, *("n/a" if v is None else f"{v:.2f}" for v in (d[m] for m in COMPARISON_METRICS))]
        for kind, d in means.items()
    ]
    print(
        f"\n{results['n_evaluated']} of {results['n_pairs']} pairs evaluated "
        f"({results['n_skipped']} skipped, {results['n_unmatched']} RGB without thermal), "
        f"checkpoint {params.checkpoint_path()}"
    )
    print("\n".join(text_table(["fused", *(METRIC_LABELS[m] for m in COMPARISON_METRICS)], rows)))
    print("wrote " + ", ".join(str(p) for p in results["files"].values()))
    return 0
