"""Offline evaluation of a checkpoint on a rosbag2: ``sccosf bag-eval``.

Runs exactly what the live node runs, from the same parameters (``NodeParams``: the node's own
``--params-file`` YAML plus overrides): every RGB and thermal ``sensor_msgs/Image`` or
``sensor_msgs/CompressedImage`` (told apart by the bag's message types; a topic given as
``<base>`` that the bag only has as ``<base>/compressed`` is read from there) of the bag
(sqlite3 or MCAP) goes through ``PairProcessor.admit`` (malformed messages and shutter / FFC
thermal frames are counted and never paired), the node's approximate-time pairing
(``ApproxTimePairer`` with ``sync.slop``,
``sync.queue_size`` and ``sync.jump_reset``: a bag whose stamps loop pairs the same in every
loop), and ``PairProcessor.process`` (decode, thermal NaN policy, registration,
Predictor, colour). Unlike the live node it never drops a pair: every pair is processed, as fast
as the model goes. Under the output folder it writes

* ``<bag name>_sccosf/``: a rosbag2 in the input's storage with the node's enabled outputs
  (``<ns>/fused``, ``<ns>/segmentation``, ``<ns>/segmentation_color``, ``<ns>/overlay``), each
  carrying the RGB message's header and logged at the RGB message's log time;
* ``metrics.json``: pairs, unmatched and malformed messages per topic, skipped FFC thermal
  frames (``thermal_ffc``), throughput, latency,
  EN/SD of the fused images (plus all fusion metrics on the sampled frames), and with a label
  topic the mIoU and per-class IoU (labels matched to the RGB stamps);
* ``contact_sheet.png``: sampled frames, RGB | thermal | fused | segmentation (| ground truth).

Damaged bags (see ``BagReader``) are read as far as they go, with a warning each. When reading
fails part-way, the run stops there: the output bag is closed (valid, with the pairs so far),
``metrics.json`` says ``"complete": false`` and the error. An output bag whose run did not
finish keeps a ``<name>_sccosf.incomplete`` marker beside it and is replaced by the next run
without ``--overwrite``; so is one from a run that formed no pair (an empty thermal topic). An
MCAP chunk whose data does not match its CRC is skipped with a warning naming it and the messages
lost; every other pair is evaluated and ``metrics.json`` says ``"complete": false`` with
``damaged_chunks``.

This module opens the bag and the output and runs the evaluation; ``eval_config`` holds the
settings, ``eval_loop`` the read → pair → process loop and its metrics, ``label_matcher`` the
label matching, ``eval_sheet`` the contact sheet and the sampled fusion metrics.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sccosf_ros.bag.bag_io import BagError, BagReader, BagWriter
from sccosf_ros.bag.eval_config import (
    BagEvalConfig,
    check_config,
    incomplete_marker,
    output_bag_path,
)
from sccosf_ros.bag.eval_loop import BagEvaluation
from sccosf_ros.bag.pair_stream import BagTopics, open_bag
from sccosf_ros.jsonio import write_json
from sccosf_ros.pipeline.processor import load_predictor


def open_checked(cfg: BagEvalConfig) -> tuple[BagReader, BagEvalConfig]:
    """Open the bag and check the requested topics exist and carry images (clear errors).

    Returns the reader and ``cfg`` with the topics as found: an RGB/thermal topic the bag only
    holds as image_transport's ``<topic>/compressed`` is read from there (the label topic too).
    """
    reader, found = open_bag(cfg.bag, BagTopics(cfg.rgb_topic, cfg.thermal_topic, cfg.label_topic))
    cfg = replace(cfg, rgb_topic=found.rgb, thermal_topic=found.thermal, label_topic=found.label)
    return reader, cfg


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


def evaluate_bag(cfg: BagEvalConfig, predictor: Any = None) -> dict:
    """Run the evaluation described in the module docstring; returns the metrics dict."""
    check_config(cfg)
    warn = cfg.warn or _stderr_warn
    reader, cfg = open_checked(cfg)  # bag and output problems surface before the model loads
    reader.on_damage = warn  # each chunk skipped for a CRC mismatch, as the read passes it
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
            run = BagEvaluation(cfg, reader, writer, predictor)
            metrics = run.run()
        finally:
            if writer is not None:
                writer.close()
        metrics["output_bag"] = str(out_bag) if writer is not None else None
        metrics["output_topics"] = dict(writer.counts) if writer is not None else {}
        metrics["bag_warnings"] = list(reader.notes)
        if metrics["complete"] and metrics["pairs"]:  # no pair: nothing worth keeping
            incomplete_marker(out_bag).unlink(missing_ok=True)
    finally:
        reader.close()
    metrics_path = Path(cfg.out) / "metrics.json"
    metrics["metrics_file"] = str(metrics_path)
    write_json(metrics_path, metrics)
    return metrics


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


__all__ = [
    "BagEvalConfig",
    "evaluate_bag",
    "incomplete_marker",
    "no_pairs_message",
    "open_checked",
    "output_bag_path",
]
