"""``sccosf demo`` (``make demo``): the whole product on this machine, in a minute or two.

1. write a synthetic RGB-thermal rosbag2 (RGB 10 Hz rgb8, thermal 8.7 Hz mono16 raw counts,
   mono8 labels; ``synthetic_bag``);
2. start the real ``sccosf_node`` as a subprocess with the shipped checkpoint, ``use_sim_time``
   and the thermal normalisation the checkpoint was trained with (fixed ``THERMAL_COUNTS``);
3. replay the bag to it with ``/clock`` (``replay.BagPlayer``) while a recorder node writes the
   node's outputs, ``/diagnostics`` and ``~/label_info`` to a rosbag2;
4. write ``outputs/demo/``: ``contact_sheet.png``, ``preview.gif`` (RGB | thermal | fused |
   overlay), ``metrics.json`` (mIoU of the recorded segmentation against the bag's labels
   matched by stamp, latency from ``/diagnostics``, counts), ``recorded_bag/``, ``input_bag/``,
   ``node.log``, and ``bag_eval/`` (the same bag through ``sccosf bag-eval``, for comparison);
5. print where to look.

Unless ``ROS_DOMAIN_ID`` is set, the demo picks a private domain on localhost so it never talks to
(or disturbs) other ROS 2 processes. The node subprocess is always stopped, also on errors and
Ctrl-C (SIGINT, then SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sccosf_ros.bag.bag_io import IMAGE, BagReader, BagWriter, stamp_ns

NODE_NS = "/sccosf"
OUTPUT_NAMES = ("fused", "segmentation", "segmentation_color", "overlay")


class DemoError(RuntimeError):
    """Something the user must fix (missing checkpoint, node that does not start, ...)."""


@dataclass
class DemoConfig:
    out: Path = Path("outputs/demo")
    checkpoint: Path | None = None  # None = paths.default_checkpoint()
    duration: float = 12.0  # s of synthetic recording
    height: int = 240
    width: int = 320
    rgb_rate: float = 10.0
    thermal_rate: float = 8.7
    storage: str = "mcap"
    rate: float = 1.0  # replay speed
    seed: int = 0
    night: bool = False
    device: str = "auto"
    threads: int = 0  # torch CPU threads (node and bag-eval); 0 = torch's default
    run_bag_eval: bool = True
    node_start_timeout: float = 180.0
    drain_timeout: float = 20.0  # s to wait for the last outputs after the replay
    gif_max_frames: int = 60
    progress: bool = True


class _Recorder:
    """Writes every message it receives (raw CDR) to a bag; counts per topic.

    Callbacks only enqueue: one writer thread owns the bag, because the sqlite3 storage may
    only be used from the thread that opened it.
    """

    def __init__(self, path: Path, storage: str) -> None:
        self.counts: dict[str, int] = {}
        self.label_info: str | None = None
        self.last_diagnostics: Any = None
        self._queue: queue.Queue = queue.Queue()
        self._opened = threading.Event()
        self._error: BaseException | None = None
        self._writer: BagWriter | None = None
        self._thread = threading.Thread(target=self._write_loop, args=(path, storage),
                                        daemon=True)
        self._thread.start()
        self._opened.wait()
        if self._error is not None:
            raise self._error

    def _write_loop(self, path: Path, storage: str) -> None:
        try:
            writer = self._writer = BagWriter(path, storage=storage).open()
        except BaseException as e:
            self._error = e
            self._opened.set()
            return
        self._opened.set()
        try:
            while (item := self._queue.get()) is not None:
                topic, msgtype, t_ns, raw = item
                writer.write_raw(topic, t_ns, raw, msgtype)
        finally:
            writer.close()

    @property
    def typestore(self) -> Any:
        return self._writer.typestore if self._writer else None

    def callback(self, topic: str, msgtype: str):
        def cb(raw: bytes) -> None:
            self._queue.put((topic, msgtype, time.time_ns(), bytes(raw)))
            self.counts[topic] = self.counts.get(topic, 0) + 1
        return cb

    def close(self) -> None:
        """Write what is queued and close the bag."""
        self._queue.put(None)
        self._thread.join()


def _ros_msgtype(cls: Any) -> str:
    """rclpy message class → ``pkg/msg/Name``."""
    return f"{cls.__module__.split('.')[0]}/msg/{cls.__name__}"


def isolate_ros_domain() -> str:
    """Private DDS domain on localhost unless the user chose one; returns a description."""
    if "ROS_DOMAIN_ID" not in os.environ:
        os.environ["ROS_DOMAIN_ID"] = str(random.SystemRandom().randint(101, 200))
        os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        return f"private ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']} on localhost"
    return f"ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']} (from the environment)"


def node_command(checkpoint: Path, rgb_topic: str, thermal_topic: str, thermal_range,
                 device: str = "auto", sim_time: bool = True, threads: int = 0,
                 extra_params: tuple[str, ...] = ()) -> list[str]:
    """The ``sccosf_node`` command line the demo (and the replay test) runs."""
    from sccosf_ros.paths import find_share_file

    cmd = [sys.executable, "-m", "sccosf_ros.ros.node", "--ros-args"]
    params = find_share_file("config/sccosf.yaml")
    if params is not None:
        cmd += ["--params-file", str(params)]
    lo, hi = (float(v) for v in thermal_range)
    for p in (f"checkpoint:={checkpoint}", f"use_sim_time:={'true' if sim_time else 'false'}",
              f"device:={device}", f"num_threads:={int(threads)}",
              "thermal.normalization:=fixed",
              f"thermal.low:={lo!r}", f"thermal.high:={hi!r}", *extra_params):
        cmd += ["-p", p]
    cmd += ["-r", f"rgb/image_raw:={rgb_topic}", "-r", f"thermal/image_raw:={thermal_topic}"]
    return cmd


class NodeProcess:
    """``sccosf_node`` in its own session, output to a log file; ``stop()`` always ends it."""

    def __init__(self, cmd: list[str], log_path: Path) -> None:
        self.cmd = cmd
        self.log_path = log_path
        self._log = open(log_path, "wb")  # closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.returncode: int | None = None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 25) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGINT, then SIGTERM, then SIGKILL; returns the exit code."""
        try:
            if self.proc.poll() is None:
                for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0),
                                  (signal.SIGKILL, 5.0)):
                    try:
                        self.proc.send_signal(sig)
                    except ProcessLookupError:
                        break
                    try:
                        self.proc.wait(wait)
                        break
                    except subprocess.TimeoutExpired:
                        continue
        except KeyboardInterrupt:  # a second Ctrl-C while waiting: do not leave it behind
            self.proc.kill()
            self.proc.wait()
            raise
        self.returncode = self.proc.poll()
        if not self._log.closed:
            self._log.close()
        return self.returncode


def _clean_outputs(out: Path) -> None:
    """Remove what an earlier demo run wrote (only the demo's own products)."""
    for name in ("input_bag", "recorded_bag", "bag_eval"):
        if (out / name).exists():
            shutil.rmtree(out / name)
    for name in ("contact_sheet.png", "preview.gif", "metrics.json", "node.log"):
        (out / name).unlink(missing_ok=True)


def run_demo(cfg: DemoConfig) -> dict:
    """Run the demo; returns metrics (also written to ``out/metrics.json``)."""
    from sccosf_ros.paths import default_checkpoint
    from sccosf_ros.synthetic import THERMAL_COUNTS

    t_start = time.perf_counter()
    ckpt = Path(cfg.checkpoint) if cfg.checkpoint else default_checkpoint()
    if not ckpt.is_file():
        raise DemoError(
            f"the demo checkpoint {str(ckpt)!r} is missing. models/README.md says how to get "
            "it (the exact `sccosf train` command on synthetic data); or pass --checkpoint "
            "FILE / set SCCOSF_CHECKPOINT"
        )
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    _clean_outputs(out)
    domain = isolate_ros_domain()
    timings: dict[str, float] = {}

    # 1. the synthetic bag
    from sccosf_ros.synthetic import BagSettings as SyntheticBagConfig
    from sccosf_ros.synthetic import write_synthetic_bag

    t0 = time.perf_counter()
    scfg = SyntheticBagConfig(storage=cfg.storage, duration=cfg.duration,
                              rgb_rate=cfg.rgb_rate, thermal_rate=cfg.thermal_rate,
                              height=cfg.height, width=cfg.width, seed=cfg.seed,
                              night=cfg.night, show_progress=cfg.progress)
    synth = write_synthetic_bag(out / "input_bag", scfg)
    timings["write_bag_s"] = time.perf_counter() - t0
    _say(f"[1/4] synthetic bag: {len(synth.rgb_stamps)} RGB, {len(synth.thermal_stamps)} "
         f"thermal (mono16), {len(synth.label_stamps)} labels, {cfg.duration:.0f} s, "
         f"{cfg.storage} -> {synth.path}")

    # 2. + 3. node, replay, recording
    # a deeper output queue than the default 2, so the recorder misses nothing under load
    cmd = node_command(ckpt, scfg.rgb_topic, scfg.thermal_topic, THERMAL_COUNTS, cfg.device,
                       threads=cfg.threads, extra_params=("output_qos.depth:=10",))
    t0 = time.perf_counter()
    live = _run_live(cfg, cmd, out, scfg)
    timings.update(live.pop("timings"))
    timings["live_total_s"] = time.perf_counter() - t0

    # 4. analysis
    t0 = time.perf_counter()
    metrics = analyse(out, synth, live, THERMAL_COUNTS, cfg, ckpt)
    timings["analysis_s"] = time.perf_counter() - t0
    metrics["ros"] = domain
    metrics["checkpoint"] = str(ckpt)
    metrics["node_command"] = " ".join(cmd)

    if cfg.run_bag_eval:
        from sccosf_ros.bag.bag_eval import BagEvalConfig, evaluate_bag
        from sccosf_ros.thermal import ThermalNorm

        _say("[4/4] bag-eval on the same bag (every pair, no drops) ...")
        t0 = time.perf_counter()
        lo, hi = THERMAL_COUNTS
        bm = evaluate_bag(BagEvalConfig(
            bag=synth.path, checkpoint=ckpt, rgb_topic=scfg.rgb_topic,
            thermal_topic=scfg.thermal_topic, label_topic=scfg.label_topic,
            out=out / "bag_eval", device=cfg.device, threads=cfg.threads,
            thermal_norm=ThermalNorm(mode="fixed", low=float(lo), high=float(hi)),
            progress=cfg.progress,
        ))
        timings["bag_eval_s"] = time.perf_counter() - t0
        metrics["bag_eval"] = {k: bm.get(k) for k in (
            "pairs", "miou", "throughput_pairs_per_s", "latency_ms", "fusion",
            "metrics_file", "contact_sheet", "output_bag")}
    timings["total_s"] = time.perf_counter() - t_start
    metrics["timings"] = timings
    from sccosf_ros.bag.bag_eval import _json_safe

    (out / "metrics.json").write_text(json.dumps(_json_safe(metrics), indent=2) + "\n")
    print(summary(metrics, out))
    return metrics


def _say(text: str) -> None:
    print(text, flush=True)


def _run_live(cfg: DemoConfig, cmd: list[str], out: Path, scfg) -> dict:
    """Node subprocess + replay + recorder; returns counts, diagnostics and timings."""
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    from rclpy.signals import SignalHandlerOptions
    from sensor_msgs.msg import Image

    from sccosf_ros.bag.replay import BagPlayer, ReplayConfig
    from sccosf_ros.ros.diagnostics import values_of
    from sccosf_ros.ros.label_info import label_info_type

    timings: dict[str, float] = {}
    node_proc = NodeProcess(cmd, out / "node.log")
    ctx = Context()
    rclpy.init(context=ctx, signal_handler_options=SignalHandlerOptions.NO)
    executor = SingleThreadedExecutor(context=ctx)
    spin_thread = None
    recorder = None
    player = None
    rec_node = None
    try:
        t0 = time.perf_counter()
        recorder = _Recorder(out / "recorded_bag", cfg.storage)
        rec_node = Node("sccosf_demo_recorder", context=ctx)
        out_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=50,
                             reliability=ReliabilityPolicy.RELIABLE)
        subs = {}
        for name in OUTPUT_NAMES:
            topic = f"{NODE_NS}/{name}"
            subs[topic] = rec_node.create_subscription(
                Image, topic, recorder.callback(topic, IMAGE), out_qos, raw=True)
        from diagnostic_msgs.msg import DiagnosticArray

        diag_cb = recorder.callback("/diagnostics", _ros_msgtype(DiagnosticArray))

        def on_diag(raw: bytes) -> None:
            diag_cb(raw)
            from rclpy.serialization import deserialize_message

            recorder.last_diagnostics = deserialize_message(raw, DiagnosticArray)

        rec_node.create_subscription(DiagnosticArray, "/diagnostics", on_diag,
                                     QoSProfile(depth=20), raw=True)
        li_type = label_info_type()
        li_msgtype = _ros_msgtype(li_type)
        li_cb = (recorder.callback(f"{NODE_NS}/label_info", li_msgtype)
                 if li_msgtype in recorder.typestore.types else (lambda raw: None))

        def on_label_info(raw: bytes) -> None:
            li_cb(raw)
            from rclpy.serialization import deserialize_message

            msg = deserialize_message(raw, li_type)
            recorder.label_info = getattr(msg, "data", None) or str(msg)

        latched = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                             reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        rec_node.create_subscription(li_type, f"{NODE_NS}/label_info", on_label_info, latched,
                                     raw=True)
        executor.add_node(rec_node)
        spin_thread = threading.Thread(target=_spin, args=(executor,), daemon=True)
        spin_thread.start()

        player = BagPlayer(ReplayConfig(
            bag=out / "input_bag", rate=cfg.rate, clock=True,
            topics=[scfg.rgb_topic, scfg.thermal_topic], progress=cfg.progress,
        ), context=ctx)

        # wait: model loaded (label_info), node subscribed to the inputs, outputs matched
        _say(f"[2/4] starting sccosf_node (log: {node_proc.log_path}) ...")
        deadline = time.monotonic() + cfg.node_start_timeout
        while True:
            if not node_proc.alive():
                raise DemoError(
                    f"sccosf_node exited with code {node_proc.proc.returncode} during start-up; "
                    f"last lines of {node_proc.log_path}:\n{node_proc.log_tail()}"
                )
            ready = (recorder.label_info is not None
                     and all(p.get_subscription_count() > 0 for p in player.pubs.values())
                     and all(s.get_publisher_count() > 0 for s in subs.values()))
            if ready:
                break
            if time.monotonic() > deadline:
                raise DemoError(
                    f"sccosf_node did not become ready within {cfg.node_start_timeout:.0f} s; "
                    f"last lines of {node_proc.log_path}:\n{node_proc.log_tail()}"
                )
            time.sleep(0.05)
        timings["node_start_s"] = time.perf_counter() - t0
        _say(f"      node ready after {timings['node_start_s']:.1f} s")

        # 3. replay
        _say("[3/4] replaying and recording ...")
        t0 = time.perf_counter()
        stats = player.play()
        timings["replay_s"] = time.perf_counter() - t0
        if stats.interrupted:
            raise KeyboardInterrupt
        # drain: keep the sim clock moving while the last pair finishes
        t0 = time.perf_counter()
        seg_topic = f"{NODE_NS}/segmentation"
        end_ns = player.reader.end_time
        last_count, last_change = -1, time.monotonic()
        while time.perf_counter() - t0 < cfg.drain_timeout:
            player.publish_clock(end_ns + int((time.perf_counter() - t0) * cfg.rate * 1e9))
            n = recorder.counts.get(seg_topic, 0)
            if n != last_count:
                last_count, last_change = n, time.monotonic()
            elif time.monotonic() - last_change > 1.5:
                break
            if not node_proc.alive():
                break
            time.sleep(0.01)
        time.sleep(1.2)  # one more /diagnostics period after the last output
        timings["drain_s"] = time.perf_counter() - t0
        diag = {}
        if recorder.last_diagnostics is not None:
            for part in ("inputs", "inference", "input quality"):
                try:
                    diag[part] = values_of(recorder.last_diagnostics, part)
                except KeyError:
                    pass
        published = dict(stats.published)
        clock_msgs = stats.clock_messages
    finally:
        code = node_proc.stop()
        executor.shutdown(timeout_sec=2.0)
        if spin_thread is not None:
            spin_thread.join(timeout=5.0)
        if player is not None:
            player.close()
        if rec_node is not None:
            rec_node.destroy_node()
        if recorder is not None:
            recorder.close()
        if ctx.ok():
            rclpy.shutdown(context=ctx)
    return {
        "published": published,
        "clock_messages": clock_msgs,
        "recorded": dict(recorder.counts),
        "diagnostics": diag,
        "label_info": recorder.label_info,
        "node_exit_code": code,
        "timings": timings,
    }


def _spin(executor: Any) -> None:
    from rclpy.executors import ExternalShutdownException

    try:
        executor.spin()
    except (ExternalShutdownException, KeyboardInterrupt):
        pass


def _read_images(path: Path, topics: list[str]) -> dict[str, dict[int, Any]]:
    """topic → {stamp_ns: decoded array} for small bags (the demo's)."""
    from sccosf_ros.ros.image_codec import decode_image

    out: dict[str, dict[int, Any]] = {t: {} for t in topics}
    with BagReader(path) as bag:
        present = [t for t in topics if t in bag.topics()]
        for topic, msgtype, _, raw in bag.messages(present):
            msg = bag.deserialize(raw, msgtype)
            out[topic][stamp_ns(msg)] = decode_image(msg)
    return out


def analyse(out: Path, synth, live: dict, thermal_counts, cfg: DemoConfig,
            checkpoint: Path) -> dict:
    """mIoU, counts, latency, contact sheet and preview GIF from the recorded outputs."""
    from sccosf_ros.bag.contact_sheet import (
        contact_sheet,
        save_gif,
        save_png,
        side_by_side,
        thermal_preview,
    )
    from sccosf_ros.classes import colorize
    from sccosf_ros.inference import load_checkpoint
    from sccosf_ros.ros.sync import ApproxTimePairer
    from sccosf_ros.thermal import ThermalNorm
    from sccosf_ros.training.metrics import ConfusionMatrix

    scfg = synth.config
    t_in = _read_images(synth.path, [scfg.rgb_topic, scfg.thermal_topic, scfg.label_topic])
    rgbs, ths, labels = (t_in[scfg.rgb_topic], t_in[scfg.thermal_topic],
                         t_in[scfg.label_topic])
    rec_topics = [f"{NODE_NS}/{n}" for n in OUTPUT_NAMES]
    rec = _read_images(out / "recorded_bag", rec_topics)
    fused, seg, seg_color, over = (rec[t] for t in rec_topics)

    # what the node could have produced: the sync over the bag's stamps, node defaults
    from sccosf_ros.bag.bag_eval import node_sync_defaults

    slop, queue = node_sync_defaults()
    pairer = ApproxTimePairer(2, queue, slop)
    th_of: dict[int, int] = {}
    events = sorted([(s, 0) for s in rgbs] + [(s, 1) for s in ths])
    for s, i in events:
        for r, t in pairer.add(i, s, s):
            th_of[r] = t

    ckpt = load_checkpoint(checkpoint)  # class names and palette
    palette = ckpt["palette"]
    num_classes = len(ckpt["class_names"])
    cm = ConfusionMatrix(num_classes)
    matched = 0
    for s, pred in seg.items():
        gt = labels.get(s)
        if gt is not None and gt.shape == pred.shape:
            cm.update(pred, gt)
            matched += 1
    stamps_ok = all(s in rgbs for s in seg)

    norm = ThermalNorm(mode="fixed", low=float(thermal_counts[0]), high=float(thermal_counts[1]))
    common = sorted(s for s in seg if s in fused and s in over and s in rgbs)

    def thermal_tile(s: int) -> np.ndarray:
        t = th_of.get(s)
        if t is None:  # nearest thermal frame
            t = min(ths, key=lambda x: abs(x - s))
        return thermal_preview(norm(ths[t]))

    sheet_path = gif_path = None
    if common:
        idx = np.linspace(0, len(common) - 1, min(6, len(common))).round().astype(int)
        rows = []
        for i in idx:
            s = common[i]
            rows.append([rgbs[s], thermal_tile(s), fused[s],
                         seg_color.get(s, colorize(seg[s], palette)), over[s],
                         colorize(labels[s], palette) if s in labels else np.zeros_like(rgbs[s])])
        titles = [f"stamp {common[i] / 1e9:.3f} s (sim time)" for i in idx]
        sheet = contact_sheet(rows, ["RGB", "thermal (mono16)", "fused", "segmentation",
                                     "overlay", "ground truth"], titles, tile_width=200)
        sheet_path = save_png(out / "contact_sheet.png", sheet)
        step = max(1, int(np.ceil(len(common) / cfg.gif_max_frames)))
        frames = [side_by_side([rgbs[s], thermal_tile(s), fused[s], over[s]],
                               ["RGB", "thermal", "fused", "overlay"], tile_width=200)
                  for s in common[::step]]
        fps = min(10.0, cfg.rgb_rate * cfg.rate / step)
        gif_path = save_gif(out / "preview.gif", frames, fps=fps)

    diag = live["diagnostics"]
    inf = diag.get("inference", {})

    def num(v: Any) -> float:
        try:
            return float(v)
        except (TypeError, ValueError):
            return float("nan")

    outputs = len(seg)
    metrics = {
        "input_bag": str(synth.path),
        "recorded_bag": str(out / "recorded_bag"),
        "frames": {"rgb": len(rgbs), "thermal": len(ths), "labels": len(labels)},
        "published": live["published"],
        "clock_messages": live["clock_messages"],
        "possible_pairs": len(th_of),
        "outputs": {t: len(rec[t]) for t in rec_topics},
        "output_ratio": outputs / len(th_of) if th_of else float("nan"),
        "output_stamps_match_rgb": stamps_ok,
        "labelled_outputs": matched,
        "miou": float(cm.miou()) if matched else float("nan"),
        "iou": {n: float(v) for n, v in zip(ckpt["class_names"], cm.iou(), strict=False)},
        "latency_ms": {
            "inference_p50": num(inf.get("inference_p50_ms")),
            "inference_p95": num(inf.get("inference_p95_ms")),
            "model_p50": num(inf.get("model_p50_ms")),
            "end_to_end_p50": num(inf.get("e2e_age_p50_ms")),
            "end_to_end_p95": num(inf.get("e2e_age_p95_ms")),
        },
        "node_counters": {k: inf.get(k) for k in ("synced_pairs", "processed", "dropped_busy",
                                                  "inference_errors")},
        "diagnostics": diag,
        "label_info": live["label_info"],
        "node_exit_code": live["node_exit_code"],
        "contact_sheet": str(sheet_path) if sheet_path else None,
        "preview": str(gif_path) if gif_path else None,
        "replay_rate": cfg.rate,
    }
    if not seg:
        metrics["warning"] = ("the node published no segmentation: see node.log "
                              f"({out / 'node.log'})")
    return metrics


def summary(m: dict, out: Path) -> str:
    lat = m["latency_ms"]
    nc = m["node_counters"]
    lines = [
        "",
        "=" * 72,
        "sccosf demo: synthetic RGB-thermal bag -> live sccosf_node -> recorded outputs",
        f"  node outputs: {m['outputs'][NODE_NS + '/segmentation']} segmentation frames for "
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
        lines.append(f"  bag-eval (every pair, offline): {be['pairs']} pairs, mIoU "
                     f"{_fmt(be['miou'])}, {_fmt(be['throughput_pairs_per_s'])} pairs/s")
    lines += [
        f"  took {m['timings']['total_s']:.0f} s ({m['ros']})",
        "where to look:",
        f"  {out / 'contact_sheet.png'}   sampled frames: RGB | thermal | fused | segmentation"
        " | overlay | ground truth",
        f"  {out / 'preview.gif'}         animation: RGB | thermal | fused | overlay",
        f"  {out / 'metrics.json'}        all figures",
        f"  {out / 'recorded_bag'}        the node's outputs as a rosbag2 "
        f"(sccosf replay {out / 'recorded_bag'})",
        f"  {out / 'node.log'}            the node's log",
        "=" * 72,
    ]
    if be:
        lines.insert(-2, f"  {out / 'bag_eval'}            offline bag-eval of the same bag")
    if m.get("warning"):
        lines.insert(3, f"  WARNING: {m['warning']}")
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if f != f else (f"{f:.4f}" if abs(f) < 1 else f"{f:.1f}")
