"""``sccosf demo`` (``make demo``): the whole product on this machine, in a minute or two.

1. write a synthetic RGB-thermal rosbag2 (RGB 10 Hz rgb8, thermal 8.7 Hz mono16 raw counts,
   mono8 labels; ``sccosf_ros.synthetic``) and the node's parameter file for it,
   ``demo_params.yaml`` (the shipped checkpoint, the thermal range it was trained with);
2. start the real ``sccosf_node`` as a subprocess with ``config/sccosf.yaml`` + that file and
   ``use_sim_time`` (``ros.node_process``);
3. replay the bag to it with ``/clock`` (``replay.BagPlayer``) while a recorder node writes the
   node's outputs, ``/diagnostics`` and ``~/label_info`` to a rosbag2;
4. write ``outputs/demo/``: ``contact_sheet.png``, ``preview.gif`` (RGB | thermal | fused |
   overlay), ``metrics.json`` (mIoU of the recorded segmentation against the bag's labels
   matched by stamp, latency from ``/diagnostics``, counts), ``recorded_bag/``, ``input_bag/``,
   ``node.log``, and ``bag_eval/`` (the same bag through ``sccosf bag-eval`` with the same
   parameter files, for comparison);
5. print where to look.

Unless ``ROS_DOMAIN_ID`` is set, the demo picks a private domain on localhost so it never talks to
(or disturbs) other ROS 2 processes (``ros.dds.isolate_ros_domain``); its own DDS participant
(player and recorder) gets the package's large-image profile, as the node does
(``ros.dds.large_image_profile``). The node subprocess is always stopped, also on errors and
Ctrl-C (SIGINT, then SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sccosf_ros.bag.bag_io import BagReader, stamp_ns
from sccosf_ros.jsonio import write_json
from sccosf_ros.pipeline.outputs import DEFAULT_NAMESPACE, output_topics
from sccosf_ros.ros.dds import isolate_ros_domain

PARAMS_FILE = "demo_params.yaml"


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
    backend: str = "torch"  # node parameter backend (node and bag-eval)
    cache_dir: Path | None = None  # node parameter backend.cache_dir (None: the default)
    run_bag_eval: bool = True
    node_start_timeout: float = 180.0
    drain_timeout: float = 20.0  # s to wait for the last outputs after the replay
    gif_max_frames: int = 60
    progress: bool = True


def demo_param_values(cfg: DemoConfig, checkpoint: Path) -> dict[str, Any]:
    """What the demo sets on top of config/sccosf.yaml (node and bag-eval alike)."""
    from sccosf_ros.synthetic import THERMAL_COUNTS

    lo, hi = (float(v) for v in THERMAL_COUNTS)
    return {
        "checkpoint": str(checkpoint),
        "device": cfg.device,
        "num_threads": int(cfg.threads),
        "thermal.normalization": "fixed",
        "thermal.low": lo,
        "thermal.high": hi,
        "output_qos.depth": 10,  # deeper than the default 2: the recorder misses nothing
        "backend": cfg.backend,
        **({"backend.cache_dir": str(cfg.cache_dir)} if cfg.cache_dir else {}),
        # a graph backend gets the frame size as its inference size (the same computation:
        # nothing is resized), so the node loads its graph before it reports ready instead of
        # on the first pair, while the short recording plays
        **(
            {"inference.height": cfg.height, "inference.width": cfg.width}
            if cfg.backend != "torch"
            else {}
        ),
    }


def prepare_backend(cfg: DemoConfig, params: Any) -> None:
    """Export (or find in the cache) the graph a non-torch backend needs at the bag's frame
    size before the node starts, so the node's first pairs do not wait for the export."""
    if cfg.backend == "torch":
        return
    from sccosf_ros.pipeline.processor import StartupError, load_predictor

    _say(f"      backend {cfg.backend}: preparing its {cfg.height}x{cfg.width} graph ...")
    try:
        load_predictor(params)
    except StartupError as e:
        raise DemoError(str(e)) from None


def params_files(out: Path) -> list[Path]:
    """The node's parameter files for the demo: the package's defaults, then the demo's."""
    from sccosf_ros.paths import find_share_file

    base = find_share_file("config/sccosf.yaml")
    return [*([base] if base is not None else []), out / PARAMS_FILE]


def _clean_outputs(out: Path) -> None:
    """Remove what an earlier demo run wrote (only the demo's own products)."""
    for name in ("input_bag", "recorded_bag", "bag_eval"):
        if (out / name).exists():
            shutil.rmtree(out / name)
    for name in ("contact_sheet.png", "preview.gif", "metrics.json", "node.log", PARAMS_FILE):
        (out / name).unlink(missing_ok=True)


def _checkpoint(cfg: DemoConfig) -> Path:
    from sccosf_ros.paths import default_checkpoint

    ckpt = Path(cfg.checkpoint) if cfg.checkpoint else default_checkpoint()
    if not ckpt.is_file():
        raise DemoError(
            f"the demo checkpoint {str(ckpt)!r} is missing. models/README.md says how to get "
            "it (the exact `sccosf train` command on synthetic data); or pass --checkpoint "
            "FILE / set SCCOSF_CHECKPOINT"
        )
    return ckpt


def _check(cfg: DemoConfig, ckpt: Path) -> None:
    """Bad settings fail here, before anything is written (ValueError / ParameterError)."""
    from sccosf_ros.pipeline.params import NodeParams

    for name in ("duration", "rgb_rate", "thermal_rate", "rate"):
        value = getattr(cfg, name)
        if not value > 0:  # also NaN
            raise ValueError(f"--{name.replace('_', '-')} must be > 0, got {value}")
    if cfg.threads < 0:
        raise ValueError(f"--threads must be >= 0 (0 = torch's default), got {cfg.threads}")
    NodeParams.from_dict(demo_param_values(cfg, ckpt))  # the node would refuse these


def run_demo(cfg: DemoConfig) -> dict:
    """Run the demo; returns metrics (also written to ``out/metrics.json``)."""
    from sccosf_ros.pipeline.params import read_params_files, write_params_file
    from sccosf_ros.ros.node_process import node_command

    t_start = time.perf_counter()
    ckpt = _checkpoint(cfg)
    _check(cfg, ckpt)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    _clean_outputs(out)
    domain = isolate_ros_domain()
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    synth = _write_bag(cfg, out)
    timings["write_bag_s"] = time.perf_counter() - t0
    write_params_file(
        out / PARAMS_FILE,
        demo_param_values(cfg, ckpt),
        header="sccosf demo: the node's parameters on top of config/sccosf.yaml",
    )
    params = read_params_files(params_files(out))  # what the node and bag-eval run with
    t0 = time.perf_counter()
    prepare_backend(cfg, params)
    timings["prepare_backend_s"] = time.perf_counter() - t0
    scfg = synth.config
    cmd = node_command(
        params_files=params_files(out),
        params={"use_sim_time": True},
        remaps={"rgb/image_raw": scfg.rgb_topic, "thermal/image_raw": scfg.thermal_topic},
    )
    t0 = time.perf_counter()
    live = _LiveRun(cfg, cmd, out, scfg).run()
    timings.update(live.pop("timings"))
    timings["live_total_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    metrics = analyse(out, synth, live, cfg, ckpt, params)
    timings["analysis_s"] = time.perf_counter() - t0
    metrics.update(
        {
            "ros": domain,
            "checkpoint": str(ckpt),
            "backend": cfg.backend,
            "node_command": " ".join(cmd),
        }
    )
    if cfg.run_bag_eval:
        t0 = time.perf_counter()
        metrics["bag_eval"] = _bag_eval(cfg, out, synth, params)
        timings["bag_eval_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_start
    metrics["timings"] = timings
    write_json(out / "metrics.json", metrics)
    print(summary(metrics, out))
    return metrics


def _write_bag(cfg: DemoConfig, out: Path) -> Any:
    from sccosf_ros.synthetic import BagSettings, write_synthetic_bag

    scfg = BagSettings(
        storage=cfg.storage,
        duration=cfg.duration,
        rgb_rate=cfg.rgb_rate,
        thermal_rate=cfg.thermal_rate,
        height=cfg.height,
        width=cfg.width,
        seed=cfg.seed,
        night=cfg.night,
        show_progress=cfg.progress,
    )
    synth = write_synthetic_bag(out / "input_bag", scfg)
    _say(
        f"[1/4] synthetic bag: {len(synth.rgb_stamps)} RGB, {len(synth.thermal_stamps)} "
        f"thermal (mono16), {len(synth.label_stamps)} labels, {cfg.duration:.0f} s, "
        f"{cfg.storage} -> {synth.path}"
    )
    return synth


def _bag_eval(cfg: DemoConfig, out: Path, synth: Any, params: Any) -> dict:
    """The same bag through ``sccosf bag-eval`` with the node's own parameters."""
    from sccosf_ros.bag.bag_eval import BagEvalConfig, evaluate_bag

    _say("[4/4] bag-eval on the same bag, same parameter files (every pair, no drops) ...")
    scfg = synth.config
    bm = evaluate_bag(
        BagEvalConfig(
            bag=synth.path,
            rgb_topic=scfg.rgb_topic,
            thermal_topic=scfg.thermal_topic,
            label_topic=scfg.label_topic,
            out=out / "bag_eval",
            params=params,
            progress=cfg.progress,
        )
    )
    return {
        k: bm.get(k)
        for k in (
            "pairs",
            "miou",
            "throughput_pairs_per_s",
            "latency_ms",
            "fusion",
            "metrics_file",
            "contact_sheet",
            "output_bag",
        )
    }


def _say(text: str) -> None:
    print(text, flush=True)


class _LiveRun:
    """Node subprocess + recorder + replay with /clock; ``run()`` returns counts and timings."""

    def __init__(self, cfg: DemoConfig, cmd: list[str], out: Path, scfg: Any) -> None:
        self.cfg, self.cmd, self.out, self.scfg = cfg, cmd, out, scfg
        self.timings: dict[str, float] = {}
        self.topics = output_topics(DEFAULT_NAMESPACE)
        self.label_info: str | None = None
        self.last_diagnostics: Any = None
        self.dds_note = ""

    def run(self) -> dict:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.signals import SignalHandlerOptions

        from sccosf_ros.bag.recorder import TopicRecorder
        from sccosf_ros.ros.dds import large_image_profile
        from sccosf_ros.ros.node_process import NodeProcess

        self.node = NodeProcess(self.cmd, self.out / "node.log")
        ctx = Context()
        self.recorder = self.player = self.rec_node = spin_thread = executor = None
        try:
            t0 = time.perf_counter()
            self.recorder = TopicRecorder(self.out / "recorded_bag", self.cfg.storage)
            # The profile for this process's DDS participant (created with its first node),
            # which the player's images leave from; the node applies it to its own.
            with large_image_profile() as self.dds_note:
                rclpy.init(context=ctx, signal_handler_options=SignalHandlerOptions.NO)
                self._subscribe(ctx)
            executor = SingleThreadedExecutor(context=ctx)
            executor.add_node(self.rec_node)
            spin_thread = threading.Thread(target=_spin, args=(executor,), daemon=True)
            spin_thread.start()
            self._open_player(ctx)
            self._wait_ready()
            self.timings["node_start_s"] = time.perf_counter() - t0
            _say(f"      node ready after {self.timings['node_start_s']:.1f} s")
            result = self._replay()
        finally:
            code = self.node.stop()
            if executor is not None:
                executor.shutdown(timeout_sec=2.0)
            if spin_thread is not None:
                spin_thread.join(timeout=5.0)
            self._close()
            if ctx.ok():
                rclpy.shutdown(context=ctx)
        result.update(
            {
                "recorded": dict(self.recorder.counts),
                "label_info": self.label_info,
                "node_exit_code": code,
                "timings": self.timings,
            }
        )
        return result

    def _subscribe(self, ctx: Any) -> None:
        """Record the node's outputs, /diagnostics and ~/label_info (keeping the latest)."""
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.node import Node
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image

        from sccosf_ros.ros.label_info import label_info_type
        from sccosf_ros.ros.qos import latched_qos

        self.rec_node = node = Node("sccosf_demo_recorder", context=ctx)
        out_qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        rec = self.recorder
        self.subs = {t: rec.subscribe(node, Image, t, out_qos) for t in self.topics.values()}
        rec.subscribe(
            node,
            DiagnosticArray,
            "/diagnostics",
            QoSProfile(depth=20),
            on_message=lambda m: setattr(self, "last_diagnostics", m),
        )
        rec.subscribe(
            node,
            label_info_type(),
            f"{DEFAULT_NAMESPACE}/label_info",
            latched_qos(),
            on_message=lambda m: setattr(self, "label_info", m.data),
        )

    def _open_player(self, ctx: Any) -> None:
        from sccosf_ros.bag.replay import BagPlayer, ReplayConfig

        self.player = BagPlayer(
            ReplayConfig(
                bag=self.out / "input_bag",
                rate=self.cfg.rate,
                clock=True,
                topics=[self.scfg.rgb_topic, self.scfg.thermal_topic],
                progress=self.cfg.progress,
            ),
            context=ctx,
        )

    def _wait_ready(self) -> None:
        """Model loaded (label_info), node subscribed to the inputs, outputs matched."""
        _say(f"[2/4] starting sccosf_node (log: {self.node.log_path}) ...")
        _say(f"      player and recorder: {self.dds_note}")
        deadline = time.monotonic() + self.cfg.node_start_timeout
        while not (
            self.label_info is not None
            and all(p.get_subscription_count() > 0 for p in self.player.pubs.values())
            and all(s.get_publisher_count() > 0 for s in self.subs.values())
        ):
            if not self.node.alive():
                raise DemoError(
                    f"sccosf_node exited with code {self.node.proc.returncode} during start-up; "
                    f"last lines of {self.node.log_path}:\n{self.node.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise DemoError(
                    f"sccosf_node did not become ready within {self.cfg.node_start_timeout:.0f}"
                    f" s; last lines of {self.node.log_path}:\n{self.node.log_tail()}"
                )
            time.sleep(0.05)

    def _replay(self) -> dict:
        _say("[3/4] replaying and recording ...")
        t0 = time.perf_counter()
        stats = self.player.play()
        self.timings["replay_s"] = time.perf_counter() - t0
        if stats.interrupted:
            raise KeyboardInterrupt
        t0 = time.perf_counter()
        self._drain()
        time.sleep(1.2)  # one more /diagnostics period after the last output
        self.timings["drain_s"] = time.perf_counter() - t0
        return {
            "published": dict(stats.published),
            "clock_messages": stats.clock_messages,
            "diagnostics": self._diagnostics(),
        }

    def _drain(self) -> None:
        """Keep the sim clock moving until the node's last outputs are in (or it stalls)."""
        seg_topic = self.topics["segmentation"]
        end_ns, t0 = self.player.reader.end_time, time.perf_counter()
        last_count, last_change = -1, time.monotonic()
        while time.perf_counter() - t0 < self.cfg.drain_timeout and self.node.alive():
            self.player.publish_clock(
                end_ns + int((time.perf_counter() - t0) * self.cfg.rate * 1e9)
            )
            n = self.recorder.counts.get(seg_topic, 0)
            if n != last_count:
                last_count, last_change = n, time.monotonic()
            elif time.monotonic() - last_change > 1.5:
                break
            time.sleep(0.01)

    def _diagnostics(self) -> dict[str, dict[str, str]]:
        from sccosf_ros.ros.diagnostics import values_of

        diag: dict[str, dict[str, str]] = {}
        if self.last_diagnostics is not None:
            for part in ("inputs", "inference", "input quality"):
                with contextlib.suppress(KeyError):
                    diag[part] = values_of(self.last_diagnostics, part)
        return diag

    def _close(self) -> None:
        if self.player is not None:
            self.player.close()
        if self.rec_node is not None:
            self.rec_node.destroy_node()
        if self.recorder is not None:
            self.recorder.close()


def _spin(executor: Any) -> None:
    from rclpy.executors import ExternalShutdownException

    with contextlib.suppress(ExternalShutdownException, KeyboardInterrupt):
        executor.spin()


def _read_images(path: Path, topics: list[str]) -> dict[str, dict[int, Any]]:
    """topic → {stamp_ns: decoded array} for small bags (the demo's)."""
    from sccosf_ros.pipeline.image_codec import decode_image

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
    from sccosf_ros.pipeline.pairing import ApproxTimePairer

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
    from sccosf_ros.inference import load_checkpoint
    from sccosf_ros.metrics.segmentation import SegmentationEvaluator

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
    pictures = _pictures(out, rgbs, ths, labels, rec, th_of, cfg, params, ckpt["palette"])

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


def _pictures(
    out: Path,
    rgbs: dict,
    ths: dict,
    labels: dict,
    rec: dict,
    th_of: dict,
    cfg: DemoConfig,
    params: Any,
    palette: Any,
) -> dict[str, str | None]:
    """contact_sheet.png and preview.gif from the recorded outputs."""
    from sccosf_ros.bag.contact_sheet import (
        contact_sheet,
        save_gif,
        save_png,
        side_by_side,
        thermal_preview,
    )
    from sccosf_ros.classes import colorize

    topics = output_topics(DEFAULT_NAMESPACE)
    fused, seg, seg_color, over = (
        rec[topics[n]] for n in ("fused", "segmentation", "segmentation_color", "overlay")
    )
    common = sorted(s for s in seg if s in fused and s in over and s in rgbs)
    if not common:
        return {"contact_sheet": None, "preview": None}
    norm = params.thermal_norm()

    def thermal_tile(s: int) -> np.ndarray:
        t = th_of.get(s)
        if t is None:  # nearest thermal frame
            t = min(ths, key=lambda x: abs(x - s))
        return thermal_preview(norm(ths[t]))

    idx = np.linspace(0, len(common) - 1, min(6, len(common))).round().astype(int)
    rows = [
        [
            rgbs[s],
            thermal_tile(s),
            fused[s],
            seg_color.get(s, colorize(seg[s], palette)),
            over[s],
            colorize(labels[s], palette) if s in labels else np.zeros_like(rgbs[s]),
        ]
        for s in (common[i] for i in idx)
    ]
    titles = [f"stamp {common[i] / 1e9:.3f} s (sim time)" for i in idx]
    sheet = contact_sheet(
        rows,
        ["RGB", "thermal (mono16)", "fused", "segmentation", "overlay", "ground truth"],
        titles,
        tile_width=200,
    )
    sheet_path = save_png(out / "contact_sheet.png", sheet)
    step = max(1, int(np.ceil(len(common) / cfg.gif_max_frames)))
    frames = [
        side_by_side(
            [rgbs[s], thermal_tile(s), fused[s], over[s]],
            ["RGB", "thermal", "fused", "overlay"],
            tile_width=200,
        )
        for s in common[::step]
    ]
    gif_path = save_gif(out / "preview.gif", frames, fps=min(10.0, cfg.rgb_rate * cfg.rate / step))
    return {"contact_sheet": str(sheet_path), "preview": str(gif_path)}


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
        f"  {out / PARAMS_FILE}     the node's parameters (also used by bag-eval)",
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
