"""Offline evaluation of a Predictor on a dataset split (paper §4.2 Tables 1–2, §4.3 Figure 9).

``evaluate`` runs ``Predictor.predict`` on every raw sample at its native resolution (the
Predictor resizes to its ``input_size`` and back), scores the masks with the shared
``SegmentationEvaluator`` (overall and the day/night subsets the samples report), computes the
fusion metrics per image, and writes to ``out_dir``:

* ``metrics.json``: miou (all the dataset's classes: MFNet 9, FMB 15), miou_without_background
  (class 0 left out: FMB's 14, the paper's "14 classes"), iou (class → IoU), n_images,
  pixel_acc, confusion (rows = ground truth), fusion {metric: {mean, std, per_image}},
  day/night {miou, iou, n_images}, fusion_comparison (kind → metric → mean: the fused image
  beside the baselines RGB alone / average / max, with colour fidelity, computed by
  ``metrics.fusion_comparison`` as ``sccosf eval --rgb --thermal`` does), checkpoint meta, and
  the conventions used (fusion: ``FusionConvention``, default the CDDFuse evaluator's);
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

from sccosf_ros.day_night import day_night
from sccosf_ros.errors import SccosfError
from sccosf_ros.evaluation import report
from sccosf_ros.metrics.fusion import (
    DEFAULT_CONVENTION,
    FUSION_METRICS,
    FusionConvention,
    entropy,
    standard_deviation,
    to_gray,
)
from sccosf_ros.metrics.fusion_comparison import MODEL, compare_fusion, comparison_means
from sccosf_ros.metrics.segmentation import SegmentationEvaluator


class EvaluationError(SccosfError, ValueError):
    """A checkpoint and dataset that cannot be evaluated together, or results that cannot be
    written; the message says what to change."""


CONVENTIONS = {
    "miou": "mean IoU over the dataset's classes present in ground truth or prediction "
    "(MFNet: all 9 classes incl. unlabeled, as the paper; FMB: all 15 incl. background, as "
    "MRFS's evaluator); label 255 ignored",
    "miou_without_background": "the same mean without class 0 (MFNet unlabeled, FMB "
    "background: the 14 FMB classes the paper's text counts)",
    "confusion": "rows = ground truth class, columns = predicted class",
}


def conventions(fusion: FusionConvention = DEFAULT_CONVENTION) -> dict[str, Any]:
    """What metrics.json states about how its numbers were computed."""
    return {**CONVENTIONS, "fusion": fusion.describe(), "fusion_convention": fusion.to_dict()}


def miou_without_background(iou: dict[str, float | None]) -> float | None:
    """Mean IoU over every class but the first (background / unlabeled); None if none."""
    vals = [v for v in list(iou.values())[1:] if v is not None and math.isfinite(v)]
    return float(np.mean(vals)) if vals else None


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


class _Accumulator:
    """What one pass over the images collects: segmentation counts, fusion metrics, timings."""

    def __init__(
        self,
        class_names: list[str],
        fusion: bool,
        convention: FusionConvention = DEFAULT_CONVENTION,
        thermal_norm: Any = None,
    ) -> None:
        # 16-bit thermal (counts, centikelvin) → the 8-bit source image of the fusion metrics:
        # what the model saw, through the predictor's thermal normalisation
        self.thermal_norm = thermal_norm
        self._split: dict[str, str | None] = {}  # image name → day/night, from its sample
        self.seg = SegmentationEvaluator(class_names, split_of=self._split.get)
        self.fusion = fusion
        self.convention = convention
        self.per_image: dict[str, list[float]] = {m: [] for m in FUSION_METRICS}
        self.comparison: list[dict[str, dict[str, float]]] = []  # per image, kind → scores
        self.sources: dict[str, dict[str, list[float]]] = {
            "visible": {"EN": [], "SD": []},
            "infrared": {"EN": [], "SD": []},
        }
        self.names: list[str] = []
        self.model_ms: list[float] = []
        self.has_seg = self.has_fused = False

    def add(self, raw: Any, pred: Any) -> None:
        name = str(raw.name)
        self.names.append(name)
        if "model" in pred.timings_ms:
            self.model_ms.append(float(pred.timings_ms["model"]))
        if pred.labels is not None:  # None: a model without segmentation head (ablation E)
            self.has_seg = True
            self._split[name] = day_night(raw.night)
            self.seg.update(pred.labels, raw.label, name=name)
        if self.fusion:
            self._add_fusion(raw, pred.fused)

    def _add_fusion(self, raw: Any, fused: np.ndarray | None) -> None:
        if fused is None:  # no fusion head (ablation F)
            for m in FUSION_METRICS:
                self.per_image[m].append(float("nan"))
            return
        self.has_fused = True
        thermal8 = thermal_for_metrics(raw.thermal, self.thermal_norm, str(raw.name))
        scores = compare_fusion(fused, raw.rgb, thermal8, self.convention)
        self.comparison.append(scores)
        for m in FUSION_METRICS:
            self.per_image[m].append(scores[MODEL][m])
        for src, img in (("visible", raw.rgb), ("infrared", thermal8)):
            g = to_gray(img)
            self.sources[src]["EN"].append(entropy(g))
            self.sources[src]["SD"].append(standard_deviation(g))

    def running_miou(self) -> float | None:
        return self.seg.confusion.miou() if self.has_seg and self.seg.confusion.total else None

    def segmentation(self) -> dict[str, Any]:
        """miou, iou, pixel_acc and confusion over all images (None: no segmentation head)."""
        if not self.has_seg:
            return {
                "miou": None,
                "miou_without_background": None,
                "iou": {},
                "pixel_acc": None,
                "confusion": None,
            }
        r = self.seg.result()
        out = {k: r[k] for k in ("miou", "iou", "pixel_acc", "confusion")}
        out["miou_without_background"] = miou_without_background(r["iou"])
        out["background_class"] = self.seg.class_names[0]
        return out

    def subsets(self) -> dict[str, Any]:
        """``{"day": {miou, iou, n_images}, "night": ...}`` for the subsets that have images."""
        splits = self.seg.result()["splits"] if self.has_seg else {}
        return {part: {k: d[k] for k in ("miou", "iou", "n_images")} for part, d in splits.items()}

    def fusion_results(self) -> dict[str, Any]:
        if not self.has_fused:
            return {}
        return {
            "fusion": {m: _stats(self.per_image[m]) for m in FUSION_METRICS},
            "sources": {
                src: {m: _stats(v) for m, v in d.items()} for src, d in self.sources.items()
            },
            # the same fused images beside the baselines (RGB alone, average, max), + colour
            "fusion_comparison": comparison_means(self.comparison),
        }


def thermal_for_metrics(thermal: np.ndarray, thermal_norm: Any, name: str) -> np.ndarray:
    """The 8-bit infrared source image of the fusion metrics: uint8 as it is; 16-bit counts or
    float through the predictor's thermal normalisation (what the model saw) × 255."""
    t = np.asarray(thermal)
    if t.dtype != np.uint8 and thermal_norm is not None:
        t = np.round(thermal_norm(t) * 255).astype(np.uint8)
    if t.dtype != np.uint8:
        raise EvaluationError(
            f"sample {name}: fusion metrics need the uint8 thermal image, got {t.dtype}"
        )
    return t


def _check_inputs(predictor: Any, dataset: Any, max_images: int | None) -> tuple[list[str], int]:
    """The dataset's class names and how many images to evaluate; EvaluationError if unusable."""
    class_names = [str(c) for c in dataset.class_names]
    k = len(class_names)
    pred_k = len(getattr(predictor, "class_names", class_names))
    if pred_k != k:
        raise EvaluationError(
            f"the checkpoint predicts {pred_k} classes but the dataset has {k} "
            f"({', '.join(class_names[:6])}...): evaluate a checkpoint trained on this dataset"
        )
    n = len(dataset)
    if max_images is not None:
        if max_images < 1:
            raise EvaluationError(f"max_images must be >= 1, got {max_images}")
        n = min(n, int(max_images))
    if n == 0:
        raise EvaluationError("the dataset split is empty: nothing to evaluate")
    return class_names, n


def grid_indices(n: int, grid_samples: int) -> set[int]:
    """``grid_samples`` sample indices spread evenly over ``0..n-1``."""
    if grid_samples <= 0:
        return set()
    picks = np.linspace(0, n - 1, min(grid_samples, n)).round().astype(int)
    return set(np.unique(picks).tolist())


def checkpoint_info(predictor: Any, checkpoint: str | os.PathLike | None) -> dict[str, Any]:
    input_size = getattr(predictor, "input_size", None)
    return {
        "path": str(checkpoint) if checkpoint is not None else None,
        "dataset": getattr(predictor, "dataset", None),
        "meta": dict(getattr(predictor, "meta", {}) or {}),
        "input_size": list(input_size) if input_size else None,
    }


def timing_summary(model_ms: list[float]) -> dict[str, float | None]:
    return {
        "model_mean": float(np.mean(model_ms)) if model_ms else None,
        "model_median": float(np.median(model_ms)) if model_ms else None,  # no warm-up
    }


def _write_outputs(results: dict, grid_rows: list[dict], palette: Any, out: Path) -> dict:
    """examples.png, fusion_violin.png, metrics.json and report.md; returns the file paths."""
    files: dict[str, str] = {}
    if grid_rows:
        grid = report.example_grid(grid_rows, palette)
        files["examples"] = str(report.save_rgb_png(grid, out / "examples.png"))
    if "fusion" in results:
        series = {
            src: {m: d[m]["per_image"] for m in ("EN", "SD")}
            for src, d in results["sources"].items()
        }
        series["fused (ours)"] = {m: results["fusion"][m]["per_image"] for m in ("EN", "SD")}
        title = f"{report.dataset_title(results)} {results['split'] or ''}: EN and SD"
        files["violin"] = str(report.plot_fusion_violin(series, out / "fusion_violin.png", title))
    results["files"] = {
        **files,
        "metrics": str(out / "metrics.json"),
        "report": str(out / "report.md"),
    }
    _atomic_write_text(out / "metrics.json", _compact_json(results))
    _atomic_write_text(
        out / "report.md",
        report.render_report(
            results,
            examples="examples.png" if "examples" in files else None,
            violin="fusion_violin.png" if "violin" in files else None,
        ),
    )
    return results["files"]


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
    convention: FusionConvention = DEFAULT_CONVENTION,
) -> dict:
    """Evaluate ``predictor`` on ``dataset`` and write metrics.json, report.md and the PNGs.

    Args:
        predictor: a ``sccosf_ros.inference.Predictor`` (anything with ``predict(rgb, thermal)``
            returning ``.fused``/``.labels`` and ``class_names``).
        dataset: a dataset from ``sccosf_ros.data.datasets`` (``load_raw``, ``class_names``,
            ``palette``, ``name``).
        max_images: evaluate only the first N samples.
        grid_samples: rows of the example grid (evenly spread over the evaluated samples).
        fusion: compute the fusion metrics (off: segmentation only, faster).
        split, synthetic, checkpoint: recorded in the results (``synthetic`` defaults to the
            dataset's own flag); ``checkpoint`` is the file the predictor came from.
        convention: SSIM data range and MI units of the fusion metrics (default: CDDFuse's).
    Returns the metrics dict written to ``metrics.json``. ``EvaluationError`` when the two do
    not fit or the results cannot be written, ``DatasetError`` for a sample that cannot be read.
    """
    from tqdm import tqdm

    class_names, n = _check_inputs(predictor, dataset, max_images)
    out = Path(out_dir)
    make_output_dir(out)
    grid_idx = grid_indices(n, grid_samples)
    acc = _Accumulator(class_names, fusion, convention, getattr(predictor, "thermal_norm", None))
    grid_rows: list[dict] = []
    bar = tqdm(range(n), desc="evaluate", unit="img", disable=not progress, dynamic_ncols=True)
    for i in bar:
        raw = dataset.load_raw(i)
        pred = predictor.predict(raw.rgb, raw.thermal)
        acc.add(raw, pred)
        if i in grid_idx:
            grid_rows.append(
                {
                    "rgb": raw.rgb,
                    "thermal": thermal_view(raw.thermal),
                    "fused": pred.fused,
                    "label": raw.label,
                    "pred": pred.labels,
                    "name": raw.name,
                }
            )
        if progress and acc.running_miou() is not None:
            bar.set_postfix(mIoU=f"{100 * acc.running_miou():.1f}")
    bar.close()

    results: dict[str, Any] = {
        "dataset": str(getattr(dataset, "name", "unknown")),
        "synthetic": _is_synthetic(dataset) if synthetic is None else bool(synthetic),
        "split": split or getattr(dataset, "split", None),
        "n_images": n,
        "class_names": class_names,
        **acc.segmentation(),
        "images": acc.names,
        "checkpoint": checkpoint_info(predictor, checkpoint),
        "device": str(getattr(predictor, "device", "")) or None,
        "backend": getattr(predictor, "backend", None),
        "precision": getattr(predictor, "precision", None),
        "timing_ms": timing_summary(acc.model_ms),
        "conventions": conventions(convention),
        **acc.subsets(),
        **acc.fusion_results(),
    }
    results = _clean(results)
    palette = getattr(dataset, "palette", None) or getattr(predictor, "palette", None)
    try:
        _write_outputs(results, grid_rows, palette, out)
    except OSError as e:
        raise EvaluationError(f"cannot write the results to {out}: {e.strerror or e}") from e
    return results


def make_output_dir(out: Path) -> None:
    """Create the output folder before the (long) pass over the images."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EvaluationError(f"cannot write the results to {out}: {e.strerror or e}") from e


def thermal_view(thermal: np.ndarray) -> np.ndarray:
    """A uint8 picture of the thermal frame (min–max stretch for raw counts)."""
    t = np.asarray(thermal)
    if t.ndim == 3:
        t = t[..., 0]
    if t.dtype == np.uint8:
        return t
    t = t.astype(np.float64)
    lo, hi = float(np.nanmin(t)), float(np.nanmax(t))
    return (
        np.zeros(t.shape, np.uint8)
        if hi <= lo
        else (((t - lo) / (hi - lo) * 255).round().astype(np.uint8))
    )
