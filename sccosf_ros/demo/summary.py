"""What the demo prints: progress lines and the closing summary (figures, where to look)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sccosf_ros.demo.config import PARAMS_FILE
from sccosf_ros.pipeline.outputs import DEFAULT_NAMESPACE, output_topics


def say(text: str) -> None:
    """A progress line, shown at once (the node's start-up takes a while)."""
    print(text, flush=True)


def summary(m: dict, out: Path) -> str:
    lat = m["latency_ms"]
    nc = m["node_counters"]
    seg_topic = output_topics(DEFAULT_NAMESPACE)["segmentation"]
    lines = [
        "",
        "=" * 72,
        "sccosf demo: synthetic RGB-thermal bag -> live sccosf_node -> recorded outputs"
        f" (backend {m.get('backend', 'torch')})",
        f"  node outputs: {m['outputs'][seg_topic]} segmentation frames for "
        f"{m['possible_pairs']} RGB-thermal pairs in the bag (node: synced "
        f"{nc.get('synced_pairs')}, processed {nc.get('processed')}, dropped while busy "
        f"{nc.get('dropped_busy')})",
        f"  mIoU vs the bag's labels (live node): {_fmt(m['miou'])} over "
        f"{m['labelled_outputs']} frames",
        f"  latency (node /diagnostics): inference p50 {_fmt(lat['inference_p50'])} ms, p95 "
        f"{_fmt(lat['inference_p95'])} ms; end-to-end p50 {_fmt(lat['end_to_end_p50'])} ms",
    ]
    be = m.get("bag_eval")
    if be:
        lines.append(
            f"  bag-eval (every pair, offline): {be['pairs']} pairs, mIoU "
            f"{_fmt(be['miou'])}, {_fmt(be['throughput_pairs_per_s'])} pairs/s"
        )
    files = [
        ("contact_sheet.png", "sampled frames: RGB | thermal | fused | segmentation | overlay"
         " | ground truth"),
        ("preview.gif", "animation: RGB | thermal | fused | overlay"),
        ("metrics.json", "all figures"),
        ("recorded_bag", f"the node's outputs as a rosbag2 (sccosf replay {out}/recorded_bag)"),
        ("node.log", "the node's log"),
        *([("bag_eval", "offline bag-eval of the same bag")] if be else []),
        (PARAMS_FILE, "the node's parameters (also used by bag-eval)"),
    ]  # fmt: skip
    width = max(len(str(out / name)) for name, _ in files) + 3
    lines += [f"  took {m['timings']['total_s']:.0f} s ({m['ros']})", "where to look:"]
    lines += [f"  {str(out / name).ljust(width)}{what}" for name, what in files]
    lines.append("=" * 72)
    if m.get("warning"):
        lines.insert(3, f"  WARNING: {m['warning']}")
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if f != f else (f"{f:.4f}" if abs(f) < 1 else f"{f:.1f}")
