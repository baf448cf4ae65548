"""A recording → a training set: ``sccosf extract`` (the generic folder layout, ``folder_layout``).

The pairs are the ones the live node forms and feeds its model (``pair_stream.PairStream``, as
``sccosf bag-eval`` reads a bag: admit, approximate-time pairing, damaged bags read as far as
they go), prepared by ``PairProcessor.prepare``: decoded (Image or CompressedImage), thermal
cropped (``thermal.crop``), NaN policy applied and warped onto the RGB image
(``registration.homography``). Each kept pair is written as

* ``rgb/NAME.png`` (8-bit RGB) and ``thermal/NAME.png`` at the RGB geometry with the raw values
  the node normalises (16-bit for 16-bit sources, 8-bit for mono8, float as 16-bit with the
  code of ``ThermalPng``), NAME = ``<6-digit index>_<RGB header stamp in ns>``;
* ``labels/NAME.png`` from the label topic (matched to the RGB stamp within a tolerance).

Thinning: at most one pair per ``every_s`` seconds of RGB stamps is considered. A considered
pair whose downscaled grey RGB and normalised thermal differ from the last kept pair's by less
than ``duplicate_threshold`` (mean absolute difference, 0..1) is a near-duplicate (a robot
standing still) and skipped; the next one is considered ``every_s`` later.

Splits: the kept frames, in time order, are cut into blocks of ``block`` consecutive frames;
each whole block goes to the split furthest below its share (``split`` fractions of train, val,
test), so the splits interleave over the recording. Where two neighbouring blocks go to
different splits, the first frame of the second block is left out of every split (a guard), so
no two adjacent frames are ever on both sides of a split.

Also written: ``classes.yaml``, ``dataset.yaml`` (source, topics, parameter files, the node's
thermal normalisation, counts) and ``contact_sheet.png`` (read back through ``FolderDataset``).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from sccosf_ros.bag.bag_io import BagError, BagReader, BagReadError
from sccosf_ros.bag.contact_sheet import contact_sheet, save_png, thermal_preview
from sccosf_ros.bag.label_matcher import LabelMatcher, decode_label
from sccosf_ros.bag.pair_stream import BagTopics, Label, Pair, PairStream, open_bag
from sccosf_ros.class_set import ClassSet, write_class_set
from sccosf_ros.classes import colorize
from sccosf_ros.data.folder_layout import (
    CONTACT_SHEET,
    FORMAT,
    LABEL_DIR,
    RGB_DIR,
    THERMAL_DIR,
    ThermalPng,
    write_dataset_yaml,
    write_split,
)
from sccosf_ros.pipeline.pairing import stamp_to_ns
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.processor import PairProcessor
from sccosf_ros.thermal import ThermalNorm

SPLITS = ("train", "val", "test")
# mean |difference| (0..1) below which a frame is a near-duplicate: sensor noise averages out
# in the 64-px signature (~0.001); frames 0.5 s apart of a slowly moving synthetic drive differ
# by 0.002-0.024 (median 0.007), its nearly still end by 0.0017-0.0023
DEFAULT_THRESHOLD = 0.004
SIGNATURE_WIDTH = 64  # px: the downscaled frames the duplicate check compares
# the automatic block size cuts the recording into about this many blocks (each change of split
# costs a guard frame: more blocks spread the splits wider over the recording but lose more)
BLOCKS_WANTED = 10
MIN_BLOCK = 3


class ExtractError(BagError):
    """``sccosf extract`` cannot run with these settings or this output folder."""


@dataclass
class ExtractConfig:
    bag: Path
    rgb_topic: str
    thermal_topic: str
    out: Path
    params: NodeParams = field(default_factory=NodeParams.defaults)  # the node's parameters
    params_files: tuple[Path, ...] = ()  # where they came from (recorded in dataset.yaml)
    label_topic: str | None = None
    classes: ClassSet = field(default_factory=lambda: ClassSet.of_dataset("mfnet"))
    classes_file: Path | None = None
    every_s: float = 1.0
    duplicate_threshold: float = DEFAULT_THRESHOLD
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    block: int = 0  # frames per split block; 0 = automatic (block_size)
    label_tolerance: float = 0.005  # s between a label stamp and its RGB stamp
    sheet_rows: int = 6
    progress: bool = True
    warn: Callable[[str], None] | None = None  # damaged-bag notes etc. (default: stderr)


def check_config(cfg: ExtractConfig) -> None:
    """``ExtractError`` naming the option for values extraction cannot run with."""
    if not cfg.every_s >= 0 or math.isinf(cfg.every_s):
        raise ExtractError(f"--every must be >= 0 seconds, got {cfg.every_s}")
    if not 0 <= cfg.duplicate_threshold < 1:
        raise ExtractError(
            f"--duplicate-threshold must be in [0, 1) (0 keeps every frame), got "
            f"{cfg.duplicate_threshold}"
        )
    fr = cfg.split
    if len(fr) != 3 or min(fr) < 0 or not math.isclose(sum(fr), 1.0, abs_tol=1e-6) or fr[0] == 0:
        raise ExtractError(
            f"--split needs three fractions (train val test) >= 0 summing to 1 with train > 0, "
            f"got {' '.join(f'{v:g}' for v in fr)}"
        )
    if cfg.block < 0:
        raise ExtractError(f"--block must be >= 1 frames (0: automatic), got {cfg.block}")
    if not cfg.label_tolerance >= 0:
        raise ExtractError(f"--label-tolerance must be >= 0 s, got {cfg.label_tolerance}")
    if cfg.sheet_rows < 1:
        raise ExtractError(f"--sheet-rows must be >= 1, got {cfg.sheet_rows}")


def check_out(out: Path) -> None:
    """The output folder must be new or empty (a dataset is never mixed with another)."""
    if out.exists() and not out.is_dir():
        raise ExtractError(f"output {str(out)!r} is a file: --out must be a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        raise ExtractError(
            f"output folder {str(out)!r} is not empty: choose a new --out or empty it first"
        )


def node_thermal_norm(params: NodeParams, warn: Callable[[str], None]) -> ThermalNorm | None:
    """What the node normalises thermal with under ``params`` (the checkpoint's normalisation
    with ``thermal.normalization = checkpoint``, read from the checkpoint file without building
    the model); None (warned) when that checkpoint cannot be read."""
    from sccosf_ros.inference.checkpoint import CheckpointError, load_checkpoint

    checkpoint = None
    if params.thermal_normalization == "checkpoint":
        try:
            ckpt = load_checkpoint(params.checkpoint_path())
            checkpoint = ThermalNorm.from_dict(ckpt.get("thermal_norm"))
        except (CheckpointError, OSError, TypeError, ValueError) as e:
            warn(
                f"thermal.normalization = checkpoint, but the checkpoint cannot be read ({e}): "
                "dataset.yaml records no thermal normalisation; set thermal.normalization in "
                "the parameter file to record the node's"
            )
            return None
    return params.thermal_norm(checkpoint) or checkpoint


def signature(rgb: np.ndarray, thermal01: np.ndarray) -> np.ndarray:
    """Two stacked downscaled frames (grey RGB, normalised thermal), float32 in [0, 1]."""
    h, w = rgb.shape[:2]
    size = (SIGNATURE_WIDTH, max(1, round(h * SIGNATURE_WIDTH / w)))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    small = [cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (grey, thermal01)]
    return np.stack(small)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """How different two signatures are: the larger mean |difference| of the two views."""
    return float(np.abs(a - b).mean(axis=(1, 2)).max())


def block_size(n: int, block: int) -> int:
    """Frames per split block: ``block``, or about ``n / BLOCKS_WANTED`` (at least MIN_BLOCK)."""
    return block if block > 0 else max(MIN_BLOCK, math.ceil(n / BLOCKS_WANTED))


def assign_splits(
    names: list[str], fractions: tuple[float, float, float], block: int
) -> tuple[dict[str, list[str]], list[str]]:
    """Time-ordered ``names`` → ({split: names}, guard frames left out of every split).

    Whole blocks of ``block`` consecutive frames go, one after the other, to the split furthest
    below its share of the blocks assigned so far (ties: train, val, test; a short last block
    joins the one before it); the first frame of
    a block whose split differs from the previous block's is a guard, so adjacent frames never
    sit in two splits."""
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    blocks = dict.fromkeys(SPLITS, 0)
    guards: list[str] = []
    previous = None
    chunks = [names[i : i + block] for i in range(0, len(names), block)]
    if len(chunks) > 1 and len(chunks[-1]) < block:  # a short tail joins the block before it
        chunks[-2:] = [chunks[-2] + chunks[-1]]
    for k, chunk in enumerate(chunks, start=1):
        deficit = [fractions[i] * k - blocks[s] for i, s in enumerate(SPLITS)]
        split = SPLITS[int(np.argmax(deficit))]
        blocks[split] += 1
        if previous is not None and split != previous:
            guards.append(chunk[0])
            chunk = chunk[1:]
        out[split] += chunk
        previous = split
    return out, guards


def _write_png(path: Path, img: np.ndarray) -> None:
    if not cv2.imwrite(str(path), img):
        raise ExtractError(f"could not write {str(path)!r} (disk full or folder not writable?)")


@dataclass
class Counts:
    """What happened to the pairs and messages of the bag."""

    pairs: int = 0  # pairs the node would have formed
    kept: int = 0
    thinned: int = 0  # within --every of the previous considered pair
    duplicates: int = 0  # near-duplicates of the last kept pair
    rejected: int = 0  # pairs the pipeline rejected (size mismatch, NaN policy, decode)
    labels: int = 0  # label images written
    bad_labels: int = 0  # label messages undecodable or of another size than the RGB image
    clipped_thermal: int = 0  # float thermal values outside the 16-bit code (clipped)


class Extraction:
    """The read → pair → thin → write loop over one bag (see the module docstring)."""

    def __init__(self, cfg: ExtractConfig, reader: BagReader, topics: BagTopics) -> None:
        self.cfg, self.reader, self.topics = cfg, reader, topics
        self.warn = cfg.warn or _stderr_warn
        self.reasons: list[str] = []
        self.norm = node_thermal_norm(cfg.params, self.warn)
        self.processor = PairProcessor(
            cfg.params, None, warn=self._note, checkpoint_norm=self.norm
        )
        self.stream = PairStream(reader, self.processor, topics, self._note)
        self.matcher = LabelMatcher(round(cfg.label_tolerance * 1e9))
        self.counts = Counts()
        self.names: list[str] = []  # kept frames, in the order written
        self.shapes: dict[str, tuple[int, int]] = {}  # name → (H, W) of the kept frames
        self.thermal_png: ThermalPng | None = None
        self.thermal_dtype: str | None = None
        self.error: str | None = None
        self._last_considered: int | None = None
        self._last_sig: np.ndarray | None = None
        self._preview_norm = self.norm or ThermalNorm()
        out = Path(cfg.out)
        for sub in (RGB_DIR, THERMAL_DIR) + ((LABEL_DIR,) if topics.label else ()):
            (out / sub).mkdir(parents=True, exist_ok=True)

    def run(self) -> None:
        bar = tqdm(
            total=self.stream.expected_pairs() or None,
            desc="extract",
            unit="pair",
            disable=not self.cfg.progress,
        )
        try:
            for event in self.stream.events():
                if isinstance(event, Label):
                    self._on_label(event.msg)
                    continue
                self._on_pair(event)
                bar.update(1)
                bar.set_postfix(kept=self.counts.kept, refresh=False)
        except BagReadError as e:  # stop here; everything so far is written
            self.error = str(e)
        except KeyboardInterrupt:
            self.error = "interrupted (Ctrl-C)"
        finally:
            bar.close()

    def _due(self, stamp: int) -> bool:
        """At most one considered pair per ``every_s`` (a stamp jump back starts over)."""
        last = self._last_considered
        if last is not None and last <= stamp < last + round(self.cfg.every_s * 1e9):
            return False
        self._last_considered = stamp
        return True

    def _on_pair(self, pair: Pair) -> None:
        self.counts.pairs += 1
        stamp = stamp_to_ns(pair.rgb.header.stamp)
        if not self._due(stamp):
            self.counts.thinned += 1
            return
        inputs = self.processor.prepare(pair.rgb, pair.thermal)
        if inputs is None:
            self.counts.rejected += 1
            return
        rgb, thermal = inputs
        sig = signature(rgb, self._preview_norm(thermal))
        last = self._last_sig
        if last is not None and difference(sig, last) < self.cfg.duplicate_threshold:
            self.counts.duplicates += 1
            return
        self._last_sig = sig
        self._write_pair(f"{len(self.names):06d}_{stamp}", rgb, thermal)
        if self.topics.label:
            self.matcher.add_pred(stamp, self.names[-1])
            self._write_labels()

    def _write_pair(self, name: str, rgb: np.ndarray, thermal: np.ndarray) -> None:
        out = Path(self.cfg.out)
        if self.thermal_png is None:
            self.thermal_png = ThermalPng.for_frame(thermal)
            self.thermal_dtype = str(thermal.dtype)
        png, clipped = self.thermal_png.encode(thermal)
        self.counts.clipped_thermal += clipped
        _write_png(out / RGB_DIR / f"{name}.png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        _write_png(out / THERMAL_DIR / f"{name}.png", png)
        self.names.append(name)
        self.shapes[name] = rgb.shape[:2]
        self.counts.kept += 1

    def _on_label(self, msg: Any) -> None:
        try:
            label = decode_label(msg)
        except ValueError as e:  # ImageDecodeError included
            self.counts.bad_labels += 1
            self._note("label", f"{self.topics.label}: {e}")
            return
        self.matcher.add_label(stamp_to_ns(msg.header.stamp), label)
        self._write_labels()

    def _write_labels(self) -> None:
        for _, name, label in self.matcher.take():
            rgb_shape = self.shapes[name]
            if label.shape != rgb_shape:
                self.counts.bad_labels += 1
                self._note(
                    "label",
                    f"{self.topics.label}: label {label.shape[1]}x{label.shape[0]} for RGB "
                    f"{rgb_shape[1]}x{rgb_shape[0]} ({name}): not written",
                )
                continue
            _write_png(Path(self.cfg.out) / LABEL_DIR / f"{name}.png", label)
            self.counts.labels += 1

    def _note(self, kind: str, message: str) -> None:
        """Rejected messages and pairs (the processor's and ours), kept for dataset.yaml."""
        if kind not in ("thermal_nan", "thermal_ffc") and len(self.reasons) < 20:
            self.reasons.append(message[:200])

    def malformed(self) -> int:
        """Image messages that were undecodable or rejected as malformed."""
        c = self.processor.stats.snapshot().counters
        undecodable = sum(self.stream.undecodable[t] for t in self.topics[:2])
        return undecodable + c["malformed_rgb"] + c["malformed_thermal"]


def _stderr_warn(message: str) -> None:
    print(f"extract: warning: {message}", file=sys.stderr)


def _no_frames(run: Extraction) -> str:
    """Why nothing was written: no pair formed (each topic's count and stamps), or why every
    pair was left out."""
    if run.error is not None:
        return f"{run.error}; no frame was extracted before it"
    if run.counts.pairs:
        reasons = "; ".join(run.reasons[:3]) or "see the parameters"
        return f"all {run.counts.pairs} pairs were rejected by the pipeline: {reasons}"
    parts = []
    for what, topic in (("RGB", run.topics.rgb), ("thermal", run.topics.thermal)):
        n, rng = run.stream.received[topic], run.stream.stamps[topic]
        span = f", stamps {rng[0] / 1e9:.3f} .. {rng[1] / 1e9:.3f} s" if rng else ""
        parts.append(f"{what} {topic}: {n} messages{span}")
    return (
        "no RGB/thermal pair formed (" + "; ".join(parts) + "): both topics need well-formed "
        f"messages whose stamps lie within sync.slop = {run.processor.params.sync_slop} s"
    )


def _remove_empty(out: Path, keep_root: bool) -> None:
    """Remove the (empty) folders a run that extracted nothing created."""
    for sub in (RGB_DIR, THERMAL_DIR, LABEL_DIR) + (() if keep_root else ("",)):
        folder = out / sub
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _write_sheet(cfg: ExtractConfig, names: list[str], split_of: dict[str, str]) -> str | None:
    """The contact sheet of evenly spaced kept frames, read back as training will read them."""
    from sccosf_ros.data.folder_dataset import FolderDataset

    if not names:
        return None
    n, rows_wanted = len(names), min(cfg.sheet_rows, len(names))
    picks = [names[round(i * (n - 1) / max(1, rows_wanted - 1))] for i in range(rows_wanted)]
    ds = FolderDataset(cfg.out, "contact sheet", names=list(dict.fromkeys(picks)))
    rows = []
    for i in range(len(ds)):
        s = ds.load_raw(i)
        row = [s.rgb, thermal_preview(ds.thermal_norm(s.thermal))]
        rows.append(row + ([colorize(s.label, ds.palette)] if cfg.label_topic else []))
    columns = ["RGB", "thermal (model input)"] + (["labels"] if cfg.label_topic else [])
    titles = [f"{n}  ({split_of.get(n, 'guard: no split')})" for n in ds.names]
    path = save_png(Path(cfg.out) / CONTACT_SHEET, contact_sheet(rows, columns, titles))
    return str(path)


def _dataset_yaml(cfg: ExtractConfig, run: Extraction, reader: BagReader) -> dict[str, Any]:
    p = cfg.params
    return {
        "format": FORMAT,
        "source": {
            "bag": str(Path(cfg.bag).resolve()),
            "storage": reader.storage,
            "complete": run.error is None and not reader.damaged_chunks,
            "error": run.error or reader.damage_summary(),
            "warnings": list(reader.notes),
        },
        "topics": run.topics._asdict(),
        "params_files": [str(Path(f).resolve()) for f in cfg.params_files],
        "classes_file": str(Path(cfg.classes_file).resolve()) if cfg.classes_file else None,
        # what the node fed its model: training normalises the thermal PNGs with this
        "thermal_norm": None if run.norm is None else run.norm.to_dict(),
        "thermal_dtype": run.thermal_dtype,  # of the values the node saw
        "thermal_png": (run.thermal_png or ThermalPng()).to_dict(),
        "pipeline": {
            "registration.homography": None if p.homography is None else list(p.homography),
            "thermal.crop": list(p.thermal_crop_px),
            "thermal.nan_policy": p.thermal_nan_policy,
            "sync.slop": p.sync_slop,
            "sync.queue_size": p.sync_queue_size,
        },
        "selection": {
            "every_s": cfg.every_s,
            "duplicate_threshold": cfg.duplicate_threshold,
            "label_tolerance_s": cfg.label_tolerance,
        },
        "counts": {
            **vars(run.counts),
            "malformed_messages": run.malformed(),
            "messages_lost": sum(c.messages_lost for c in reader.damaged_chunks),
        },
        "rejections": run.reasons,
    }


def extract(cfg: ExtractConfig) -> dict[str, Any]:
    """Write the dataset described in the module docstring; returns a summary dict.

    Bad input (options, output folder, bag, topics) raises a one-line ``BagError`` before
    anything is written. A bag whose reading fails part-way keeps what was written: the
    summary says ``"complete": false`` and why."""
    check_config(cfg)
    out = Path(cfg.out)
    check_out(out)
    existed = out.is_dir()
    warn = cfg.warn or _stderr_warn
    t0 = time.perf_counter()
    topics = BagTopics(cfg.rgb_topic, cfg.thermal_topic, cfg.label_topic)
    reader, topics = open_bag(cfg.bag, topics)
    reader.on_damage = warn  # each chunk skipped for a CRC mismatch, as the read passes it
    for note in reader.notes:
        warn(note)
    try:
        run = Extraction(cfg, reader, topics)
        run.run()
        if run.counts.kept == 0:
            _remove_empty(out, keep_root=existed)  # nothing worth keeping: rerun in the same place
            raise ExtractError(_no_frames(run))
        if run.counts.clipped_thermal:
            warn(
                f"{run.counts.clipped_thermal} float thermal values lay outside what a 16-bit "
                "PNG holds in 0.01 steps and were clipped"
            )
        meta = _dataset_yaml(cfg, run, reader)
    finally:
        reader.close()
    block = block_size(len(run.names), cfg.block)
    splits, guards = assign_splits(run.names, cfg.split, block)
    for split, names in splits.items():
        write_split(out, split, names)
    meta["splits"] = {
        "fractions": dict(zip(SPLITS, cfg.split, strict=True)),
        "block": block,
        "frames": {s: len(n) for s, n in splits.items()},
        "guard_frames": guards,
    }
    write_class_set(cfg.classes, out)
    write_dataset_yaml(out, meta)
    sheet = _write_sheet(cfg, run.names, {n: k for k, ns in splits.items() for n in ns})
    return {
        "out": str(out),
        "complete": meta["source"]["complete"],
        "error": meta["source"]["error"],
        "counts": meta["counts"],
        "splits": meta["splits"]["frames"],
        "guard_frames": len(guards),
        "contact_sheet": sheet,
        "elapsed_s": time.perf_counter() - t0,
    }
