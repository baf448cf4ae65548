"""bag-eval's loop over one bag: read → admit → pair → process → write, then its metrics.

Exactly what the live node runs (``PairProcessor.admit`` and ``ApproxTimePairer`` through
``pair_stream.PairStream``, then ``PairProcessor.process``), except that no pair is ever
dropped; see ``bag_eval``.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sccosf_ros.bag.bag_io import COMPRESSED_IMAGE, IMAGE, BagReader, BagReadError, BagWriter
from sccosf_ros.bag.eval_config import BagEvalConfig
from sccosf_ros.bag.eval_sheet import (
    Sample,
    Samples,
    sampled_fusion_metrics,
    write_contact_sheet,
)
from sccosf_ros.bag.label_matcher import LabelMatcher, decode_label
from sccosf_ros.bag.pair_stream import BagTopics, Label, Pair, PairStream
from sccosf_ros.metrics.fusion import entropy, standard_deviation, to_gray
from sccosf_ros.metrics.segmentation import SegmentationEvaluator
from sccosf_ros.percentiles import summarize
from sccosf_ros.pipeline.outputs import compressed_topics, output_topics
from sccosf_ros.pipeline.pairing import stamp_to_ns
from sccosf_ros.pipeline.processor import PairOutput, PairProcessor

MAX_REASONS = 20  # malformed-message reasons kept in metrics.json


class BagEvaluation:
    """The read → admit → pair → process → write loop over one bag, then its metrics."""

    def __init__(
        self, cfg: BagEvalConfig, reader: BagReader, writer: BagWriter | None, predictor: Any
    ) -> None:
        self.cfg, self.reader, self.writer, self.predictor = cfg, reader, writer, predictor
        self.reasons: list[str] = []
        self.processor = PairProcessor(cfg.params, predictor, warn=self._note)
        topics = BagTopics(cfg.rgb_topic, cfg.thermal_topic, cfg.label_topic)
        self.stream = PairStream(reader, self.processor, topics, self._note, self._on_reset)
        self.resets: list[dict[str, Any]] = []
        self.error: str | None = None  # why the run stopped early (read error, interrupt)
        self.bad_labels = 0
        self.matcher = LabelMatcher(round(cfg.label_tolerance * 1e9))
        self.evaluator = None
        if cfg.label_topic:
            self.evaluator = SegmentationEvaluator(predictor.class_names)
        expected = self.stream.expected_pairs()
        if cfg.max_pairs:
            expected = min(expected, cfg.max_pairs)
        self.expected = expected
        self.samples = Samples(expected, cfg.sheet_rows)
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
            for event in self.stream.events():
                before = self.pairs
                if isinstance(event, Label):
                    self._on_label(event.msg)
                else:
                    self._on_pair(event)
                bar.update(self.pairs - before)
                if self.cfg.max_pairs and self.pairs >= self.cfg.max_pairs:
                    break
        except BagReadError as e:  # stop here; everything so far is kept and reported
            self.error = str(e)
        except KeyboardInterrupt:
            self.error = "interrupted (Ctrl-C)"
        finally:
            bar.close()
        if self.error is None:  # chunks skipped for a CRC mismatch: the rest was evaluated
            self.error = self.reader.damage_summary()
        return self._metrics(time.perf_counter() - t_start)

    def _on_pair(self, pair: Pair) -> None:
        log_ns, rgb_msg = pair.log_ns, pair.rgb
        try:
            out = self.processor.process(rgb_msg, pair.thermal)
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
        self.samples.add(self.pairs, Sample(stamp, out))
        self.pairs += 1
        self.processor.stats.count("processed")
        if self.evaluator is not None and out.labels is not None:
            self.matcher.add_pred(stamp, out.labels)
            self._score_matches()

    def _fusion_stats(self, out: PairOutput) -> None:
        if out.fused is None:
            return
        gray = to_gray(out.fused)
        self.en.append(entropy(gray))
        self.sd.append(standard_deviation(gray))

    def _on_label(self, msg: Any) -> None:
        if self.evaluator is None:
            return
        try:
            label = decode_label(msg)
        except ValueError as e:  # ImageDecodeError included
            self.stream.undecodable[self.cfg.label_topic] += 1
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
        if kind not in ("thermal_nan", "thermal_ffc") and len(self.reasons) < MAX_REASONS:
            self.reasons.append(message[:200])

    # ------------------------------------------------------------------ results
    def _metrics(self, elapsed: float) -> dict:
        self.processor.stats.record_pairer(self.stream.pairer)
        snap = self.processor.stats.snapshot()
        cfg, c = self.cfg, snap.counters
        rgb_t, th_t = cfg.rgb_topic, cfg.thermal_topic
        p = cfg.params
        metrics: dict[str, Any] = {
            "bag": str(cfg.bag),
            "complete": self.error is None,
            "error": self.error,
            "damaged_chunks": [asdict(c) for c in self.reader.damaged_chunks],
            "messages_lost": sum(c.messages_lost for c in self.reader.damaged_chunks),
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
            "messages": dict(self.stream.received),
            "stamp_range_s": {
                t: [v / 1e9 for v in r] if r else None for t, r in self.stream.stamps.items()
            },
            "pairs": self.pairs,
            "unmatched": self._unmatched(),
            "malformed": self._malformed(),
            "malformed_reasons": self.reasons,
            "size_mismatch": c["size_mismatch"],
            "thermal_nan_rejected": c["thermal_nan_rejected"],
            "thermal_nan_frames": c["thermal_nan_frames"],
            # shutter / flat-field correction frames skipped before pairing (thermal.ffc.*)
            "thermal_ffc": {
                "frames": c["thermal_ffc_frames"],
                "events": c["thermal_ffc_events"],
                "mean_interval_s": snap.ffc_interval_s,
            },
            "inference_errors": c["inference_errors"],
            "elapsed_s": elapsed,
            "throughput_pairs_per_s": self.pairs / elapsed if elapsed > 0 else float("nan"),
            "latency_ms": {k: summarize(v) for k, v in self.latency.items()},
            "fusion": {"EN": summarize(self.en)["mean"], "SD": summarize(self.sd)["mean"]},
        }
        chosen = self.samples.final(self.pairs)
        metrics.update(sampled_fusion_metrics(chosen, self.predictor.thermal_norm))
        if self.evaluator is not None:
            metrics.update(self._segmentation())
        metrics["contact_sheet"] = write_contact_sheet(
            chosen, Path(cfg.out), self.processor.palette, self.predictor.thermal_norm
        )
        return metrics

    def _segmentation(self) -> dict:
        res = self.evaluator.result()
        lab_t = self.cfg.label_topic
        labelled = self.evaluator.n_images
        valid = self.stream.received[lab_t] - self.stream.undecodable[lab_t]
        return {
            "miou": res["miou"] if labelled else float("nan"),
            "iou": res["iou"],
            "labelled_pairs": labelled,
            "bad_labels": self.bad_labels,
            "malformed": {**self._malformed(), lab_t: self.stream.undecodable[lab_t]},
            "unmatched": {**self._unmatched(), lab_t: valid - labelled - self.bad_labels},
        }

    def _malformed(self) -> dict[str, int]:
        """Per image topic: undecodable CDR + messages the pipeline rejected as malformed."""
        c = self.processor.stats.snapshot().counters
        rgb_t, th_t = self.cfg.rgb_topic, self.cfg.thermal_topic
        return {
            rgb_t: self.stream.undecodable[rgb_t] + c["malformed_rgb"],
            th_t: self.stream.undecodable[th_t] + c["malformed_thermal"],
        }

    def _unmatched(self) -> dict[str, int]:
        """Per image topic: well-formed messages that never became part of a pair."""
        return self.stream.unmatched()
