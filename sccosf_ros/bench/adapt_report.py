"""What ``sccosf bench adapt`` leaves to look at: ``report.md``, ``results.json`` and two PNG
grids of held-out frames — ``grid.png`` (RGB | shipped | fine-tuned | ground truth) and
``fusion_grid.png`` (RGB | thermal | shipped fused | fusion-fine-tuned fused)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sccosf_ros.jsonio import write_json
from sccosf_ros.tables import markdown_table

if TYPE_CHECKING:
    from sccosf_ros.bench.adapt_config import AdaptConfig


def _num(v: Any, digits: int = 3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def _miou_section(ev: dict[str, dict]) -> list[str]:
    models = ("shipped", "finetuned")
    iou = {m: ev[m].get("iou") or {} for m in models}
    rows = [["mIoU", *(_num(ev[m]["miou"]) for m in models)]]
    rows += [[n, *(_num(iou[m].get(n)) for m in models)] for n in iou["shipped"]]
    return markdown_table(["", "shipped", "fine-tuned"], rows)


def _fusion_section(ev: dict[str, dict]) -> list[str]:
    a = ev["shipped"].get("fusion_sampled") or {}
    b = ev["fusion_finetuned"].get("fusion_sampled") or {}
    rows = []
    for k in [k for k in a if k != "n_frames"]:  # the nine metrics: higher is better for each
        better = b.get(k, np.nan) > a[k]
        rows.append([k, _num(a[k]), _num(b.get(k)), "yes" if better else "no"])
    return markdown_table(["metric", "shipped", "fusion-fine-tuned", "better"], rows)


def report_lines(results: dict[str, Any]) -> list[str]:
    c, ev, t = results["config"], results["eval"], results["timings_s"]
    d = results["data"]
    n_fusion = (ev["shipped"].get("fusion_sampled") or {}).get("n_frames", 0)
    return [
        "# sccosf bench adapt: fine-tuning on a new scene style",
        "",
        f"Style **{c['style']}** (not what the shipped model was trained on), frames "
        f"{c['size'][0]}x{c['size'][1]}. Adapt recording: seed {c['seeds'][0]}, {c['duration']:g} "
        f"s, extracted every {c['every']:g} s: {d['labelled']['images']} frames. Held-out "
        f"recording: seed {c['seeds'][1]} (another street), {ev['shipped']['pairs']} pairs.",
        f"Fine-tuning: {c['steps']} steps, batch {c['batch_size']}, crop {c['crop'][0]}x"
        f"{c['crop'][1]}, from {c['checkpoint']}, on {results['machine']['threads']} CPU "
        f"thread(s): {t['finetune']:.0f} s (labelled), {t['finetune_fusion']:.0f} s "
        "(fusion only). Timings are wall time on this machine, noisy when it is shared (load "
        f"average at the end: {results['machine']['load_average_at_end'][0]:.1f}).",
        "",
        "## Segmentation on the held-out recording (bag-eval)",
        "",
        *_miou_section(ev),
        "",
        f"## Fusion on the held-out recording ({n_fusion} sampled frames)",
        "",
        "Shipped vs fine-tuned on the same recording without labels (`--fusion-only`).",
        "",
        *_fusion_section(ev),
        "",
        "## Pictures",
        "",
        "- `grid.png`: held-out frames, RGB | shipped | fine-tuned | ground truth",
        "- `fusion_grid.png`: RGB | thermal | shipped fused | fusion-fine-tuned fused",
        "",
    ]


def _held_out_frames(cfg: AdaptConfig) -> list[Any]:
    """The held-out recording's RGB frames (the bag's own times) spread over its length."""
    from sccosf_ros.synthetic import load_style, render_scene

    style = load_style(cfg.style)
    n_rgb = max(int(cfg.duration * 10.0), 1)  # the recording's RGB rate: 10 Hz
    picks = np.linspace(0, n_rgb - 1, cfg.grid_rows).round().astype(int)
    h, w = cfg.size
    return [
        render_scene(cfg.seeds[1], h, w, night=False, t=int(i) / 10.0, style=style) for i in picks
    ]


def _predictors(results: dict[str, Any], threads: int) -> dict[str, Any]:
    """Each checkpoint as the node loads it, with the rig's parameters."""
    from sccosf_ros.pipeline.params import read_params_files
    from sccosf_ros.pipeline.processor import load_predictor

    return {
        name: load_predictor(
            read_params_files(
                [results["params_file"]], {"checkpoint": ckpt, "num_threads": threads}
            )
        )
        for name, ckpt in results["checkpoints"].items()
    }


def write_grids(cfg: AdaptConfig, results: dict[str, Any], out: Path) -> tuple[Path, Path]:
    from sccosf_ros.bag.contact_sheet import contact_sheet, save_png, thermal_preview
    from sccosf_ros.classes import colorize

    preds = _predictors(results, cfg.threads)
    palette = preds["shipped"].palette
    seg_rows, fusion_rows = [], []
    for scene in _held_out_frames(cfg):
        out_of = {k: p.predict(scene.rgb, scene.thermal16) for k, p in preds.items()}
        seg_rows.append(
            [
                scene.rgb,
                colorize(out_of["shipped"].labels, palette),
                colorize(out_of["finetuned"].labels, palette),
                colorize(scene.label, palette),
            ]
        )
        fusion_rows.append(
            [
                scene.rgb,
                thermal_preview(preds["shipped"].thermal_norm(scene.thermal16)),
                out_of["shipped"].fused,
                out_of["fusion_finetuned"].fused,
            ]
        )
    seg = contact_sheet(seg_rows, ["RGB", "shipped", "fine-tuned", "ground truth"])
    fus = contact_sheet(fusion_rows, ["RGB", "thermal", "shipped fused", "fusion-tuned fused"])
    return save_png(out / "grid.png", seg), save_png(out / "fusion_grid.png", fus)


def write_report(cfg: AdaptConfig, results: dict[str, Any]) -> dict[str, Path]:
    out = Path(cfg.out)
    grid, fusion_grid = write_grids(cfg, results, out)
    results["pictures"] = {"grid": str(grid), "fusion_grid": str(fusion_grid)}
    results_path = write_json(out / "results.json", results)
    report = out / "report.md"
    report.write_text("\n".join(report_lines(results)), encoding="utf-8")
    return {"report": report, "results": results_path, "grid": grid}
