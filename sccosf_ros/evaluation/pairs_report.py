"""What ``sccosf eval --rgb --thermal`` writes for people: report.md and the picture grid.

The table is ``report.fusion_comparison_table`` (the one ``sccosf eval`` on a dataset shows
under its fusion section) and the grid ``report.picture_grid``: one row per pair,
RGB | thermal | fused | average | max.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from sccosf_ros.evaluation.report import (
    COMPARISON_NOTE,
    fusion_comparison_table,
    picture_grid,
)

# grid column title → key of the pair's images
GRID_PANELS: dict[str, str] = {
    "RGB": "rgb",
    "thermal": "thermal",
    "fused (model)": "model",
    "average": "average",
    "max": "max",
}


def pairs_grid(rows: Sequence[tuple[str, dict[str, np.ndarray | None]]]) -> np.ndarray:
    """One picture: a row per ``(name, images)``, the columns of ``GRID_PANELS``."""
    panels = [
        [(images.get(key), cv2.INTER_AREA) for key in GRID_PANELS.values()] for _, images in rows
    ]
    return picture_grid(list(GRID_PANELS), panels, [name for name, _ in rows])


def _facts(results: dict) -> list[str]:
    ckpt = results.get("checkpoint") or {}
    facts = [
        f"- RGB: `{results.get('rgb_dir')}`, thermal: `{results.get('thermal_dir')}`",
        f"- pairs: {results['n_pairs']} found, {results['n_evaluated']} evaluated, "
        f"{results['n_skipped']} skipped; RGB images without a thermal partner: "
        f"{results['n_unmatched']}",
    ]
    if ckpt.get("path"):
        facts.append(f"- checkpoint: `{ckpt['path']}`")
    timing = results.get("timing_ms") or {}
    if timing.get("model_median") is not None:
        facts.append(
            f"- network time per pair: {timing['model_median']:.0f} ms (median, "
            f"{results.get('device') or 'device unknown'})"
        )
    return facts


def _skipped(results: dict) -> list[str]:
    skipped = results.get("skipped") or []
    if not skipped:
        return []
    return ["## Skipped pairs", "", *(f"- {s['reason']}" for s in skipped), ""]


def render_pairs_report(results: dict, grid: str | None) -> str:
    """report.md of one no-label evaluation (``results`` as written to metrics.json)."""
    conv = (results.get("conventions") or {}).get("fusion", "")
    lines = [
        "# SC-CoSF fusion quality on image pairs (no labels)",
        "",
        *_facts(results),
        "",
        "## Fused image against baselines (means)",
        "",
        *fusion_comparison_table(results["means"]),
        "",
        COMPARISON_NOTE,
        "",
        f"Fusion metrics convention: {conv} (`sccosf_ros/metrics/fusion.py`). Per pair: "
        "`per_image.csv`, `per_image.json`.",
        "",
        *_skipped(results),
    ]
    if grid:
        lines += ["## Pairs", "", f"![{' | '.join(GRID_PANELS)}]({grid})", ""]
    return "\n".join(lines)
