"""Offline evaluation of a Predictor on a dataset split (paper §4.2 Tables 1–2, §4.3 Figure 9).

``evaluate`` runs ``Predictor.predict`` on every raw sample at its native resolution (the
Predictor resizes to its ``input_size`` and back), accumulates the confusion matrix overall and
for MFNet's day/night subsets, computes the fusion metrics per image, and writes to ``out_dir``:

* ``metrics.json``: miou, iou (class → IoU), n_images, pixel_acc, confusion (rows = ground
  truth), fusion {metric: {mean, std, per_image}}, day/night {miou, iou, n_images}, checkpoint
  meta, and the conventions used;
* ``report.md`` (``report.render_report``), ``examples.png`` (RGB | thermal | fused | ground
  truth | prediction) and ``fusion_violin.png`` (EN and SD across images, like Figure 9).
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from sccosf_ros.training import report
from sccosf_ros.training.fusion_metrics import (
    FUSION_METRICS,
    entropy,
    fusion_metrics,
    standard_deviation,
    to_gray,
)
from sccosf_ros.training.metrics import ConfusionMatrix

CONVENTIONS = {
    "miou": "mean IoU over the dataset's classes present in ground truth or prediction "
            "(MFNet: all 9 classes incl. unlabeled, as the paper); label 255 ignored",
    "confusion": "rows = ground truth class, columns = predicted class",
    "fusion": "grayscale 0-255 (ITU-R 601); EN bits; MI nats, MI/VIF/SSIM summed over the "
              "visible and infrared sources (CDDFuse evaluator conventions)",
}


def _clean(v: Any) -> Any:
    """JSON-safe: NaN/inf → None, numpy scalars → Python, recursively."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.ndarray):
        return _clean(v.tolist())
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        f = float(v)
        return f if math.isfinite(f) else None
    return v


def _seg_summary(cm: ConfusionMatrix, class_names: list[str], n_images: int) -> dict:
    iou = cm.iou()
    return {
        "miou": cm.miou() if cm.total else None,
        "iou": {name: float(v) for name, v in zip(class_names, iou, strict=True)},
        "pixel_acc": cm.pixel_accuracy() if cm.total else None,
        "n_images": n_images,
    }


def _stats(values: list[float]) -> dict:
    v = np.asarray(values, dtype=np.float64)
    f = v[np.isfinite(v)]
    return {
        "mean": float(f.mean()) if f.size else None,
        "std": float(f.std()) if f.size else None,
        "per_image": values,
    }


_NUMBER_LIST = re.compile(r"\[\s*((?:-?[\d.eE+-]+|null)(?:,\s*(?:-?[\d.eE+-]+|null))*)\s*\]")


def _compact_json(data: dict) -> str:
    """Indented JSON with every list of plain numbers on one line (confusion rows, per-image)."""
    text = json.dumps(data, indent=1)
    return _NUMBER_LIST.sub(lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text) + "\n"


def _is_synthetic(dataset: Any) -> bool:
    flag = getattr(dataset, "synthetic", None)
    if flag is not None:
        return bool(flag)
    return "synthetic" in type(dataset).__name__.lower()


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def evaluate(
    predictor: Any,
    dataset: Any,
    out_dir: str | os.PathLike,
    max_images: int | None = None,
    grid_samples: int = 8,
    progress: bool = True,
    *,
    fusion: bool = True,
    split: str | None = None,
    synthetic: bool | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> dict:
    """Evaluate ``predictor`` on ``dataset`` and write metrics.json, report.md and the PNGs.

    Args:
        predictor: a ``sccosf_ros.inference.Predictor`` (anything with ``predict(rgb, thermal)``
            returning ``.fused``/``.labels`` and ``class_names``).
        dataset: a dataset from ``sccosf_ros.training.datasets`` (``load_raw``, ``class_names``,
            ``palette``, ``name``).
        max_images: evaluate only the first N samples.
        grid_samples: rows of the example grid (evenly spread over the evaluated samples).
        fusion: compute the fusion metrics (off: segmentation only, faster).
        split, synthetic, checkpoint: recorded in the results (``synthetic`` defaults to the
            dataset's own flag); ``checkpoint`` is the file the predictor came from.
    Returns the metrics dict written to ``metrics.json``.
    """
    from tqdm import tqdm

    class_names = [str(c) for c in dataset.class_names]
    k = len(class_names)
    pred_k = len(getattr(predictor, "class_names", class_names))
    if pred_k != k:
        raise ValueError(
            f"the checkpoint predicts {pred_k} classes but the dataset has {k} "
            f"({', '.join(class_names[:6])}...): evaluate a checkpoint trained on this dataset"
        )
    n = len(dataset)
    if max_images is not None:
        if max_images < 1:
            raise ValueError(f"max_images must be >= 1, got {max_images}")
        n = min(n, int(max_images))
    if n == 0:
        raise ValueError("the dataset split is empty: nothing to evaluate")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    palette = getattr(dataset, "palette", None) or getattr(predictor, "palette", None)
    grid_idx = set(np.unique(np.linspace(0, n - 1, max(0, min(grid_samples, n))).round()
                             .astype(int)).tolist()) if grid_samples > 0 else set()

    cm_all = ConfusionMatrix(k)
    cm_part = {"day": ConfusionMatrix(k), "night": ConfusionMatrix(k)}
    n_part = {"day": 0, "night": 0}
    per_image: dict[str, list[float]] = {m: [] for m in FUSION_METRICS}
    source_stats: dict[str, dict[str, list[float]]] = {
        "visible": {"EN": [], "SD": []}, "infrared": {"EN": [], "SD": []},
    }
    names: list[str] = []
    model_ms: list[float] = []
    grid_rows: list[dict] = []

    has_seg = has_fused = False
    bar = tqdm(range(n), desc="evaluate", unit="img", disable=not progress, dynamic_ncols=True)
    for i in bar:
        raw = dataset.load_raw(i)
        pred = predictor.predict(raw.rgb, raw.thermal)
        if pred.labels is not None:  # None: a model without segmentation head (ablation E)
            has_seg = True
            cm_all.update(pred.labels, raw.label)
            if raw.night is not None:
                part = "night" if raw.night else "day"
                cm_part[part].update(pred.labels, raw.label)
                n_part[part] += 1
        names.append(str(raw.name))
        if "model" in pred.timings_ms:
            model_ms.append(float(pred.timings_ms["model"]))
        if fusion and pred.fused is not None:  # None: no fusion head (ablation F)
            has_fused = True
            thermal8 = raw.thermal
            if thermal8.dtype != np.uint8:
                raise TypeError(
                    f"sample {raw.name}: fusion metrics need the uint8 thermal image, "
                    f"got {thermal8.dtype}"
                )
            fm = fusion_metrics(pred.fused, raw.rgb, thermal8)
            for m in FUSION_METRICS:
                per_image[m].append(fm[m])
            for src, img in (("visible", raw.rgb), ("infrared", thermal8)):
                g = to_gray(img)
                source_stats[src]["EN"].append(entropy(g))
                source_stats[src]["SD"].append(standard_deviation(g))
        elif fusion:
            for m in FUSION_METRICS:
                per_image[m].append(float("nan"))
        if i in grid_idx:
            grid_rows.append({"rgb": raw.rgb, "thermal": _thermal_view(raw.thermal),
                              "fused": pred.fused, "label": raw.label, "pred": pred.labels,
                              "name": raw.name})
        if progress and has_seg and cm_all.total:
            bar.set_postfix(mIoU=f"{100 * cm_all.miou():.1f}")
    bar.close()

    seg = _seg_summary(cm_all, class_names, n)
    meta = dict(getattr(predictor, "meta", {}) or {})
    results: dict[str, Any] = {
        "dataset": str(getattr(dataset, "name", "unknown")),
        "synthetic": _is_synthetic(dataset) if synthetic is None else bool(synthetic),
        "split": split or getattr(dataset, "split", None),
        "n_images": n,
        "class_names": class_names,
        "miou": seg["miou"] if has_seg else None,
        "iou": seg["iou"] if has_seg else {},
        "pixel_acc": seg["pixel_acc"] if has_seg else None,
        "confusion": cm_all.matrix.tolist() if has_seg else None,
        "images": names,
        "checkpoint": {
            "path": str(checkpoint) if checkpoint is not None else None,
            "dataset": getattr(predictor, "dataset", None),
            "meta": meta,
            "input_size": list(predictor.input_size)
            if getattr(predictor, "input_size", None) else None,
        },
        "device": str(getattr(predictor, "device", "")) or None,
        "timing_ms": {
            "model_mean": float(np.mean(model_ms)) if model_ms else None,
            "model_median": float(np.median(model_ms)) if model_ms else None,  # no warm-up
        },
        "conventions": CONVENTIONS,
    }
    for part in ("day", "night"):
        if n_part[part]:
            results[part] = _seg_summary(cm_part[part], class_names, n_part[part])
            results[part].pop("pixel_acc")
    if has_fused:
        results["fusion"] = {m: _stats(per_image[m]) for m in FUSION_METRICS}
        results["sources"] = {
            src: {m: _stats(v) for m, v in d.items()} for src, d in source_stats.items()
        }
    results = _clean(results)

    files: dict[str, str] = {}
    if grid_rows:
        grid = report.example_grid(grid_rows, palette)
        files["examples"] = str(report.save_rgb_png(grid, out / "examples.png"))
    if has_fused:
        series = {src: {m: d[m]["per_image"] for m in ("EN", "SD")}
                  for src, d in results["sources"].items()}
        series["fused (ours)"] = {m: results["fusion"][m]["per_image"] for m in ("EN", "SD")}
        title = f"{report._dataset_title(results)} {results['split'] or ''}: EN and SD"
        files["violin"] = str(report.plot_fusion_violin(series, out / "fusion_violin.png", title))
    results["files"] = {**files, "metrics": str(out / "metrics.json"),
                        "report": str(out / "report.md")}
    _atomic_write_text(out / "metrics.json", _compact_json(results))
    _atomic_write_text(
        out / "report.md",
        report.render_report(
            results,
            examples="examples.png" if "examples" in files else None,
            violin="fusion_violin.png" if "violin" in files else None,
        ),
    )
    return results


def _thermal_view(thermal: np.ndarray) -> np.ndarray:
    """A uint8 picture of the thermal frame (min–max stretch for raw counts)."""
    t = np.asarray(thermal)
    if t.ndim == 3:
        t = t[..., 0]
    if t.dtype == np.uint8:
        return t
    t = t.astype(np.float64)
    lo, hi = float(np.nanmin(t)), float(np.nanmax(t))
    return np.zeros(t.shape, np.uint8) if hi <= lo else (
        ((t - lo) / (hi - lo) * 255).round().astype(np.uint8)
    )
