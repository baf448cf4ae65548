"""The steps of ``sccosf bench adapt``, each calling the code its command runs: ``sccosf synth
--bag`` (record), ``sccosf extract``, ``sccosf train --recipe finetune`` and ``sccosf
bag-eval``. The rig's parameter file they share is written first (``rig_params``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sccosf_ros.bench.errors import BenchError

if TYPE_CHECKING:
    from sccosf_ros.bench.adapt_config import AdaptConfig

RGB_TOPIC = "/camera/rgb/image_raw"
THERMAL_TOPIC = "/camera/thermal/image_raw"
LABEL_TOPIC = "/camera/rgb/labels"
PARAMS_FILE = "rig.yaml"


def _thermal_range() -> tuple[float, float]:
    """The synthetic camera's raw-count range: the rig's fixed thermal normalisation."""
    from sccosf_ros.synthetic import THERMAL_COUNTS

    lo, hi = THERMAL_COUNTS
    return float(lo), float(hi)


def _warn(message: str) -> None:
    print(f"sccosf bench adapt: warning: {message}", file=sys.stderr)


def rig_params(cfg: AdaptConfig, out: Path) -> Path:
    """The rig's node parameters (``OUT/rig.yaml``): the synthetic camera's raw-count range as
    the fixed thermal normalisation, as the demo runs the node on synthetic recordings."""
    from sccosf_ros.pipeline.params_file import write_params_file

    lo, hi = _thermal_range()
    values = {"thermal.normalization": "fixed", "thermal.low": lo, "thermal.high": hi}
    return write_params_file(out / PARAMS_FILE, values, header="# sccosf bench adapt: the rig")


def record(cfg: AdaptConfig, seed: int, out: Path) -> Path:
    """A day-time recording of the style (``sccosf synth --bag``): one street, agents moving."""
    import shutil

    from sccosf_ros.synthetic import BagSettings, load_style, write_synthetic_bag

    if out.exists():
        shutil.rmtree(out)
    settings = BagSettings(
        duration=cfg.duration,
        height=cfg.size[0],
        width=cfg.size[1],
        seed=seed,
        style=load_style(cfg.style),
        rgb_topic=RGB_TOPIC,
        thermal_topic=THERMAL_TOPIC,
        label_topic=LABEL_TOPIC,
        show_progress=cfg.progress,
    )
    return write_synthetic_bag(out, settings).path


def extract(
    cfg: AdaptConfig, bag: Path, params: Path, out: Path, *, labels: bool
) -> dict[str, Any]:
    """The recording as a generic dataset (``sccosf extract``), with or without its labels."""
    import shutil

    from sccosf_ros.bag.extract import ExtractConfig
    from sccosf_ros.bag.extract import extract as extract_dataset
    from sccosf_ros.pipeline.params import read_params_files

    if out.exists():  # extract writes into a new folder only: this is the bench's own
        shutil.rmtree(out)
    s = extract_dataset(
        ExtractConfig(
            bag=bag,
            rgb_topic=RGB_TOPIC,
            thermal_topic=THERMAL_TOPIC,
            out=out,
            params=read_params_files([params]),
            params_files=(params,),
            label_topic=LABEL_TOPIC if labels else None,
            every_s=cfg.every,
            progress=cfg.progress,
        )
    )
    return {"root": s["out"], "images": int(s["counts"]["kept"]), "splits": s["splits"]}


def finetune(cfg: AdaptConfig, root: str, out: Path, *, fusion_only: bool) -> Path:
    """The shipped checkpoint fine-tuned on the dataset (``sccosf train --dataset folder
    --init-from CKPT --recipe finetune``); returns the final weights. Thermal is normalised
    as the rig's node did it when the dataset was extracted: read from its dataset.yaml, as
    ``sccosf train`` reads it (``training.recorded_thermal``)."""
    from sccosf_ros.training.recipes import load_recipe, resolve
    from sccosf_ros.training.recorded_thermal import with_recorded_thermal
    from sccosf_ros.training.trainer import Trainer

    flags: dict[str, Any] = {
        "dataset": "folder",
        "root": root,
        "out": str(out),
        "init_from": str(cfg.checkpoint),
        "max_iters": cfg.steps,
        "batch_size": cfg.batch_size,
        "crop": tuple(cfg.crop),
        "device": "cpu",
        "threads": cfg.threads,
        "num_workers": 0,
        "eval_interval": 0,
        "tensorboard": False,
        "progress": cfg.progress,
    }
    if fusion_only:
        flags["fusion_only"] = True
    train_cfg = with_recorded_thermal(resolve(load_recipe("finetune"), flags), flags, _warn)
    if train_cfg.thermal_norm == "auto":  # the bench's own extract always records one
        raise BenchError(f"{root}: dataset.yaml records no thermal normalisation")
    trainer = Trainer(train_cfg)
    try:
        summary = trainer.fit()
    finally:
        trainer.close()
    return Path(summary["latest"])


def bag_eval(cfg: AdaptConfig, bag: Path, params: Path, ckpt: Path, out: Path) -> dict[str, Any]:
    """A checkpoint over the held-out recording as the node runs it (``sccosf bag-eval``)."""
    from sccosf_ros.bag.bag_eval import BagEvalConfig, evaluate_bag
    from sccosf_ros.pipeline.params import read_params_files

    node = read_params_files([params], {"checkpoint": str(ckpt), "num_threads": cfg.threads})
    m = evaluate_bag(
        BagEvalConfig(
            bag=bag,
            rgb_topic=RGB_TOPIC,
            thermal_topic=THERMAL_TOPIC,
            label_topic=LABEL_TOPIC,
            out=out,
            params=node,
            sheet_rows=cfg.fusion_frames,
            write_bag=False,
            overwrite=True,
            progress=cfg.progress,
        )
    )
    if not m["complete"] or not m["pairs"]:
        raise BenchError(f"bag-eval of {ckpt} on {bag} did not finish: {m.get('error')}")
    keep = ("pairs", "miou", "iou", "fusion", "fusion_sampled", "elapsed_s", "contact_sheet")
    return {k: m.get(k) for k in keep}
