"""Offline evaluation of a checkpoint on a rosbag2: ``sccosf bag-eval``.

Reads RGB and thermal ``sensor_msgs/Image`` topics (sqlite3 or MCAP), pairs them by header stamp
with ``ros.sync.ApproxTimePairer`` (the node's approximate-time logic, same default slop and queue
size as ``config/sccosf.yaml``), runs the ``Predictor`` on every pair, and writes under the output
folder:

* ``<bag name>_sccosf/``: a rosbag2 in the input's storage with ``<ns>/fused`` (rgb8),
  ``<ns>/segmentation`` (mono8 ids), ``<ns>/segmentation_color`` and ``<ns>/overlay`` (rgb8), each
  message carrying the RGB message's header and logged at the RGB message's log time;
* ``metrics.json``: pairs, unmatched and malformed messages per topic, throughput, latency,
  EN/SD of the fused images (plus all fusion metrics on the sampled frames), and with a label
  topic the mIoU and per-class IoU (labels matched to the RGB stamps);
* ``contact_sheet.png``: sampled frames, RGB | thermal | fused | segmentation (| ground truth).

Corrupt messages (undecodable CDR, bad sizes, unknown encodings) are counted and skipped.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from sccosf_ros.bag.bag_io import IMAGE, BagError, BagReader, BagWriter
from sccosf_ros.bag.contact_sheet import contact_sheet, save_png, thermal_preview
from sccosf_ros.classes import IGNORE_INDEX, colorize, overlay
from sccosf_ros.ros.image_codec import (
    ImageDecodeError,
    decode_image,
    decode_rgb,
    decode_thermal,
    encode_image,
)
from sccosf_ros.ros.sync import ApproxTimePairer, stamp_to_ns
from sccosf_ros.thermal import ThermalNorm
from sccosf_ros.training.fusion_metrics import (
    entropy,
    fusion_metrics,
    standard_deviation,
    to_gray,
)
from sccosf_ros.training.metrics import ConfusionMatrix

OUTPUTS = ("fused", "segmentation", "segmentation_color", "overlay")
LABEL_WINDOW_NS = 10 * 1_000_000_000  # unmatched labels/predictions older than this are dropped


def node_sync_defaults() -> tuple[float, int]:
    """``sync.slop`` and ``sync.queue_size`` defaults of sccosf_node (config/sccosf.yaml)."""
    from sccosf_ros.ros.params import NodeParams

    p = NodeParams.defaults()
    return p.sync_slop, p.sync_queue_size


@dataclass
class BagEvalConfig:
    bag: Path
    checkpoint: Path
    rgb_topic: str
    thermal_topic: str
    out: Path
    label_topic: str | None = None
    device: str = "auto"
    threads: int = 0  # torch CPU threads; 0 = leave torch's setting
    slop: float | None = None  # s; None = the node's default
    queue_size: int | None = None  # None = the node's default
    input_size: tuple[int, int] | None = None
    max_pairs: int | None = None
    namespace: str = "/sccosf"
    thermal_norm: ThermalNorm | None = None  # None = the checkpoint's
    label_tolerance: float = 0.005  # s between a label stamp and its RGB stamp
    overlay_alpha: float = 0.5
    sheet_rows: int = 6
    write_bag: bool = True
    overwrite: bool = False
    progress: bool = True


@dataclass
class _Sample:
    """One pair kept for the contact sheet (pictures are drawn only for the chosen ones)."""

    stamp: int
    rgb: np.ndarray
    thermal: np.ndarray  # raw, as decoded
    fused: np.ndarray
    labels: np.ndarray
    gt: np.ndarray | None = None


@dataclass
class _LabelMatcher:
    """Joins predictions and ground-truth labels by stamp, whichever arrives first."""

    tolerance_ns: int
    labels: dict[int, np.ndarray] = field(default_factory=dict)
    preds: dict[int, np.ndarray] = field(default_factory=dict)
    matched: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)
    dropped_labels: int = 0

    @staticmethod
    def _nearest(table: dict[int, np.ndarray], stamp: int, tol: int) -> int | None:
        best = None
        for k in table:
            d = abs(k - stamp)
            if d <= tol and (best is None or d < abs(best - stamp)):
                best = k
        return best

    def add_label(self, stamp: int, label: np.ndarray) -> None:
        k = self._nearest(self.preds, stamp, self.tolerance_ns)
        if k is None:
            self.labels[stamp] = label
        else:
            self.matched.append((k, self.preds.pop(k), label))
        self._prune(stamp)

    def add_pred(self, stamp: int, pred: np.ndarray) -> None:
        k = self._nearest(self.labels, stamp, self.tolerance_ns)
        if k is None:
            self.preds[stamp] = pred
        else:
            self.matched.append((stamp, pred, self.labels.pop(k)))
        self._prune(stamp)

    def _prune(self, now: int) -> None:
        old = [k for k in self.labels if k < now - LABEL_WINDOW_NS]
        for k in old:
            del self.labels[k]
        self.dropped_labels += len(old)
        for k in [k for k in self.preds if k < now - LABEL_WINDOW_NS]:
            del self.preds[k]

    def take(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        out, self.matched = self.matched, []
        return out


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": float("nan"), "p50": float("nan"), "p95": float("nan"), "n": 0}
    a = np.asarray(values, np.float64)
    return {"mean": float(a.mean()), "p50": float(np.percentile(a, 50)),
            "p95": float(np.percentile(a, 95)), "n": int(a.size)}


def _json_safe(x: Any) -> Any:
    """NaN → None so metrics.json stays standard JSON."""
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, np.floating | np.integer):
        return _json_safe(x.item())
    return x


def output_topics(namespace: str) -> dict[str, str]:
    ns = "/" + namespace.strip("/") if namespace.strip("/") else ""
    return {name: f"{ns}/{name}" for name in OUTPUTS}


def open_checked(cfg: BagEvalConfig) -> BagReader:
    """Open the bag and check the requested topics exist and carry images (clear errors)."""
    reader = BagReader(cfg.bag).open()
    try:
        reader.require_topic(cfg.rgb_topic, IMAGE, "RGB")
        reader.require_topic(cfg.thermal_topic, IMAGE, "thermal")
        if cfg.label_topic:
            reader.require_topic(cfg.label_topic, IMAGE, "label")
        if len({cfg.rgb_topic, cfg.thermal_topic, cfg.label_topic} - {None}) < (
            3 if cfg.label_topic else 2
        ):
            raise BagError("RGB, thermal and label topics must be different topics")
    except BaseException:
        reader.close()
        raise
    return reader


def evaluate_bag(cfg: BagEvalConfig, predictor: Any = None) -> dict:
    """Run the evaluation described in the module docstring; returns the metrics dict."""
    from sccosf_ros.inference import Predictor  # torch loads only when needed

    default_slop, default_queue = node_sync_defaults()
    slop = float(cfg.slop if cfg.slop is not None else default_slop)
    queue_size = int(cfg.queue_size if cfg.queue_size is not None else default_queue)
    if not slop > 0:
        raise ValueError(f"--slop must be a positive number of seconds, got {slop}")
    if queue_size < 1:
        raise ValueError(f"queue size must be >= 1, got {queue_size}")
    if cfg.max_pairs is not None and cfg.max_pairs < 1:
        raise ValueError(f"--max-pairs must be >= 1, got {cfg.max_pairs}")

    reader = open_checked(cfg)  # bag problems surface before the model loads
    try:
        if cfg.threads > 0:
            import torch

            torch.set_num_threads(cfg.threads)
        if predictor is None:
            kwargs: dict[str, Any] = {"input_size": cfg.input_size}
            if cfg.thermal_norm is not None:
                kwargs["thermal_norm"] = cfg.thermal_norm
            predictor = Predictor.from_checkpoint(cfg.checkpoint, cfg.device, **kwargs)
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        out_bag = out / f"{Path(cfg.bag).name.rsplit('.', 1)[0]}_sccosf"
        if out_bag.exists():
            if not cfg.overwrite:
                raise BagError(f"output bag {str(out_bag)!r} exists already: pass --overwrite "
                               "to replace it, or choose another --out")
            shutil.rmtree(out_bag)
        writer = (
            BagWriter(out_bag, storage=reader.storage, typestore=reader.typestore).open()
            if cfg.write_bag else None
        )
        try:
            metrics = _run(cfg, reader, writer, predictor, slop, queue_size)
        finally:
            if writer is not None:
                writer.close()
        metrics["output_bag"] = str(out_bag) if writer is not None else None
        metrics["output_topics"] = dict(writer.counts) if writer is not None else {}
    finally:
        reader.close()
    metrics_path = out / "metrics.json"
    metrics["metrics_file"] = str(metrics_path)
    metrics_path.write_text(json.dumps(_json_safe(metrics), indent=2) + "\n")
    return metrics


def _run(cfg: BagEvalConfig, reader: BagReader, writer: BagWriter | None, predictor: Any,
         slop: float, queue_size: int) -> dict:
    """The read → pair → predict → write loop, then the metrics and the contact sheet."""
    topics_out = output_topics(cfg.namespace)
    img_cls = reader.typestore.types[IMAGE]
    if writer is not None:
        for t in topics_out.values():
            writer.add_topic(t, IMAGE)
    rgb_t, th_t, lab_t = cfg.rgb_topic, cfg.thermal_topic, cfg.label_topic
    read_topics = [t for t in (rgb_t, th_t, lab_t) if t]
    received = dict.fromkeys(read_topics, 0)
    valid = dict.fromkeys(read_topics, 0)
    malformed = dict.fromkeys(read_topics, 0)
    malformed_reasons: list[str] = []
    size_mismatch = 0
    bad_labels = 0

    pairer = ApproxTimePairer(num_inputs=2, queue_size=queue_size, slop=slop)
    matcher = _LabelMatcher(round(cfg.label_tolerance * 1e9))
    confusion = ConfusionMatrix(predictor.num_classes) if lab_t else None
    labelled_pairs = 0

    expected = min(reader.count([rgb_t]), reader.count([th_t]))
    if cfg.max_pairs:
        expected = min(expected, cfg.max_pairs)
    rows = max(1, cfg.sheet_rows)
    sample_at = set(np.linspace(0, max(expected - 1, 0), rows).round().astype(int).tolist())
    samples: dict[int, _Sample] = {}
    recent: list[_Sample] = []  # the last pairs, in case fewer pairs than expected appear

    en_vals: list[float] = []
    sd_vals: list[float] = []
    lat_total: list[float] = []
    lat_model: list[float] = []
    pairs = 0
    norm = predictor.thermal_norm

    def bad(topic: str, reason: str) -> None:
        malformed[topic] += 1
        if len(malformed_reasons) < 20:
            malformed_reasons.append(f"{topic}: {reason}")

    def handle_pair(rgb_item, th_item) -> None:
        nonlocal pairs, size_mismatch
        log_ns, header, rgb = rgb_item
        _, _, thermal = th_item
        if rgb.shape[:2] != thermal.shape[:2]:
            size_mismatch += 1
            return
        pred = predictor.predict(rgb, thermal)
        lat_total.append(pred.timings_ms.get("total", float("nan")))
        lat_model.append(pred.timings_ms.get("model", float("nan")))
        seg_color = colorize(pred.labels, predictor.palette)
        over = overlay(rgb, pred.labels, predictor.palette, cfg.overlay_alpha)
        if writer is not None:
            for name, arr, enc in (("fused", pred.fused, "rgb8"),
                                   ("segmentation", pred.labels, "mono8"),
                                   ("segmentation_color", seg_color, "rgb8"),
                                   ("overlay", over, "rgb8")):
                writer.write(topics_out[name], log_ns,
                             encode_image(arr, enc, header=header, msg_type=img_cls))
        gray = to_gray(pred.fused)
        en_vals.append(entropy(gray))
        sd_vals.append(standard_deviation(gray))
        stamp = stamp_to_ns(header.stamp)
        if lab_t:
            matcher.add_pred(stamp, pred.labels)
        sample = _Sample(stamp, rgb, thermal, pred.fused, pred.labels)
        if pairs in sample_at:
            samples[pairs] = sample
        recent.append(sample)
        del recent[:-rows]
        pairs += 1

    def take_matches() -> None:
        nonlocal labelled_pairs, bad_labels
        for stamp, pred_labels, gt in matcher.take():
            if gt.shape != pred_labels.shape:
                bad_labels += 1
                continue
            try:
                confusion.update(pred_labels, gt)
            except ValueError as e:
                bad_labels += 1
                if len(malformed_reasons) < 20:
                    malformed_reasons.append(f"{lab_t}: {e}")
                continue
            labelled_pairs += 1
            for s in list(samples.values()) + recent:
                if s.stamp == stamp:
                    s.gt = gt

    bar = tqdm(total=expected or None, desc="bag-eval", unit="pair", disable=not cfg.progress)
    t_start = time.perf_counter()
    try:
        for topic, msgtype, log_ns, raw in reader.messages(read_topics):
            received[topic] += 1
            try:
                msg = reader.deserialize(raw, msgtype)
            except Exception as e:  # corrupt CDR: any failure inside the deserializer
                bad(topic, f"undecodable CDR ({type(e).__name__})")
                continue
            try:
                if topic == rgb_t:
                    arr = decode_rgb(msg)
                elif topic == th_t:
                    arr = decode_thermal(msg)
                else:
                    arr = _decode_label(msg)
            except (ImageDecodeError, ValueError) as e:
                bad(topic, str(e)[:160])
                continue
            valid[topic] += 1
            stamp = stamp_to_ns(msg.header.stamp)
            if topic == lab_t:
                matcher.add_label(stamp, arr)
                take_matches()
                continue
            item = (log_ns, msg.header, arr)
            for pair in pairer.add(0 if topic == rgb_t else 1, stamp, item):
                handle_pair(*_pair_items(pair))
                bar.update(1)
                if lab_t:
                    take_matches()
                if cfg.max_pairs and pairs >= cfg.max_pairs:
                    break
            if cfg.max_pairs and pairs >= cfg.max_pairs:
                break
    finally:
        bar.close()
    elapsed = time.perf_counter() - t_start

    unmatched = {rgb_t: valid[rgb_t] - pairs - size_mismatch,
                 th_t: valid[th_t] - pairs - size_mismatch}
    chosen = [samples[k] for k in sorted(samples)]
    if len(chosen) < min(rows, pairs):
        seen = {s.stamp for s in chosen}
        chosen += [s for s in recent if s.stamp not in seen][: rows - len(chosen)]
        chosen.sort(key=lambda s: s.stamp)

    metrics: dict[str, Any] = {
        "bag": str(cfg.bag),
        "storage": reader.storage,
        "checkpoint": str(cfg.checkpoint),
        "device": str(predictor.device),
        "input_size": list(predictor.input_size) if predictor.input_size else None,
        "thermal_norm": predictor.thermal_norm.to_dict(),
        "topics": {"rgb": rgb_t, "thermal": th_t, "label": lab_t},
        "sync": {"slop": slop, "queue_size": queue_size},
        "messages": received,
        "pairs": pairs,
        "unmatched": unmatched,
        "malformed": malformed,
        "malformed_reasons": malformed_reasons,
        "size_mismatch": size_mismatch,
        "elapsed_s": elapsed,
        "throughput_pairs_per_s": pairs / elapsed if elapsed > 0 else float("nan"),
        "latency_ms": {"total": _stats(lat_total), "model": _stats(lat_model)},
        "fusion": {"EN": _stats(en_vals)["mean"], "SD": _stats(sd_vals)["mean"]},
    }
    if chosen:
        fvals = [fusion_metrics(s.fused, s.rgb, np.round(norm(s.thermal) * 255).astype(np.uint8))
                 for s in chosen]
        metrics["fusion_sampled"] = {
            "n_frames": len(fvals),
            **{k: float(np.nanmean([f[k] for f in fvals])) for k in fvals[0]},
        }
    if lab_t:
        iou = confusion.iou()
        metrics.update({
            "miou": float(confusion.miou()) if labelled_pairs else float("nan"),
            "iou": {name: float(v) for name, v in zip(predictor.class_names, iou, strict=False)},
            "labelled_pairs": labelled_pairs,
        })
        metrics["unmatched"][lab_t] = valid[lab_t] - labelled_pairs - bad_labels
        metrics["bad_labels"] = bad_labels
    if chosen:
        columns = ["RGB", "thermal", "fused", "segmentation"]
        has_gt = lab_t is not None and any(s.gt is not None for s in chosen)
        if has_gt:
            columns.append("ground truth")
        rows_img = []
        for s in chosen:
            tiles = [s.rgb, thermal_preview(norm(s.thermal)), s.fused,
                     colorize(s.labels, predictor.palette)]
            if has_gt:
                gt = s.gt if s.gt is not None else np.full(s.rgb.shape[:2], IGNORE_INDEX,
                                                           np.uint8)
                tiles.append(colorize(gt, predictor.palette))
            rows_img.append(tiles)
        titles = [f"stamp {s.stamp / 1e9:.3f} s" for s in chosen]
        sheet = contact_sheet(rows_img, columns, titles)
        metrics["contact_sheet"] = str(save_png(Path(cfg.out) / "contact_sheet.png", sheet))
    else:
        metrics["contact_sheet"] = None
    return metrics


def _pair_items(pair: Any) -> tuple[Any, Any]:
    """(rgb item, thermal item) from what the pairer emits."""
    return pair[0], pair[1]


def _decode_label(msg: Any) -> np.ndarray:
    arr = decode_image(msg)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2 or arr.dtype != np.uint8:
        raise ValueError(f"label image must be mono8 class ids, got {msg.encoding}")
    return arr


__all__ = ["OUTPUTS", "BagEvalConfig", "evaluate_bag", "output_topics"]
