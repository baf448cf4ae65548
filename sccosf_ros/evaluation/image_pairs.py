"""Fusion quality without labels: a checkpoint against the baselines on folders of image pairs.

``evaluate_pairs`` runs the Predictor on every RGB image of one folder and the thermal image of
the same file stem in another (``.png``/``.jpg``, 8- or 16-bit; sizes may differ between pairs,
not within one), makes the three baselines of ``metrics.fusion_baselines`` and scores the four
fused images alike (``metrics.fusion_comparison``: the nine fusion metrics of the convention
given, and the colour fidelity |ΔCb|, |ΔCr| against the RGB image). It writes to ``out_dir``:

* ``per_image.json`` / ``per_image.csv``: every pair's scores, one row per pair and fused image;
* ``metrics.json``: the means (kind → metric), the counts (pairs found, evaluated, skipped,
  RGB images without a thermal partner) and why each pair was skipped, the checkpoint, the
  conventions;
* ``report.md``: the table (rows = fused images, columns = metrics) and the picture grid
  ``fusion_grid.png`` (RGB | thermal | fused | average | max, a few pairs).

A pair that cannot be scored (a corrupt or unreadable file, an input that is one constant
value, RGB and thermal of different sizes) is one warning line naming the file, and the run goes
on; ``EvaluationError`` only when no pair at all could be evaluated. The thermal image goes to
the model as it is (the predictor's thermal normalisation, the checkpoint's by default; 8-bit
JPEGs are the common case) and into the metrics as 8 bits (``thermal_for_metrics``).
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sccosf_ros.data.errors import DatasetError, DatasetNotFoundError
from sccosf_ros.data.image_file import read_rgb, read_thermal
from sccosf_ros.errors import SccosfError
from sccosf_ros.evaluation import pairs_report
from sccosf_ros.evaluation.evaluate import (
    EvaluationError,
    checkpoint_info,
    conventions,
    grid_indices,
    make_output_dir,
    thermal_for_metrics,
    thermal_view,
    timing_summary,
)
from sccosf_ros.evaluation.report import save_rgb_png
from sccosf_ros.jsonio import json_safe, write_json
from sccosf_ros.metrics.fusion import DEFAULT_CONVENTION, FusionConvention
from sccosf_ros.metrics.fusion_comparison import (
    COMPARISON_METRICS,
    MODEL,
    baseline_images,
    compare_fusion,
    comparison_means,
)

IMAGE_EXTS = (".png", ".jpg", ".jpeg")
MIN_SIDE = 7  # SSIM's 7×7 window
GRID_FILE = "fusion_grid.png"


@dataclass(frozen=True)
class ImagePair:
    """One RGB file and the thermal file of the same stem."""

    name: str
    rgb: Path
    thermal: Path


class PairSkipped(Exception):
    """A pair that cannot be scored; ``str`` is the warning line (it names the file)."""


def _images(folder: Path, flag: str) -> list[Path]:
    if not folder.is_dir():
        raise DatasetNotFoundError(f"{flag} folder {str(folder)!r} does not exist")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and p.is_file())


def find_pairs(rgb_dir: Path, thermal_dir: Path) -> tuple[list[ImagePair], list[Path]]:
    """Pairs matched by file stem, and the RGB files without a thermal partner."""
    rgb_files = _images(Path(rgb_dir), "--rgb")
    thermal: dict[str, Path] = {}
    for p in _images(Path(thermal_dir), "--thermal"):
        thermal.setdefault(p.stem, p)  # sorted: FOO.jpg before FOO.png
    if not rgb_files:
        raise DatasetError(f"no images ({', '.join(IMAGE_EXTS)}) in {rgb_dir}")
    pairs = [ImagePair(p.stem, p, thermal[p.stem]) for p in rgb_files if p.stem in thermal]
    unmatched = [p for p in rgb_files if p.stem not in thermal]
    if not pairs:
        raise DatasetError(
            f"none of the {len(rgb_files)} images in {rgb_dir} has a thermal image of the same "
            f"name in {thermal_dir}"
        )
    return pairs, unmatched


# --------------------------------------------------------------------------- checks
def _check_usable(path: Path, img: np.ndarray) -> None:
    if min(img.shape[:2]) < MIN_SIDE:
        raise PairSkipped(
            f"{path}: {img.shape[1]}x{img.shape[0]} is smaller than the {MIN_SIDE}x{MIN_SIDE} "
            "the fusion metrics need"
        )
    lo, hi = img.min(), img.max()
    if lo == hi:
        raise PairSkipped(
            f"{path}: constant image (every value {lo.item()}): the fusion metrics against it "
            "are undefined (0/0 in VIF, SCD, Qabf)"
        )


def load_pair(pair: ImagePair) -> tuple[np.ndarray, np.ndarray]:
    """RGB (H, W, 3) uint8 and thermal (H, W) of one pair; PairSkipped says why not."""
    try:
        rgb, thermal = read_rgb(pair.rgb), read_thermal(pair.thermal)
    except DatasetError as e:  # names the file and what is wrong with it
        raise PairSkipped(e.message) from None
    if rgb.shape[:2] != thermal.shape[:2]:
        raise PairSkipped(
            f"{pair.thermal}: thermal {thermal.shape[1]}x{thermal.shape[0]} and RGB "
            f"{rgb.shape[1]}x{rgb.shape[0]} differ in size (register the thermal image first)"
        )
    _check_usable(pair.rgb, rgb)
    _check_usable(pair.thermal, thermal)
    return rgb, thermal


# --------------------------------------------------------------------------- one pair
@dataclass
class PairResult:
    """One evaluated pair: its scores (kind → metric → value) and the images of the grid."""

    pair: ImagePair
    size: tuple[int, int]
    scores: dict[str, dict[str, float]]
    model_ms: float | None
    images: dict[str, np.ndarray | None]


def evaluate_pair(
    predictor: Any, pair: ImagePair, convention: FusionConvention = DEFAULT_CONVENTION
) -> PairResult:
    """Run the model on one pair and score its fused image and the baselines."""
    rgb, thermal = load_pair(pair)
    try:
        pred = predictor.predict(rgb, thermal)
    except SccosfError as e:
        raise PairSkipped(f"{pair.rgb}: {e.message}") from None
    thermal8 = thermal_for_metrics(thermal, getattr(predictor, "thermal_norm", None), pair.name)
    baselines = baseline_images(rgb, thermal8)
    scores = compare_fusion(pred.fused, rgb, thermal8, convention, baselines)
    images = {"rgb": rgb, "thermal": thermal_view(thermal), MODEL: pred.fused, **baselines}
    return PairResult(pair, rgb.shape[:2], scores, pred.timings_ms.get("model"), images=images)


# --------------------------------------------------------------------------- outputs
def _per_image_records(results: list[PairResult]) -> list[dict[str, Any]]:
    return [
        {
            "name": r.pair.name,
            "rgb": str(r.pair.rgb),
            "thermal": str(r.pair.thermal),
            "size": list(r.size),
            "scores": r.scores,
        }
        for r in results
    ]


def _write_csv(path: Path, results: list[PairResult]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "fused_image", *COMPARISON_METRICS])
        for r in results:
            for kind, s in r.scores.items():
                w.writerow([r.pair.name, kind, *(json_safe(s[m]) for m in COMPARISON_METRICS)])
    os.replace(tmp, path)


def _write_outputs(
    results: dict, done: list[PairResult], grid: list[PairResult], out: Path
) -> None:
    files = {
        "per_image_json": str(write_json(out / "per_image.json", _per_image_records(done))),
        "per_image_csv": str(out / "per_image.csv"),
        "metrics": str(out / "metrics.json"),
    }
    _write_csv(out / "per_image.csv", done)
    if grid:
        picture = pairs_report.pairs_grid([(r.pair.name, r.images) for r in grid])
        files["grid"] = str(save_rgb_png(picture, out / GRID_FILE))
    if done:
        files["report"] = str(out / "report.md")
    results["files"] = files
    write_json(out / "metrics.json", results)
    if done:
        text = pairs_report.render_pairs_report(results, GRID_FILE if grid else None)
        (out / "report.md").write_text(text, encoding="utf-8")


class _GridRows:
    """The pairs of the picture grid: picks spread evenly over all pairs; a pick that was
    skipped passes to the next pair evaluated (the last one evaluated, at the end). Only the
    rows and the latest pair keep their images in memory."""

    def __init__(self, n: int, grid_samples: int) -> None:
        self.picks = grid_indices(n, grid_samples)
        self.rows: list[PairResult] = []
        self.latest: PairResult | None = None
        self.due = False

    def _latest_is_a_row(self) -> bool:
        return bool(self.rows) and self.rows[-1] is self.latest

    def skipped(self, i: int) -> None:
        self.due = self.due or i in self.picks

    def evaluated(self, i: int, result: PairResult) -> None:
        if self.latest is not None and not self._latest_is_a_row():
            self.latest.images = {}
        self.latest = result
        if self.due or i in self.picks:
            self.rows.append(result)
            self.due = False

    def finish(self) -> list[PairResult]:
        if self.due and self.latest is not None and not self._latest_is_a_row():
            self.rows.append(self.latest)
        return self.rows


def _default_warn(message: str) -> None:
    from tqdm import tqdm

    tqdm.write(f"warning: {message}", file=sys.stderr)


def evaluate_pairs(
    predictor: Any,
    rgb_dir: str | os.PathLike,
    thermal_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    grid_samples: int = 6,
    max_images: int | None = None,
    progress: bool = True,
    convention: FusionConvention = DEFAULT_CONVENTION,
    checkpoint: str | os.PathLike | None = None,
    warn: Callable[[str], None] = _default_warn,
) -> dict:
    """Evaluate ``predictor`` on the pairs of two folders; returns what metrics.json holds.

    ``grid_samples`` pairs (spread evenly) make the picture grid; ``max_images`` evaluates only
    the first N pairs (by name); ``warn`` gets one line per pair skipped and per RGB image
    without a thermal partner. ``EvaluationError`` when no pair could be evaluated (after
    writing metrics.json with the reasons), ``DatasetError`` for a missing folder.
    """
    from tqdm import tqdm

    pairs, unmatched = find_pairs(Path(rgb_dir), Path(thermal_dir))
    for p in unmatched:
        warn(f"{p}: no thermal image named {p.stem}.* in {thermal_dir}, not evaluated")
    pairs = pairs[:max_images] if max_images else pairs
    out = Path(out_dir)
    make_output_dir(out)
    grid = _GridRows(len(pairs), grid_samples)
    done: list[PairResult] = []
    skipped: list[dict[str, str]] = []
    for i, pair in enumerate(tqdm(pairs, desc="eval", unit="pair", disable=not progress)):
        try:
            result = evaluate_pair(predictor, pair, convention)
        except PairSkipped as e:
            warn(f"{e}; pair {pair.name} skipped")
            skipped.append({"name": pair.name, "reason": str(e)})
            grid.skipped(i)
            continue
        done.append(result)
        grid.evaluated(i, result)
    results = _summary(predictor, pairs, unmatched, done, skipped, convention, checkpoint)
    results.update(rgb_dir=str(rgb_dir), thermal_dir=str(thermal_dir))
    try:
        _write_outputs(results, done, grid.finish(), out)
    except OSError as e:
        raise EvaluationError(f"cannot write the results to {out}: {e.strerror or e}") from e
    if not done:
        raise EvaluationError(
            f"none of the {len(pairs)} pairs in {rgb_dir} could be evaluated "
            f"(reasons above and in {out / 'metrics.json'})"
        )
    return results


def _summary(
    predictor: Any,
    pairs: list[ImagePair],
    unmatched: list[Path],
    done: list[PairResult],
    skipped: list[dict[str, str]],
    convention: FusionConvention,
    checkpoint: str | os.PathLike | None,
) -> dict[str, Any]:
    model_ms = [r.model_ms for r in done if r.model_ms is not None]
    return json_safe(
        {
            "mode": "image pairs (no labels)",
            "n_pairs": len(pairs),
            "n_evaluated": len(done),
            "n_skipped": len(skipped),
            "n_unmatched": len(unmatched),
            "means": comparison_means([r.scores for r in done]),
            "images": [r.pair.name for r in done],
            "skipped": skipped,
            "unmatched": [str(p) for p in unmatched],
            "checkpoint": checkpoint_info(predictor, checkpoint),
            "device": str(getattr(predictor, "device", "")) or None,
            "timing_ms": timing_summary(model_ms),
            "conventions": conventions(convention),
        }
    )
