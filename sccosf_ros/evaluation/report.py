"""Evaluation report: Markdown tables in the layout of the paper's Tables 1/2, and the pictures.

* ``render_report(metrics)`` → Markdown: segmentation in the paper's column layout (MFNet:
  Table 1, FMB: Table 2) with the paper's SC-CoSF row beside ours, day/night (MFNet), every
  class, and the fusion metrics (§4.3); a synthetic dataset is flagged as not comparable.
* ``fusion_comparison_table(means)`` → the fused image and the baselines as rows, the fusion
  metrics and colour fidelity as columns (both ``sccosf eval`` modes).
* ``picture_grid(columns, rows)`` → titled panels in rows; ``example_grid(rows)`` → rows of
  RGB | thermal | fused | ground truth | prediction.
* ``plot_fusion_violin(values, path)`` → violin plots of EN and SD across images (Figure 9).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from sccosf_ros.classes import Palette, colorize
from sccosf_ros.evaluation.paper_results import PAPER_FUSION, PAPER_METHOD, PAPER_TABLES
from sccosf_ros.metrics.fusion import FUSION_METRICS
from sccosf_ros.metrics.fusion_comparison import (
    COMPARISON_METRICS,
    FUSED_KINDS,
    KIND_LABELS,
    METRIC_LABELS,
)
from sccosf_ros.tables import markdown_table

GRID_COLUMNS: tuple[str, ...] = ("RGB", "thermal", "fused", "ground truth", "prediction")
GRID_HEADER = 28  # pixels of the title strip above the grid
GRID_GAP = 2  # pixels between panels and rows

FUSION_DESCRIPTIONS: dict[str, str] = {
    "EN": "entropy, bits",
    "SD": "standard deviation, grey levels",
    "SF": "spatial frequency",
    "AG": "average gradient",
    "MI": "mutual information F–vis + F–ir (units: see the convention below)",
    "SCD": "sum of correlations of differences",
    "VIF": "visual information fidelity, vis + ir",
    "Qabf": "edge preservation Q^AB/F",
    "SSIM": "SSIM(F, vis) + SSIM(F, ir)",
}


# --------------------------------------------------------------------------- formatting
def _pct(v: float | None) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"


def _num(v: float | None, digits: int = 3) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return markdown_table(header, rows, left=len(header))  # every column left-aligned


def _lookup_iou(iou: dict[str, float | None], cls: str) -> float | None:
    by_lower = {k.lower(): v for k, v in iou.items()}
    return by_lower.get(cls.lower())


def dataset_title(metrics: dict) -> str:
    layout = str(metrics.get("dataset", "unknown"))
    pretty = {"mfnet": "MFNet", "fmb": "FMB"}.get(layout, layout)
    return f"synthetic ({pretty} layout)" if metrics.get("synthetic") else pretty


# --------------------------------------------------------------------------- Markdown
def _facts(metrics: dict) -> list[str]:
    """The bullet list under the title: images, checkpoint, device, timing."""
    ckpt = metrics.get("checkpoint") or {}
    facts = [f"- images: {int(metrics.get('n_images', 0))}"]
    if ckpt.get("path"):
        facts.append(f"- checkpoint: `{ckpt['path']}`")
    meta = ckpt.get("meta") or {}
    desc = ", ".join(f"{k} {meta[k]}" for k in ("preset", "step", "epoch", "created") if k in meta)
    if desc:
        facts.append(f"- checkpoint meta: {desc}")
    if metrics.get("device"):
        facts.append(f"- device: {metrics['device']}")
    timing = metrics.get("timing_ms") or {}
    if timing.get("model_median") is not None:
        facts.append(
            f"- network time per image: {timing['model_median']:.1f} ms (median; "
            f"mean {timing['model_mean']:.1f} ms incl. warm-up)"
        )
    return [*facts, ""]


def _synthetic_warning(layout: str) -> list[str]:
    return [
        "> **Synthetic data.** These scenes are rendered by `sccosf synth`; the paper's rows "
        f"below are for the real {layout.upper() if layout == 'fmb' else 'MFNet'} test set "
        "and are shown only to keep the paper's table layout. The numbers are not "
        "comparable.",
        "",
    ]


def _paper_table(metrics: dict, spec: dict) -> list[str]:
    """Our IoUs in the columns of the paper's Table 1/2, with the paper's SC-CoSF row above."""
    synthetic = bool(metrics.get("synthetic"))
    iou = metrics.get("iou") or {}
    split = metrics.get("split") or "?"
    ours_label = f"This checkpoint ({'synthetic ' if synthetic else ''}{split})"
    paper_vals, paper_miou = spec["rows"][PAPER_METHOD]
    where = "real dataset, paper" if synthetic else "paper"
    rows = [
        [f"{PAPER_METHOD} ({where})", *(f"{v:.1f}" for v in paper_vals), f"{paper_miou:.1f}"],
        [
            ours_label,
            *(_pct(_lookup_iou(iou, c)) for c in spec["classes"]),
            _pct(metrics.get("miou")),
        ],
    ]
    lines = [f"## Segmentation, IoU % (layout of the paper's {spec['table']})", ""]
    lines += _table(["Method", *spec["columns"], "mIoU"], rows)
    background = metrics.get("background_class") or "class 0"
    k = len(iou)
    lines += [
        "",
        f"mIoU is the mean over all {k} classes of the dataset that occur in the ground "
        "truth or the predictions, background/unlabeled included (the paper's MFNet mIoU "
        "includes `unlabeled`, and MRFS's FMB evaluator averages all 15 FMB classes); "
        "the columns are the classes the paper's table shows.",
        "",
        "| mIoU % | over | this checkpoint | paper |",
        "|---|---|---|---|",
        f"| with {background} | {k} classes | {_pct(metrics.get('miou'))} | {paper_miou:.1f} |",
        f"| without {background} | {k - 1} classes | "
        f"{_pct(metrics.get('miou_without_background'))} | {paper_miou:.1f} |",
        "",
        f"The paper's {paper_miou:.1f} does not say which of the two it is"
        + (
            " (its text counts 14 FMB classes; MRFS's evaluator, which the paper follows, "
            "averages all 15)."
            if metrics.get("dataset") == "fmb"
            else " (the 8 object columns alone average 55.0, so it includes `unlabeled`)."
        ),
        "",
    ]
    return lines + _day_night_table(metrics, spec)


def _day_night_table(metrics: dict, spec: dict) -> list[str]:
    parts = [p for p in ("day", "night") if p in metrics]
    if not parts:
        return []
    rows = []
    for part in parts:
        d = metrics[part]
        rows.append(
            [
                part,
                str(d.get("n_images", 0)),
                *(_pct(_lookup_iou(d.get("iou") or {}, c)) for c in spec["classes"]),
                _pct(d.get("miou")),
            ]
        )
    return [
        "### Day / night",
        "",
        *_table(["Subset", "images", *spec["columns"], "mIoU"], rows),
        "",
    ]


def _every_class(metrics: dict) -> list[str]:
    """IoU and ground-truth pixels of every class, then mIoU and pixel accuracy."""
    iou = metrics.get("iou") or {}
    confusion = np.asarray(metrics.get("confusion") or [], dtype=np.int64)
    gt_pixels = confusion.sum(1) if confusion.ndim == 2 and confusion.size else None
    rows = []
    for i, (name, v) in enumerate(iou.items()):
        px = str(int(gt_pixels[i])) if gt_pixels is not None else "?"
        rows.append([name, _pct(v), px])
    rows.append(["**mIoU**", _pct(metrics.get("miou")), ""])
    if metrics.get("miou_without_background") is not None:
        rows.append(
            [
                f"mIoU without {metrics.get('background_class', 'class 0')}",
                _pct(metrics["miou_without_background"]),
                "",
            ]
        )
    rows.append(["pixel accuracy", _pct(metrics.get("pixel_acc")), ""])
    return [
        "## Every class",
        "",
        *_table(["Class", "IoU %", "ground-truth pixels"], rows),
        "",
        "— : class absent from both ground truth and predictions.",
        "",
    ]


def _fusion_row(name: str, values: dict, paper: dict) -> list[str]:
    vals = np.asarray([v for v in values.get("per_image", []) if v is not None], dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    stats = (
        [_num(float(f(vals))) for f in (np.mean, np.std, np.min, np.max)]
        if vals.size
        else ["—"] * 4
    )
    if name in paper:
        paper_txt = f"{paper[name]:.3f}"
    elif name in ("EN", "SD"):
        paper_txt = "Figure 9 (plot only)"
    else:
        paper_txt = "not reported"
    return [name, FUSION_DESCRIPTIONS.get(name, ""), *stats, paper_txt]


def _source_stats(metrics: dict) -> list[str]:
    """EN and SD means of the inputs beside the fused image's."""
    sources = metrics.get("sources") or {}
    if not sources:
        return []
    fusion = metrics["fusion"]
    rows = [
        [src, *(_num(vals.get(m, {}).get("mean")) for m in ("EN", "SD"))]
        for src, vals in sources.items()
    ]
    if "EN" in fusion and "SD" in fusion:
        rows.append(["fused", _num(fusion["EN"].get("mean")), _num(fusion["SD"].get("mean"))])
    return [
        "EN and SD of the inputs, for reference:",
        "",
        *_table(["Image", "EN mean", "SD mean"], rows),
        "",
    ]


def _fusion_convention(metrics: dict) -> str:
    conv = (metrics.get("conventions") or {}).get("fusion")
    return str(conv) if conv else "the CDDFuse evaluator's"


def fusion_comparison_table(
    means: dict[str, dict[str, float | None]], model_label: str = KIND_LABELS["model"]
) -> list[str]:
    """The model's fused image and the baselines, one row each, the nine fusion metrics and
    the colour fidelity as columns (means; ``means`` as ``fusion_comparison.comparison_means``)."""
    labels = {**KIND_LABELS, "model": model_label}
    rows = [
        [labels[kind], *(_num(means[kind].get(m), 2) for m in COMPARISON_METRICS)]
        for kind in FUSED_KINDS
        if kind in means
    ]
    # "|" inside a cell would split it: Markdown's escape
    header = ["fused image", *(METRIC_LABELS[m].replace("|", "\\|") for m in COMPARISON_METRICS)]
    return markdown_table(header, rows)


COMPARISON_NOTE = (
    "Means over the images. Baselines: the RGB image alone; Y = (Y_rgb + IR) / 2 and "
    "Y = max(Y_rgb, IR) with the RGB image's Cb/Cr kept (full-range ITU-R 601 YCbCr). "
    "|ΔCb|, |ΔCr|: mean absolute chroma difference from the RGB image, grey levels 0-255 "
    "(0 = the RGB colours exactly). The nine fusion metrics read higher = better; SSIM is "
    "summed over both sources, so the RGB image alone scores 1 + SSIM(RGB, IR)."
)


def _comparison_section(metrics: dict) -> list[str]:
    means = metrics.get("fusion_comparison") or {}
    if not means:
        return []
    return [
        "### Against baselines",
        "",
        *fusion_comparison_table(means, "this checkpoint"),
        "",
        COMPARISON_NOTE,
        "",
    ]


def _fusion_section(metrics: dict, layout: str) -> list[str]:
    fusion = metrics.get("fusion") or {}
    if not fusion:
        return [
            "## Image fusion",
            "",
            "Fusion metrics not computed (switched off, or the model has no fusion head).",
            "",
        ]
    paper = PAPER_FUSION.get(layout, {})
    rows = [_fusion_row(name, fusion[name], paper) for name in FUSION_METRICS if name in fusion]
    return [
        "## Image fusion (paper §4.3)",
        "",
        *_table(["Metric", "meaning", "mean", "std", "min", "max", "paper"], rows),
        "",
        "Computed on the grayscale fused image (0–255) against the grayscale visible and "
        f"infrared inputs. Convention: {_fusion_convention(metrics)} (see "
        "`sccosf_ros/metrics/fusion.py`; `sccosf eval --ssim-data-range 255 --mi-units bits` "
        "for the textbook SSIM and MI in bits). The paper gives EN and SD only as violin "
        "plots (Figure 9), without numbers.",
        "",
        *_source_stats(metrics),
        *_comparison_section(metrics),
    ]


def render_report(
    metrics: dict,
    *,
    examples: str | None = "examples.png",
    violin: str | None = "fusion_violin.png",
) -> str:
    """The Markdown report of one evaluation (``metrics`` as written to metrics.json)."""
    layout = str(metrics.get("dataset", "unknown"))
    split = metrics.get("split") or "?"
    lines = [f"# SC-CoSF evaluation: {dataset_title(metrics)}, split `{split}`", ""]
    lines += _facts(metrics)
    if metrics.get("synthetic"):
        lines += _synthetic_warning(layout)
    spec = PAPER_TABLES.get(layout)
    if spec is not None and metrics.get("miou") is not None:
        lines += _paper_table(metrics, spec)
    elif metrics.get("miou") is None:
        lines += [
            "## Segmentation",
            "",
            "No segmentation output (the model has no segmentation head).",
            "",
        ]
    if metrics.get("iou"):
        lines += _every_class(metrics)
    lines += _fusion_section(metrics, layout)
    if violin:
        lines += [f"![EN and SD across images]({violin})", ""]
    if examples:
        lines += ["## Examples", "", f"![{' | '.join(GRID_COLUMNS)}]({examples})", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- example grid
def _as_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=2)
    if img.shape[2] == 1:
        return np.repeat(img, 3, axis=2)
    return img[..., :3]


def grid_panel_size(height: int, width: int, panel_width: int = 320) -> tuple[int, int]:
    """(h, w) of one grid panel for a frame of ``height``×``width`` (aspect kept)."""
    pw = min(int(panel_width), int(width))
    return max(1, round(height * pw / width)), pw


def _fit_panel(img: np.ndarray, ph: int, pw: int, interp: int) -> np.ndarray:
    """``img`` scaled to fit inside ph×pw (aspect kept), centred on white."""
    img = _as_rgb(img)
    h, w = img.shape[:2]
    scale = min(ph / h, pw / w)
    th, tw = max(1, min(ph, round(h * scale))), max(1, min(pw, round(w * scale)))
    panel = np.full((ph, pw, 3), 255, np.uint8)
    y, x = (ph - th) // 2, (pw - tw) // 2
    panel[y : y + th, x : x + tw] = cv2.resize(
        np.ascontiguousarray(img), (tw, th), interpolation=interp
    )
    return panel


def _put_text(
    canvas: np.ndarray, text: str, xy: tuple[int, int], scale: float, colour: tuple[int, int, int]
) -> None:
    cv2.putText(canvas, text, xy, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def picture_grid(
    columns: Sequence[str],
    rows: Sequence[Sequence[tuple[np.ndarray | None, int]]],
    names: Sequence[str | None] = (),
    panel_width: int = 320,
) -> np.ndarray:
    """Rows of titled panels as one uint8 RGB picture.

    Each row is one ``(image, interpolation)`` per column: (H, W, 3) uint8 RGB or (H, W) grey, or
    None for a
    grey "n/a" panel (a model without that head). Panels take the size of the first row's first
    image scaled to ``panel_width`` (``grid_panel_size``); other sizes are fitted inside, aspect
    kept. ``names[r]`` labels row r.
    """
    if not rows:
        raise ValueError("a picture grid needs at least one row")
    h0, w0 = rows[0][0][0].shape[:2]
    ph, pw = grid_panel_size(h0, w0, panel_width)
    ncol = len(columns)
    width = ncol * pw + (ncol - 1) * GRID_GAP
    height = GRID_HEADER + len(rows) * ph + (len(rows) - 1) * GRID_GAP
    canvas = np.full((height, width, 3), 255, np.uint8)
    for c, title in enumerate(columns):
        _put_text(canvas, title, (c * (pw + GRID_GAP) + 6, GRID_HEADER - 9), 0.55, (0, 0, 0))
    for r, row in enumerate(rows):
        y = GRID_HEADER + r * (ph + GRID_GAP)
        for c, (img, interp) in enumerate(row):
            x = c * (pw + GRID_GAP)
            if img is None:  # the model has no such head (ablations E/F)
                canvas[y : y + ph, x : x + pw] = 128
                _put_text(canvas, "n/a", (x + 6, y + ph // 2), 0.6, (255, 255, 255))
                continue
            canvas[y : y + ph, x : x + pw] = _fit_panel(img, ph, pw, interp)
        name = names[r] if r < len(names) else None
        if name:  # yellow on a dark strip: readable over sky and snow
            (tw, th), _ = cv2.getTextSize(str(name), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
            canvas[y : y + min(ph, th + 10), : min(pw, tw + 8)] //= 3
            _put_text(canvas, str(name), (4, y + 16), 0.45, (255, 255, 0))
    return canvas


def example_grid(rows: Sequence[dict], palette: Palette, panel_width: int = 320) -> np.ndarray:
    """Rows of RGB | thermal | fused | ground truth | prediction as one uint8 RGB picture.

    Each row dict has ``rgb`` (H,W,3 uint8), ``thermal`` (H,W uint8), ``fused`` (H,W,3 uint8),
    ``label`` and ``pred`` (H,W uint8 class ids) and optionally ``name``; ``fused``/``pred`` may
    be None (a model without that head: a grey "n/a" panel). All panels take the
    size of the first row's frame scaled to ``panel_width`` (see ``grid_panel_size``).
    """
    if not rows:
        raise ValueError("example_grid needs at least one row")
    panel_rows = []
    for row in rows:
        thermal = row["thermal"]
        if thermal.dtype != np.uint8:
            raise TypeError("example_grid expects the uint8 thermal image")
        fused, pred = row.get("fused"), row.get("pred")
        panel_rows.append(
            [
                (_as_rgb(row["rgb"]), cv2.INTER_AREA),
                (_as_rgb(thermal), cv2.INTER_AREA),
                (None if fused is None else _as_rgb(fused), cv2.INTER_AREA),
                (colorize(row["label"], palette), cv2.INTER_NEAREST),
                (None if pred is None else colorize(pred, palette), cv2.INTER_NEAREST),
            ]
        )
    names = [row.get("name") for row in rows]
    return picture_grid(GRID_COLUMNS, panel_rows, names, panel_width)


def save_rgb_png(img: np.ndarray, path: str | Path) -> Path:
    path = Path(path)
    if not cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
    return path


# --------------------------------------------------------------------------- violin plot
def plot_fusion_violin(
    series: dict[str, dict[str, Sequence[float]]], path: str | Path, title: str = ""
) -> Path:
    """Violin plots of EN and SD across images, one violin per image source (Figure 9 style).

    ``series`` maps a label ("visible", "infrared", "fused (ours)") to ``{"EN": [...],
    "SD": [...]}``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    labels = list(series)
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.6 * len(labels), 4.2))
    rng = np.random.default_rng(0)
    for ax, metric in zip(axes, ("EN", "SD"), strict=True):
        data = []
        for lab in labels:
            v = np.asarray([x for x in series[lab].get(metric, []) if x is not None], float)
            data.append(v[np.isfinite(v)])
        positions = [i + 1 for i, d in enumerate(data) if d.size]
        present = [d for d in data if d.size]
        if present:
            with warnings.catch_warnings():  # a single value or identical values: flat KDE
                warnings.simplefilter("ignore")
                parts = ax.violinplot(
                    present, positions=positions, showmeans=False, showmedians=True, widths=0.8
                )
            for body in parts["bodies"]:
                body.set_alpha(0.45)
            for pos, d in zip(positions, present, strict=True):
                jitter = rng.uniform(-0.08, 0.08, d.size)
                ax.scatter(pos + jitter, d, s=8, color="k", alpha=0.6, zorder=3)
        ax.set_xticks(range(1, len(labels) + 1))
        ax.set_xticklabels(labels, rotation=15)
        ax.set_title(f"{metric} ({'bits' if metric == 'EN' else 'grey levels'})")
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
