"""Offline evaluation of a checkpoint on a rosbag2: ``sccosf bag-eval``.

Runs exactly what the live node runs, from the same parameters (``NodeParams``: the node's own
``--params-file`` YAML plus overrides): every RGB and thermal ``sensor_msgs/Image`` or
``sensor_msgs/CompressedImage`` (told apart by the bag's message types; a topic given as
``<base>`` that the bag only has as ``<base>/compressed`` is read from there) of the bag
(sqlite3 or MCAP) goes through ``PairProcessor.admit`` (malformed messages are counted and never
paired), the node's approximate-time pairing (``ApproxTimePairer`` with ``sync.slop``,
``sync.queue_size`` and ``sync.jump_reset``: a bag whose stamps loop pairs the same in every
loop), and ``PairProcessor.process`` (decode, thermal NaN policy, registration,
Predictor, colour). Unlike the live node it never drops a pair: every pair is processed, as fast
as the model goes. Under the output folder it writes

* ``<bag name>_sccosf/``: a rosbag2 in the input's storage with the node's enabled outputs
  (``<ns>/fused``, ``<ns>/segmentation``, ``<ns>/segmentation_color``, ``<ns>/overlay``), each
  carrying the RGB message's header and logged at the RGB message's log time;
* ``metrics.json``: pairs, unmatched and malformed messages per topic, throughput, latency,
  EN/SD of the fused images (plus all fusion metrics on the sampled frames), and with a label
  topic the mIoU and per-class IoU (labels matched to the RGB stamps);
* ``contact_sheet.png``: sampled frames, RGB | thermal | fused | segmentation (| ground truth).

Damaged bags (see ``BagReader``) are read as far as they go, with a warning each. When reading
fails part-way, the run stops there: the output bag is closed (valid, with the pairs so far),
``metrics.json`` says ``"complete": false`` and the error. An output bag whose run did not
finish keeps a ``<name>_sccosf.incomplete`` marker beside it and is replaced by the next run
without ``--overwrite``.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from sccosf_ros.bag.bag_io import (
    COMPRESSED_IMAGE,
    IMAGE,
    BagError,
    BagReader,
    BagReadError,
    BagWriter,
)
from sccosf_ros.jsonio import summarize, write_json
from sccosf_ros.pipeline.image_codec import ImageDecodeError, decode_image
from sccosf_ros.pipeline.outputs import DEFAULT_NAMESPACE, compressed_topics, output_topics
from sccosf_ros.pipeline.pairing import ApproxTimePairer, stamp_to_ns
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.processor import PairOutput, PairProcessor, load_predictor

LABEL_WINDOW_NS = 10 * 1_000_000_000  # unmatched labels/predictions older than this are dropped
MAX_REASONS = 20  # malformed-message reasons kept in metrics.json


@dataclass
class BagEvalConfig:
    bag: Path
    rgb_topic: str
    thermal_topic: str
    out: Path
    params: NodeParams = field(default_factory=NodeParams.defaults)  # the node's parameters
    label_topic: str | None = None
    max_pairs: int | None = None
    namespace: str = DEFAULT_NAMESPACE  # of the output topics in the output bag
    label_tolerance: float = 0.005  # s between a label stamp and its RGB stamp
    sheet_rows: int = 6
    write_bag: bool = True
    overwrite: bool = False
    progress: bool = True
    warn: Callable[[str], None] | None = None  # damaged-bag notes etc. (default: stderr)


@dataclass
class _Sample:
    """One pair kept for the contact sheet (pictures are drawn only for the chosen ones)."""

    stamp: int
    out: PairOutput
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


class _Samples:
    """The contact sheet's pairs: ``rows`` spread over the expected pairs, or the last ones."""

    def __init__(self, expected: int, rows: int) -> None:
        self.rows = max(1, rows)
        self.at = set(np.linspace(0, max(expected - 1, 0), self.rows).round().astype(int).tolist())
        self.chosen: dict[int, _Sample] = {}
        self.recent: list[_Sample] = []  # in case fewer pairs than expected appear

    def add(self, index: int, sample: _Sample) -> None:
        if index in self.at:
            self.chosen[index] = sample
        self.recent.append(sample)
        del self.recent[: -self.rows]

    def label(self, stamp: int, gt: np.ndarray) -> None:
        for s in [*self.chosen.values(), *self.recent]:
            if s.stamp == stamp:
                s.gt = gt

    def final(self, pairs: int) -> list[_Sample]:
        chosen = [self.chosen[k] for k in sorted(self.chosen)]
        if len(chosen) < min(self.rows, pairs):
            seen = {s.stamp for s in chosen}
            chosen += [s for s in self.recent if s.stamp not in seen][: self.rows - len(chosen)]
            chosen.sort(key=lambda s: s.stamp)
        return chosen


def open_checked(cfg: BagEvalConfig) -> tuple[BagReader, BagEvalConfig]:
    """Open the bag and check the requested topics exist and carry images (clear errors).

    Returns the reader and ``cfg`` with the topics as found: an RGB/thermal topic the bag only
    holds as image_transport's ``<topic>/compressed`` is read from there.
    """
    topics = [cfg.rgb_topic, cfg.thermal_topic] + ([cfg.label_topic] if cfg.label_topic else [])
    if len(set(topics)) < len(topics):
        raise BagError("RGB, thermal and label topics must be different topics")
    reader = BagReader(cfg.bag).open()
    try:
        found = {
            "rgb_topic": reader.image_topic(cfg.rgb_topic, "RGB"),
            "thermal_topic": reader.image_topic(cfg.thermal_topic, "thermal"),
        }
        if cfg.label_topic:
            reader.require_topic(cfg.label_topic, IMAGE, "label")
    except BaseException:
        reader.close()
        raise
    return reader, replace(cfg, **found)


def incomplete_marker(out_bag: Path) -> Path:
    """The file that marks ``out_bag`` as left by a run that did not finish."""
    return out_bag.with_name(out_bag.name + ".incomplete")


def _prepare_output(cfg: BagEvalConfig, out_bag: Path, warn: Callable[[str], None]) -> None:
    """Clear the way for a new output bag (never silently replacing a finished one); with
    ``write_bag`` off an existing output bag is left alone."""
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    if not cfg.write_bag:
        return
    marker = incomplete_marker(out_bag)
    if out_bag.exists():
        if marker.exists():
            warn(f"replacing {str(out_bag)!r}, left incomplete by an earlier run")
        elif not cfg.overwrite:
            raise BagError(
                f"output bag {str(out_bag)!r} exists already: pass --overwrite "
                "to replace it, or choose another --out"
            )
        shutil.rmtree(out_bag)
    marker.write_text("this output bag is from a run of sccosf bag-eval that did not finish\n")


def _stderr_warn(message: str) -> None:
    print(f"bag-eval: warning: {message}", file=sys.stderr)


def output_bag_path(cfg: BagEvalConfig) -> Path:
    return Path(cfg.out) / f"{Path(cfg.bag).name.rsplit('.', 1)[0]}_sccosf"


def _check_config(cfg: BagEvalConfig) -> None:
    """ValueError naming the option for values bag-eval cannot run with."""
    if cfg.max_pairs is not None and cfg.max_pairs < 1:
        raise ValueError(f"--max-pairs must be >= 1, got {cfg.max_pairs}")
    if not cfg.label_tolerance >= 0:  # also NaN
        raise ValueError(f"--label-tolerance must be >= 0 seconds, got {cfg.label_tolerance}")
    if cfg.sheet_rows < 1:
        raise ValueError(f"--sheet-rows must be >= 1, got {cfg.sheet_rows}")


def evaluate_bag(cfg: BagEvalConfig, predictor: Any = None) -> dict:
    """Run the evaluation described in the module docstring; returns the metrics dict."""
    _check_config(cfg)
    warn = cfg.warn or _stderr_warn
    reader, cfg = open_checked(cfg)  # bag and output problems surface before the model loads
    for note in reader.notes:
        warn(note)
    try:
        out_bag = output_bag_path(cfg)
        _prepare_output(cfg, out_bag, warn)
        if predictor is None:
            predictor = load_predictor(cfg.params)
        writer = (
            BagWriter(out_bag, storage=reader.storage, typestore=reader.typestore).open()
            if cfg.write_bag
            else None
        )
        try:
            run = _Evaluation(cfg, reader, writer, predictor)
            metrics = run.run()
        finally:
            if writer is not None:
                writer.close()
        metrics["output_bag"] = str(out_bag) if writer is not None else None
        metrics["output_topics"] = dict(writer.counts) if writer is not None else {}
        metrics["bag_warnings"] = list(reader.notes)
        if metrics["complete"]:
            incomplete_marker(out_bag).unlink(missing_ok=True)
    finally:
        reader.close()
    metrics_path = Path(cfg.out) / "metrics.json"
    metrics["metrics_file"] = str(metrics_path)
    write_json(metrics_path, metrics)
    return metrics


class _Evaluation:
    """The read → admit → pair → process → write loop over one bag, then its metrics."""

    def __init__(
        self, cfg: BagEvalConfig, reader: BagReader, writer: BagWriter | None, predictor: Any
    ) -> None:
        self.cfg, self.reader, self.writer, self.predictor = cfg, reader, writer, predictor
        p = cfg.params
        self.reasons: list[str] = []
        self.processor = PairProcessor(p, predictor, warn=self._note)
        self.pairer = ApproxTimePairer(
            num_inputs=2,
            queue_size=p.sync_queue_size,
            slop=p.sync_slop,
            jump_reset=p.sync_jump_reset,
            on_reset=self._on_reset,
        )
        self.resets: list[dict[str, Any]] = []
        self.stream = {cfg.rgb_topic: "rgb", cfg.thermal_topic: "thermal"}
        self.topics = [t for t in (cfg.rgb_topic, cfg.thermal_topic, cfg.label_topic) if t]
        self.received = dict.fromkeys(self.topics, 0)
        self.undecodable = dict.fromkeys(self.topics, 0)  # CDR the deserializer rejects
        self.admitted = dict.fromkeys(self.topics, 0)  # well-formed images fed to the pairing
        self.stamps: dict[str, list[int]] = {t: [] for t in self.topics}  # [first, last]
        self.error: str | None = None  # why the run stopped early (read error, interrupt)
        self.bad_labels = 0
        self.matcher = _LabelMatcher(round(cfg.label_tolerance * 1e9))
        self.evaluator = None
        if cfg.label_topic:
            from sccosf_ros.metrics.segmentation import SegmentationEvaluator

            self.evaluator = SegmentationEvaluator(predictor.class_names)
        expected = min(reader.count([cfg.rgb_topic]), reader.count([cfg.thermal_topic]))
        if cfg.max_pairs:
            expected = min(expected, cfg.max_pairs)
        self.expected = expected
        self.samples = _Samples(expected, cfg.sheet_rows)
        self.out_topics = output_topics(cfg.namespace)
        self.img_cls = reader.typestore.types[IMAGE]
        self.jpeg_cls = reader.typestore.types[COMPRESSED_IMAGE]
        self.jpeg_topics = compressed_topics(cfg.namespace)
        if writer is not None:
            for name in self.processor.outputs:
                writer.add_topic(self.out_topics[name], IMAGE)
            for name in self.processor.jpeg_outputs:
                writer.add_topic(self.jpeg_topics[name], COMPRESSED_IMAGE)
        self.pairs = 0
        self.latency: dict[str, list[float]] = {"total": [], "model": []}
        self.en: list[float] = []
        self.sd: list[float] = []

    # ------------------------------------------------------------------ loop
    def run(self) -> dict:
        bar = tqdm(
            total=self.expected or None,
            desc="bag-eval",
            unit="pair",
            disable=not self.cfg.progress,
        )
        t_start = time.perf_counter()
        try:
            for topic, msgtype, log_ns, raw in self.reader.messages(self.topics):
                before = self.pairs
                self._feed(topic, msgtype, log_ns, raw)
                bar.update(self.pairs - before)
                if self.cfg.max_pairs and self.pairs >= self.cfg.max_pairs:
                    break
        except BagReadError as e:  # stop here; everything so far is kept and reported
            self.error = str(e)
        except KeyboardInterrupt:
            self.error = "interrupted (Ctrl-C)"
        finally:
            bar.close()
        return self._metrics(time.perf_counter() - t_start)

    def _feed(self, topic: str, msgtype: str, log_ns: int, raw: bytes) -> None:
        self.received[topic] += 1
        try:
            msg = self.reader.deserialize(raw, msgtype)
        except Exception as e:  # corrupt CDR: any failure inside the deserializer
            self.undecodable[topic] += 1
            self._note("undecodable", f"{topic}: undecodable CDR ({type(e).__name__})")
            return
        stamp = stamp_to_ns(msg.header.stamp)
        seen = self.stamps[topic]
        self.stamps[topic] = [min(seen[0], stamp), max(seen[1], stamp)] if seen else [stamp] * 2
        if topic == self.cfg.label_topic:
            self._on_label(msg)
            return
        stream = self.stream[topic]
        if not self.processor.admit(stream, msg):
            return
        self.admitted[topic] += 1
        index = 0 if stream == "rgb" else 1
        for rgb_item, th_item in self.pairer.add(index, stamp, (log_ns, msg)):
            self._on_pair(rgb_item, th_item)

    def _on_pair(self, rgb_item: tuple[int, Any], th_item: tuple[int, Any]) -> None:
        log_ns, rgb_msg = rgb_item
        try:
            out = self.processor.process(rgb_msg, th_item[1])
        except Exception as e:  # the node's policy: count it, say why, go on with the next
            self.processor.stats.count("inference_errors")
            self._note("inference_error", f"pair failed in the model: {type(e).__name__}: {e}")
            return
        if out is None:
            return
        t = out.timings_ms
        self.latency["total"].append(t["decode"] + t["inference"] + t["render"])
        self.latency["model"].append(t.get("model", float("nan")))
        if self.writer is not None:
            for name, msg in self.processor.encode(out, rgb_msg.header, self.img_cls).items():
                self.writer.write(self.out_topics[name], log_ns, msg)
            jpegs = self.processor.encode_compressed(out, rgb_msg.header, self.jpeg_cls)
            for name, msg in jpegs.items():
                self.writer.write(self.jpeg_topics[name], log_ns, msg)
        self._fusion_stats(out)
        stamp = stamp_to_ns(rgb_msg.header.stamp)
        self.samples.add(self.pairs, _Sample(stamp, out))
        self.pairs += 1
        self.processor.stats.count("processed")
        if self.evaluator is not None and out.labels is not None:
            self.matcher.add_pred(stamp, out.labels)
            self._score_matches()

    def _fusion_stats(self, out: PairOutput) -> None:
        if out.fused is None:
            return
        from sccosf_ros.metrics.fusion import entropy, standard_deviation, to_gray

        gray = to_gray(out.fused)
        self.en.append(entropy(gray))
        self.sd.append(standard_deviation(gray))

    def _on_label(self, msg: Any) -> None:
        if self.evaluator is None:
            return
        try:
            label = _decode_label(msg)
        except (ImageDecodeError, ValueError) as e:
            self.undecodable[self.cfg.label_topic] += 1
            self._note("label", f"{self.cfg.label_topic}: {e}")
            return
        self.matcher.add_label(stamp_to_ns(msg.header.stamp), label)
        self._score_matches()

    def _score_matches(self) -> None:
        for stamp, pred, gt in self.matcher.take():
            try:
                self.evaluator.update(pred, gt)
            except ValueError as e:  # ids out of range, or another size than the prediction
                self.bad_labels += 1
                self._note("label", f"{self.cfg.label_topic}: {e}")
                continue
            self.samples.label(stamp, gt)

    def _on_reset(self, reset: Any) -> None:
        self.resets.append(
            {"back_s": reset.back_s, "pairs_before": reset.pairs_before, "at_pair": self.pairs}
        )

    def _note(self, kind: str, message: str) -> None:
        """The processor's (and our own) rejections, for metrics.json's malformed_reasons."""
        if kind != "thermal_nan" and len(self.reasons) < MAX_REASONS:
            self.reasons.append(message[:200])

    # ------------------------------------------------------------------ results
    def _metrics(self, elapsed: float) -> dict:
        self.processor.stats.record_pairer(self.pairer)
        cfg, c = self.cfg, self.processor.stats.snapshot().counters
        rgb_t, th_t = cfg.rgb_topic, cfg.thermal_topic
        p = cfg.params
        metrics: dict[str, Any] = {
            "bag": str(cfg.bag),
            "complete": self.error is None,
            "error": self.error,
            "storage": self.reader.storage,
            "checkpoint": str(p.checkpoint_path()),
            "device": str(getattr(self.predictor, "device", "")),
            "backend": str(getattr(self.predictor, "backend", "torch")),
            "input_size": list(p.inference_size) if p.inference_size else None,
            "thermal_norm": self.predictor.thermal_norm.to_dict(),
            "topics": {"rgb": rgb_t, "thermal": th_t, "label": cfg.label_topic},
            "sync": {
                "slop": p.sync_slop,
                "queue_size": p.sync_queue_size,
                "jump_reset": p.sync_jump_reset,
                "resets": self.resets,  # stamps jumped back: pairing restarted
                # the node's /diagnostics sync figures, from the same pairer
                **{
                    kind: {stream: c[f"{kind}_{stream}"] for stream in ("rgb", "thermal")}
                    for kind in ("unpaired", "trimmed", "replaced")
                },
            },
            "params": p.to_dict(),
            "messages": dict(self.received),
            "stamp_range_s": {
                t: [v / 1e9 for v in r] if r else None for t, r in self.stamps.items()
            },
            "pairs": self.pairs,
            "unmatched": self._unmatched(),
            "malformed": self._malformed(),
            "malformed_reasons": self.reasons,
            "size_mismatch": c["size_mismatch"],
            "thermal_nan_rejected": c["thermal_nan_rejected"],
            "thermal_nan_frames": c["thermal_nan_frames"],
            "inference_errors": c["inference_errors"],
            "elapsed_s": elapsed,
            "throughput_pairs_per_s": self.pairs / elapsed if elapsed > 0 else float("nan"),
            "latency_ms": {k: summarize(v) for k, v in self.latency.items()},
            "fusion": {"EN": summarize(self.en)["mean"], "SD": summarize(self.sd)["mean"]},
        }
        chosen = self.samples.final(self.pairs)
        metrics.update(self._fusion_sampled(chosen))
        if self.evaluator is not None:
            metrics.update(self._segmentation())
        metrics["contact_sheet"] = self._contact_sheet(chosen)
        return metrics

    def _segmentation(self) -> dict:
        res = self.evaluator.result()
        lab_t = self.cfg.label_topic
        labelled = self.evaluator.n_images
        valid = self.received[lab_t] - self.undecodable[lab_t]
        return {
            "miou": res["miou"] if labelled else float("nan"),
            "iou": res["iou"],
            "labelled_pairs": labelled,
            "bad_labels": self.bad_labels,
            "malformed": {**self._malformed(), lab_t: self.undecodable[lab_t]},
            "unmatched": {**self._unmatched(), lab_t: valid - labelled - self.bad_labels},
        }

    def _malformed(self) -> dict[str, int]:
        """Per image topic: undecodable CDR + messages the pipeline rejected as malformed."""
        c = self.processor.stats.snapshot().counters
        rgb_t, th_t = self.cfg.rgb_topic, self.cfg.thermal_topic
        return {
            rgb_t: self.undecodable[rgb_t] + c["malformed_rgb"],
            th_t: self.undecodable[th_t] + c["malformed_thermal"],
        }

    def _unmatched(self) -> dict[str, int]:
        """Per image topic: well-formed messages that never became part of a pair."""
        return {
            t: self.admitted[t] - self.pairer.emitted
            for t in (self.cfg.rgb_topic, self.cfg.thermal_topic)
        }

    def _fusion_sampled(self, chosen: list[_Sample]) -> dict:
        from sccosf_ros.metrics.fusion import fusion_metrics

        norm = self.predictor.thermal_norm
        vals = [
            fusion_metrics(
                s.out.fused, s.out.rgb, np.round(norm(s.out.thermal) * 255).astype(np.uint8)
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

    def _contact_sheet(self, chosen: list[_Sample]) -> str | None:
        if not chosen:
            return None
        from sccosf_ros.bag.contact_sheet import contact_sheet, save_png, thermal_preview
        from sccosf_ros.classes import IGNORE_INDEX, colorize

        palette, norm = self.processor.palette, self.predictor.thermal_norm
        columns = ["RGB", "thermal", "fused", "segmentation"]
        has_gt = any(s.gt is not None for s in chosen)
        if has_gt:
            columns.append("ground truth")
        rows = []
        for s in chosen:
            blank = np.full(s.out.rgb.shape[:2], IGNORE_INDEX, np.uint8)
            tiles = [
                s.out.rgb,
                thermal_preview(norm(s.out.thermal)),
                s.out.fused if s.out.fused is not None else np.zeros_like(s.out.rgb),
                colorize(s.out.labels if s.out.labels is not None else blank, palette),
            ]
            if has_gt:
                tiles.append(colorize(s.gt if s.gt is not None else blank, palette))
            rows.append(tiles)
        titles = [f"stamp {s.stamp / 1e9:.3f} s" for s in chosen]
        sheet = contact_sheet(rows, columns, titles)
        return str(save_png(Path(self.cfg.out) / "contact_sheet.png", sheet))


def _decode_label(msg: Any) -> np.ndarray:
    arr = decode_image(msg)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2 or arr.dtype != np.uint8:
        raise ValueError(f"label image must be mono8 class ids, got {msg.encoding}")
    return arr


def no_pairs_message(m: dict) -> str:
    """Why 0 pairs formed, from a metrics dict: each image topic's count and stamp range."""
    parts = []
    for what, topic in (("RGB", m["topics"]["rgb"]), ("thermal", m["topics"]["thermal"])):
        n, rng = m["messages"][topic], m["stamp_range_s"][topic]
        span = f", stamps {rng[0]:.3f} .. {rng[1]:.3f} s" if rng else ""
        parts.append(f"{what} {topic}: {n} messages{span}")
    return (
        "no RGB/thermal pair formed (" + "; ".join(parts) + "): both topics need messages "
        f"whose stamps lie within sync.slop = {m['sync']['slop']} s of each other"
    )


__all__ = ["BagEvalConfig", "evaluate_bag", "no_pairs_message", "output_bag_path"]
