"""``metrics.json`` of the demo: the recorded outputs against the input bag's labels.

mIoU of the recorded segmentation against the bag's labels matched by stamp, the pairs the
node's pairing could form over the bag, latency and counters from the node's last
``/diagnostics``, and the pictures (``pictures``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sccosf_ros.bag.bag_io import BagReader, stamp_ns
from sccosf_ros.demo.config import DemoConfig
from sccosf_ros.demo.pictures import write_pictures
from sccosf_ros.inference import load_checkpoint
from sccosf_ros.metrics.segmentation import SegmentationEvaluator
from sccosf_ros.pipeline.image_codec import decode_image
from sccosf_ros.pipeline.outputs import DEFAULT_NAMESPACE, output_topics
from sccosf_ros.pipeline.pairing import ApproxTimePairer


def _read_images(path: Path, topics: list[str]) -> dict[str, dict[int, Any]]:
    """topic → {stamp_ns: decoded array} for small bags (the demo's)."""
    out: dict[str, dict[int, Any]] = {t: {} for t in topics}
    with BagReader(path) as bag:
        present = [t for t in topics if t in bag.topics()]
        for topic, msgtype, _, raw in bag.messages(present):
            msg = bag.deserialize(raw, msgtype)
            out[topic][stamp_ns(msg)] = decode_image(msg)
    return out


def _possible_pairs(path: Path, topics: tuple[str, str], params: Any) -> dict[int, int]:
    """RGB stamp → thermal stamp for every pair the node's pairing forms over the bag, its
    messages in their recorded (arrival) order, with the node's sync parameters."""
    pairer = ApproxTimePairer(2, params.sync_queue_size, params.sync_slop, params.sync_jump_reset)
    th_of: dict[int, int] = {}
    with BagReader(path) as bag:
        for topic, msgtype, _, raw in bag.messages(list(topics)):
            s = stamp_ns(bag.deserialize(raw, msgtype))
            for r, t in pairer.add(topics.index(topic), s, s):
                th_of[r] = t
    return th_of


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def analyse(
    out: Path, synth: Any, live: dict, cfg: DemoConfig, checkpoint: Path, params: Any
) -> dict:
    """mIoU, counts, latency, contact sheet and preview GIF from the recorded outputs."""
    scfg = synth.config
    t_in = _read_images(synth.path, [scfg.rgb_topic, scfg.thermal_topic, scfg.label_topic])
    rgbs, ths, labels = (t_in[scfg.rgb_topic], t_in[scfg.thermal_topic], t_in[scfg.label_topic])
    topics = output_topics(DEFAULT_NAMESPACE)
    rec = _read_images(out / "recorded_bag", list(topics.values()))
    seg = rec[topics["segmentation"]]
    th_of = _possible_pairs(synth.path, (scfg.rgb_topic, scfg.thermal_topic), params)

    ckpt = load_checkpoint(checkpoint)  # class names and palette
    evaluator = SegmentationEvaluator(ckpt["class_names"])
    for s, pred in seg.items():
        gt = labels.get(s)
        if gt is not None and gt.shape == pred.shape:
            evaluator.update(pred, gt)
    scores = evaluator.result()
    pictures = write_pictures(out, rgbs, ths, labels, rec, th_of, cfg, params, ckpt["palette"])

    inf = live["diagnostics"].get("inference", {})
    metrics = {
        "input_bag": str(synth.path),
        "recorded_bag": str(out / "recorded_bag"),
        "frames": {"rgb": len(rgbs), "thermal": len(ths), "labels": len(labels)},
        "published": live["published"],
        "clock_messages": live["clock_messages"],
        "possible_pairs": len(th_of),
        "outputs": {t: len(rec[t]) for t in topics.values()},
        "output_ratio": len(seg) / len(th_of) if th_of else float("nan"),
        "output_stamps_match_rgb": all(s in rgbs for s in seg),
        "labelled_outputs": evaluator.n_images,
        "miou": scores["miou"] if evaluator.n_images else float("nan"),
        "iou": scores["iou"],
        "latency_ms": {
            "inference_p50": _num(inf.get("inference_p50_ms")),
            "inference_p95": _num(inf.get("inference_p95_ms")),
            "model_p50": _num(inf.get("model_p50_ms")),
            "end_to_end_p50": _num(inf.get("e2e_age_p50_ms")),
            "end_to_end_p95": _num(inf.get("e2e_age_p95_ms")),
        },
        "node_counters": {
            k: inf.get(k)
            for k in ("synced_pairs", "processed", "dropped_busy", "inference_errors")
        },
        "diagnostics": live["diagnostics"],
        "label_info": live["label_info"],
        "node_exit_code": live["node_exit_code"],
        **pictures,
        "replay_rate": cfg.rate,
    }
    if not seg:
        metrics["warning"] = (
            f"the node published no segmentation: see node.log ({out / 'node.log'})"
        )
    return metrics
