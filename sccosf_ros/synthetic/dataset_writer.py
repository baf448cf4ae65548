"""Writing synthetic scenes as a dataset in the real MFNet or FMB on-disk layout.

mfnet: ``images/<name>.png`` (4 channels R,G,B,thermal — stored as cv2's B,G,R,A),
``labels/<name>.png``, ``train/val/test.txt`` (50/25/25) and ``test_day/test_night.txt``;
names ``00001D`` / ``00002N``. fmb: ``{train,test}/{Visible,Infrared,Label}/<name>.png``
(80/20). Both get ``METADATA_FILE`` (layout, seed, sizes, THERMAL_COUNTS, night flags), which
also marks the folder as ours: only such a folder is ever overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from sccosf_ros.classes import DATASET_CLASSES
from sccosf_ros.data.synth_metadata import METADATA_FILE
from sccosf_ros.synthetic.errors import DatasetExistsError, SyntheticWriteError
from sccosf_ros.synthetic.render import Scene, render_scene
from sccosf_ros.synthetic.scene import scene_seed
from sccosf_ros.synthetic.settings import (
    TEMPERATURE_RANGE_C,
    THERMAL_COUNTS,
    DatasetSettings,
)
from sccosf_ros.synthetic.style import style_to_dict

# Split shares of each layout, first split first (the real releases' proportions).
SPLITS = {
    "mfnet": (("train", 0.5), ("val", 0.25), ("test", 0.25)),
    "fmb": (("train", 0.8), ("test", 0.2)),
}
_OUTPUT_DIRS = ("images", "labels", "train", "test")
_OUTPUT_FILES = (
    "train.txt",
    "val.txt",
    "test.txt",
    "test_day.txt",
    "test_night.txt",
    "preview.png",
    METADATA_FILE,
)


def imwrite(path: Path, img: np.ndarray) -> None:
    """``cv2.imwrite`` that raises instead of returning False."""
    if not cv2.imwrite(str(path), img):
        raise SyntheticWriteError(f"could not write {path}")


def _split_counts(n: int, fractions: tuple[float, ...]) -> list[int]:
    """Images per split; every split but the first gets at least one, the first the rest."""
    counts = [max(1, round(n * f)) for f in fractions[1:]]
    return [n - sum(counts), *counts]


def _prepare_output(root: Path, overwrite: bool) -> None:
    """Make ``root`` ready: new or empty, or an earlier output of ours when ``overwrite``."""
    if root.exists() and not root.is_dir():
        raise DatasetExistsError(f"{root} exists and is not a folder")
    if root.is_dir() and any(root.iterdir()):
        if not (root / METADATA_FILE).is_file():
            raise DatasetExistsError(
                f"{root} is not empty and was not written by `sccosf synth` (no {METADATA_FILE});"
                " refusing to write into it: choose a new folder"
            )
        if not overwrite:
            raise DatasetExistsError(
                f"{root} already holds a synthetic dataset; pass overwrite=True (sccosf synth "
                "--overwrite) to replace it, or choose a new folder"
            )
        for d in _OUTPUT_DIRS:  # only what an earlier write_dataset made
            if (root / d).is_dir():
                shutil.rmtree(root / d)
        for f in _OUTPUT_FILES:
            (root / f).unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)


def _draw_assignment(s: DatasetSettings) -> tuple[np.ndarray, dict[int, str]]:
    """Which images are night scenes and which split each image goes to (from the seed)."""
    rng = np.random.default_rng([int(s.seed), 7])
    night_flags = np.zeros(s.n, bool)
    night_flags[rng.permutation(s.n)[: round(s.n * s.night_fraction)]] = True
    order = rng.permutation(s.n)
    names, fractions = zip(*SPLITS[s.layout], strict=True)
    # the k-th image of the permutation goes to the split whose share k falls in
    slots = [
        name
        for name, c in zip(names, _split_counts(s.n, fractions), strict=True)
        for _ in range(c)
    ]
    return night_flags, {int(i): slots[k] for k, i in enumerate(order)}


def _write_image(root: Path, layout: str, split: str, index: int, scene: Scene) -> str:
    """Write one scene's files; returns its name."""
    bgr = scene.rgb[..., ::-1]
    if layout == "mfnet":
        name = f"{index + 1:05d}{'N' if scene.night else 'D'}"
        imwrite(root / "images" / f"{name}.png", np.dstack([bgr, scene.thermal8]))
        imwrite(root / "labels" / f"{name}.png", scene.label)
        return name
    name = f"{index + 1:05d}"
    for sub in ("Visible", "Infrared", "Label"):
        (root / split / sub).mkdir(parents=True, exist_ok=True)
    imwrite(root / split / "Visible" / f"{name}.png", np.ascontiguousarray(bgr))
    imwrite(root / split / "Infrared" / f"{name}.png", scene.thermal8)
    imwrite(root / split / "Label" / f"{name}.png", scene.label)
    return name


def _write_lists(root: Path, splits: dict[str, list[str]], night_of: dict[str, bool]) -> None:
    """MFNet's split files, the test split also by day and by night."""
    for split in ("train", "val", "test"):
        (root / f"{split}.txt").write_text("".join(f"{s}\n" for s in splits.get(split, [])))
    test = splits.get("test", [])
    (root / "test_day.txt").write_text("".join(f"{s}\n" for s in test if not night_of[s]))
    (root / "test_night.txt").write_text("".join(f"{s}\n" for s in test if night_of[s]))


def _metadata(
    s: DatasetSettings, splits: dict[str, list[str]], night_of: dict[str, bool]
) -> dict[str, Any]:
    return {
        "format": "sccosf_synth",
        "version": 1,
        "layout": s.layout,
        "seed": int(s.seed),
        "n": s.n,
        "height": s.height,
        "width": s.width,
        "night_fraction": s.night_fraction,
        "style": style_to_dict(s.style),
        "thermal_counts": list(THERMAL_COUNTS),
        "temperature_range_c": list(TEMPERATURE_RANGE_C),
        "class_names": list(DATASET_CLASSES[s.layout][0]),
        "splits": {k: len(v) for k, v in sorted(splits.items())},
        "night": night_of,
    }


def write_dataset(
    out: str | os.PathLike,
    settings: DatasetSettings | None = None,
    *,
    progress: bool = True,
    overwrite: bool = False,
    **overrides: Any,
) -> Path:
    """Write ``settings.n`` scenes in the real on-disk layout of ``settings.layout``; returns
    the root. Keyword ``overrides`` replace fields of ``settings`` (default ``DatasetSettings()``),
    e.g. ``write_dataset(out, layout="fmb", n=8)``.

    ``out`` must be empty or new; ``overwrite=True`` replaces an earlier ``sccosf synth`` output
    there (never a folder without ``METADATA_FILE``, which may hold a real dataset).
    """
    s = _with_overrides(settings or DatasetSettings(), overrides)
    root = Path(out)
    _prepare_output(root, overwrite)
    night_flags, split_of = _draw_assignment(s)
    if s.layout == "mfnet":
        (root / "images").mkdir(exist_ok=True)
        (root / "labels").mkdir(exist_ok=True)
    night_of: dict[str, bool] = {}
    splits: dict[str, list[str]] = {}
    for i in tqdm(range(s.n), desc=f"synth {s.layout}", unit="img", disable=not progress):
        scene = render_scene(
            scene_seed(s.seed, i),
            s.height,
            s.width,
            s.layout,
            night=bool(night_flags[i]),
            style=s.style,
        )
        name = _write_image(root, s.layout, split_of[i], i, scene)
        night_of[name] = scene.night
        splits.setdefault(split_of[i], []).append(name)
    splits = {k: sorted(v) for k, v in splits.items()}
    if s.layout == "mfnet":
        _write_lists(root, splits, night_of)
    meta = _metadata(s, splits, night_of)
    (root / METADATA_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    return root


def _with_overrides(settings: DatasetSettings, overrides: dict[str, Any]) -> DatasetSettings:
    unknown = sorted(set(overrides) - {f.name for f in fields(DatasetSettings)})
    if unknown:
        raise TypeError(f"unknown synthetic dataset option(s) {unknown}")
    return replace(settings, **overrides)
