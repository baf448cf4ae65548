"""bag-eval's sampled pairs: which pairs the contact sheet shows, the sheet itself
(RGB | thermal | fused | segmentation | ground truth) and the fusion metrics on those pairs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sccosf_ros.bag.contact_sheet import contact_sheet, save_png, thermal_preview
from sccosf_ros.classes import IGNORE_INDEX, colorize
from sccosf_ros.metrics.fusion import fusion_metrics
from sccosf_ros.pipeline.processor import PairOutput


@dataclass
class Sample:
    """One pair kept for the contact sheet (pictures are drawn only for the chosen ones)."""

    stamp: int
    out: PairOutput
    gt: np.ndarray | None = None


class Samples:
    """The contact sheet's pairs: ``rows`` spread over the expected pairs, or the last ones."""

    def __init__(self, expected: int, rows: int) -> None:
        self.rows = max(1, rows)
        self.at = set(np.linspace(0, max(expected - 1, 0), self.rows).round().astype(int).tolist())
        self.chosen: dict[int, Sample] = {}
        self.recent: list[Sample] = []  # in case fewer pairs than expected appear

    def add(self, index: int, sample: Sample) -> None:
        if index in self.at:
            self.chosen[index] = sample
        self.recent.append(sample)
        del self.recent[: -self.rows]

    def label(self, stamp: int, gt: np.ndarray) -> None:
        for s in [*self.chosen.values(), *self.recent]:
            if s.stamp == stamp:
                s.gt = gt

    def final(self, pairs: int) -> list[Sample]:
        chosen = [self.chosen[k] for k in sorted(self.chosen)]
        if len(chosen) < min(self.rows, pairs):
            seen = {s.stamp for s in chosen}
            chosen += [s for s in self.recent if s.stamp not in seen][: self.rows - len(chosen)]
            chosen.sort(key=lambda s: s.stamp)
        return chosen


def sampled_fusion_metrics(chosen: list[Sample], thermal_norm: Any) -> dict:
    """All fusion metrics, averaged over the sampled pairs (``{}`` without fused images)."""
    vals = [
        fusion_metrics(
            s.out.fused, s.out.rgb, np.round(thermal_norm(s.out.thermal) * 255).astype(np.uint8)
        )
        for s in chosen
        if s.out.fused is not None
    ]
    if not vals:
        return {}
    return {
        "fusion_sampled": {
            "n_frames": len(vals),
            **{k: float(np.nanmean([f[k] for f in vals])) for k in vals[0]},
        }
    }


def write_contact_sheet(
    chosen: list[Sample], out_dir: Path, palette: Any, thermal_norm: Any
) -> str | None:
    """``contact_sheet.png`` of the sampled pairs; its path, or None without pairs."""
    if not chosen:
        return None
    columns = ["RGB", "thermal", "fused", "segmentation"]
    has_gt = any(s.gt is not None for s in chosen)
    if has_gt:
        columns.append("ground truth")
    rows = []
    for s in chosen:
        blank = np.full(s.out.rgb.shape[:2], IGNORE_INDEX, np.uint8)
        tiles = [
            s.out.rgb,
            thermal_preview(thermal_norm(s.out.thermal)),
            s.out.fused if s.out.fused is not None else np.zeros_like(s.out.rgb),
            colorize(s.out.labels if s.out.labels is not None else blank, palette),
        ]
        if has_gt:
            tiles.append(colorize(s.gt if s.gt is not None else blank, palette))
        rows.append(tiles)
    titles = [f"stamp {s.stamp / 1e9:.3f} s" for s in chosen]
    sheet = contact_sheet(rows, columns, titles)
    return str(save_png(Path(out_dir) / "contact_sheet.png", sheet))
