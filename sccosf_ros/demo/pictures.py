"""The demo's pictures: ``contact_sheet.png`` (sampled frames: RGB | thermal | fused |
segmentation | overlay | ground truth) and ``preview.gif`` (RGB | thermal | fused | overlay)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sccosf_ros.bag.contact_sheet import (
    contact_sheet,
    save_gif,
    save_png,
    side_by_side,
    thermal_preview,
)
from sccosf_ros.classes import colorize
from sccosf_ros.demo.config import DemoConfig
from sccosf_ros.pipeline.outputs import DEFAULT_NAMESPACE, output_topics


def write_pictures(
    out: Path,
    rgbs: dict,
    ths: dict,
    labels: dict,
    rec: dict,
    th_of: dict,
    cfg: DemoConfig,
    params: Any,
    palette: Any,
) -> dict[str, str | None]:
    """contact_sheet.png and preview.gif from the recorded outputs."""
    topics = output_topics(DEFAULT_NAMESPACE)
    fused, seg, seg_color, over = (
        rec[topics[n]] for n in ("fused", "segmentation", "segmentation_color", "overlay")
    )
    common = sorted(s for s in seg if s in fused and s in over and s in rgbs)
    if not common:
        return {"contact_sheet": None, "preview": None}
    norm = params.thermal_norm()

    def thermal_tile(s: int) -> np.ndarray:
        t = th_of.get(s)
        if t is None:  # nearest thermal frame
            t = min(ths, key=lambda x: abs(x - s))
        return thermal_preview(norm(ths[t]))

    idx = np.linspace(0, len(common) - 1, min(6, len(common))).round().astype(int)
    rows = [
        [
            rgbs[s],
            thermal_tile(s),
            fused[s],
            seg_color.get(s, colorize(seg[s], palette)),
            over[s],
            colorize(labels[s], palette) if s in labels else np.zeros_like(rgbs[s]),
        ]
        for s in (common[i] for i in idx)
    ]
    titles = [f"stamp {common[i] / 1e9:.3f} s (sim time)" for i in idx]
    sheet = contact_sheet(
        rows,
        ["RGB", "thermal (mono16)", "fused", "segmentation", "overlay", "ground truth"],
        titles,
        tile_width=200,
    )
    sheet_path = save_png(out / "contact_sheet.png", sheet)
    step = max(1, int(np.ceil(len(common) / cfg.gif_max_frames)))
    frames = [
        side_by_side(
            [rgbs[s], thermal_tile(s), fused[s], over[s]],
            ["RGB", "thermal", "fused", "overlay"],
            tile_width=200,
        )
        for s in common[::step]
    ]
    gif_path = save_gif(out / "preview.gif", frames, fps=min(10.0, cfg.rgb_rate * cfg.rate / step))
    return {"contact_sheet": str(sheet_path), "preview": str(gif_path)}
