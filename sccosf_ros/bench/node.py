"""``sccosf bench node``: what the ROS path costs per pair, next to what the model costs.

Two parts, one run, one table each:

1. **Per-pair overhead** (in-process, 640×480 by default): the node's own pipeline per pair
   (``pipeline.processor.PairProcessor``, the code the node runs) without the model — admission
   check + approximate-time sync (``pipeline.pairing``), decode (bgr8 + mono16), colouring
   (segmentation colours + overlay), encode (4 images) and publish (4 rclpy publishers with a
   subscriber in another DDS participant on loopback) — around the ``TrivialModel`` through the
   real ``Predictor``, next to the nano model's own time. Target: overhead ≤ 5 ms per pair.
2. **End-to-end latency over DDS loopback**: the node runs as a separate process, once with
   ``TrivialModel`` (``python -m sccosf_ros.bench.node serve-trivial``, the same node code with the
   predictor swapped) and once as the real ``sccosf_node`` with the nano checkpoint; a camera-like
   best-effort publisher sends bgr8 + mono16 pairs at 10 and 30 Hz, a subscriber to ``~/fused``
   measures send → receive (steady clock); the node's ``/diagnostics`` adds its drop count and
   in-node overhead.

The run gets a private ROS domain on localhost unless ``ROS_DOMAIN_ID`` is set, and every DDS
participant in it (the bench's cameras, subscribers and the nodes) the package's large-image
profile (``ros.dds``). Tables print as Markdown; ``--json`` / ``--markdown`` write them as
``sccosf bench runtime`` does. Figures depend on the machine's load: run it on an idle machine
for numbers to quote.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sccosf_ros.backends.cli_args import add_backend_arguments
from sccosf_ros.bench.common import (
    BenchError,
    add_output_arguments,
    check_checkpoint,
    write_outputs,
)
from sccosf_ros.commands.arg_types import non_negative_int, positive_float, positive_int
from sccosf_ros.inference import Predictor
from sccosf_ros.model import SCCoSFOutput
from sccosf_ros.pipeline.outputs import output_topics
from sccosf_ros.pipeline.pairing import stamp_to_ns
from sccosf_ros.pipeline.params import NodeParams, ParameterError
from sccosf_ros.pipeline.processor import PairProcessor, StartupError, load_predictor
from sccosf_ros.ros.dds import apply_large_image_profile, isolate_ros_domain, large_image_profile
from sccosf_ros.ros.node_process import NodeProcess, node_command

TARGET_OVERHEAD_MS = 5.0
PATH_STAGES = ("sync", "decode", "colour", "encode", "publish")  # the pipeline without the model
STAGES = (*PATH_STAGES, "trivial model", "nano model")


class TrivialModel(nn.Module):
    """The ROS-path baseline: a real (tiny) network with SCCoSF's interface and ~no cost.

    fused = mean of RGB and thermal; logits = one 1×1 convolution of the 4 input channels.
    """

    def __init__(self, num_classes: int = 9) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.head = nn.Conv2d(4, num_classes, kernel_size=1)

    def forward(self, rgb: torch.Tensor, thermal: torch.Tensor) -> SCCoSFOutput:
        th = thermal[:, :1]  # (B,1,H,W)
        fused = (rgb + th) * 0.5  # (B,3,H,W) in [0,1]
        logits = self.head(torch.cat([rgb, th], dim=1))  # (B,C,H,W)
        return SCCoSFOutput(fused=fused, logits=logits)


def trivial_predictor(device: str = "cpu", **kwargs: Any) -> Predictor:
    """A Predictor around TrivialModel with MFNet classes (same code path as a checkpoint)."""
    from sccosf_ros.classes import MFNET_CLASSES, MFNET_PALETTE

    torch.manual_seed(0)
    kwargs.setdefault("class_names", MFNET_CLASSES)
    kwargs.setdefault("palette", MFNET_PALETTE)
    kwargs.setdefault("thermal_norm", {"mode": "fixed", "low": 7000.0, "high": 9000.0})
    return Predictor(TrivialModel(len(MFNET_CLASSES)), device, **kwargs)


# --------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--height", type=positive_int, default=480, help="camera image height")
    parser.add_argument("--width", type=positive_int, default=640, help="camera image width")
    parser.add_argument(
        "--pairs", type=positive_int, default=40, help="pairs for the in-process part"
    )
    parser.add_argument(
        "--rates",
        type=positive_float,
        nargs="+",
        default=[10.0, 30.0],
        help="input rates (Hz) for the end-to-end part",
    )
    parser.add_argument(
        "--duration",
        type=positive_float,
        default=6.0,
        help="seconds of input per rate in the end-to-end part",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint for the model rows (default: the shipped one, else an "
        "untrained nano model: same cost)",
    )
    parser.add_argument(
        "--inference-size",
        type=positive_int,
        nargs=2,
        default=None,
        metavar=("H", "W"),
        help="size the model runs at (default: native)",
    )
    parser.add_argument(
        "--num-threads",
        type=non_negative_int,
        default=0,
        help="torch CPU threads (0 = torch default)",
    )
    parser.add_argument(
        "--input-reliability",
        choices=("best_effort", "reliable"),
        default="best_effort",
        help="QoS of the camera publishers and the node's inputs (cameras: best_effort)",
    )
    add_backend_arguments(parser)
    parser.add_argument("--skip-e2e", action="store_true", help="only the in-process part")
    parser.add_argument(
        "--skip-model-e2e",
        action="store_true",
        help="end-to-end with the trivial model only (the nano node is slow)",
    )
    add_output_arguments(parser)


def _checkpoint(path: Path | None, tmp: Path) -> Path:
    from sccosf_ros.paths import default_checkpoint

    if path is not None:
        return path
    shipped = default_checkpoint()
    if shipped.is_file():
        return shipped
    from sccosf_ros.classes import MFNET_CLASSES, MFNET_PALETTE
    from sccosf_ros.inference import save_checkpoint
    from sccosf_ros.model import build_model

    torch.manual_seed(0)
    out = tmp / "nano_untrained.pt"
    save_checkpoint(
        out,
        build_model("nano", num_classes=len(MFNET_CLASSES)),
        class_names=MFNET_CLASSES,
        palette=MFNET_PALETTE,
        dataset="synthetic",
        thermal_norm={"mode": "fixed", "low": 7000.0, "high": 9000.0},
    )
    print(f"(no shipped checkpoint: timing an untrained nano model, {out})")
    return out


def _frames(h: int, w: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        rng.integers(7000, 9000, (h, w), dtype=np.uint16),
    )


def _msgs(rgb: np.ndarray, thermal: np.ndarray, stamp_ns: int) -> tuple[Any, Any]:
    """A camera-like pair: bgr8 RGB and mono16 thermal ``sensor_msgs/Image`` with one stamp
    (``pipeline.image_codec.encode_image``, the node's own encoder)."""
    from builtin_interfaces.msg import Time
    from std_msgs.msg import Header

    from sccosf_ros.pipeline.image_codec import encode_image

    stamp = Time(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000)
    return (
        encode_image(rgb[..., ::-1], "bgr8", Header(stamp=stamp, frame_id="rgb")),
        encode_image(thermal, "mono16", Header(stamp=stamp, frame_id="thermal")),
    )


def _pct(values: list[float], q: float) -> float:
    return (
        float(np.percentile(np.asarray(values, dtype=np.float64), q))
        if len(values)
        else (float("nan"))
    )


# --------------------------------------------------------------------------- part 1
class _Loopback:
    """The node's four output publishers with a subscriber in another DDS participant."""

    def __init__(self) -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image

        self.pub_ctx, self.sub_ctx = Context(), Context()
        with large_image_profile():  # as the node's own publishers have it
            rclpy.init(context=self.pub_ctx)
            rclpy.init(context=self.sub_ctx)
            self.pub_node = rclpy.create_node("bench_pub", context=self.pub_ctx)
            self.sub_node = rclpy.create_node("bench_sub", context=self.sub_ctx)
        qos = QoSProfile(depth=2, reliability=ReliabilityPolicy.RELIABLE)
        self.pubs = {
            name: self.pub_node.create_publisher(Image, topic, qos)
            for name, topic in output_topics("/bench_overhead").items()
        }
        self.received = 0
        for topic in output_topics("/bench_overhead").values():
            self.sub_node.create_subscription(Image, topic, self._count, qos)
        self.ex = SingleThreadedExecutor(context=self.sub_ctx)
        self.ex.add_node(self.sub_node)
        self.spin = threading.Thread(
            target=_spin_until_shutdown, args=(self.ex, self.sub_ctx), daemon=True
        )
        self.spin.start()
        deadline = time.monotonic() + 20
        while (
            any(p.get_subscription_count() == 0 for p in self.pubs.values())
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)

    def _count(self, _msg: object) -> None:
        self.received += 1

    def close(self) -> None:
        import rclpy

        time.sleep(0.5)  # let the last messages arrive
        rclpy.shutdown(context=self.sub_ctx)
        self.spin.join(5)
        self.pub_node.destroy_node()
        self.sub_node.destroy_node()
        rclpy.shutdown(context=self.pub_ctx)


def _bench_params(args: argparse.Namespace) -> NodeParams:
    values = {"thermal.normalization": "fixed", "thermal.low": 7000.0, "thermal.high": 9000.0}
    if args.inference_size:
        values["inference.height"], values["inference.width"] = args.inference_size
    return NodeParams.from_dict(values)


def _backend_params(args: argparse.Namespace) -> dict[str, Any]:
    """The node parameters ``--backend`` / ``--cache-dir`` set (the nano rows only)."""
    values: dict[str, Any] = {"backend": args.backend}
    if args.cache_dir is not None:
        values["backend.cache_dir"] = str(args.cache_dir)
    return values


def bench_overhead(args: argparse.Namespace, ckpt: Path) -> dict[str, dict[str, float]]:
    """Per-stage milliseconds per pair (p50, p95) of the node's own pipeline, and the models.

    The stages are the node's: ``PairProcessor.admit`` + the approximate-time synchronizer,
    ``PairProcessor.process`` (decode, model, colour), ``encode`` and rclpy publishing.
    """
    from sccosf_ros.inference import Predictor
    from sccosf_ros.pipeline.pairing import ApproximateTimeSynchronizer, SimpleFilter

    rgb, thermal = _frames(args.height, args.width)
    try:
        params = _bench_params(args)
        nano = load_predictor(
            NodeParams.from_dict(
                {**params.to_dict(), "checkpoint": str(ckpt), "device": "cpu"}
                | _backend_params(args)
            )
        )
    except (ParameterError, StartupError) as e:
        raise BenchError(str(e)) from None
    processor = PairProcessor(params, trivial_predictor(input_size=params.inference_size))
    assert isinstance(nano, Predictor)
    nano.predict(rgb, thermal)  # a non-torch backend exports here (cached for the node too)
    loop = _Loopback()
    inputs = [SimpleFilter(), SimpleFilter()]
    sync = ApproximateTimeSynchronizer(inputs, params.sync_queue_size, params.sync_slop)
    synced: list = []
    sync.registerCallback(lambda a, b: synced.append((a, b)))

    times: dict[str, list[float]] = {k: [] for k in STAGES}
    base = time.time_ns()
    for i in range(max(args.pairs, 3)):
        msgs = _msgs(rgb, thermal, base + i * 33_000_000)
        t0 = time.perf_counter()
        for k, (stream, msg) in enumerate(zip(("rgb", "thermal"), msgs)):
            if processor.admit(stream, msg):
                inputs[k].signalMessage(msg)
        t1 = time.perf_counter()
        a, b = synced.pop()
        out = processor.process(a, b)
        t2 = time.perf_counter()
        encoded = processor.encode(out, a.header)
        t3 = time.perf_counter()
        for name, m in encoded.items():
            loop.pubs[name].publish(m)
        t4 = time.perf_counter()
        if i == 0:
            continue  # first pair warms caches
        t = out.timings_ms
        for k, ms in (
            ("sync", (t1 - t0) * 1e3),
            ("decode", t["decode"]),
            ("trivial model", t["inference"]),
            ("colour", t["render"]),
            ("encode", (t3 - t2) * 1e3),
            ("publish", (t4 - t3) * 1e3),
        ):
            times[k].append(ms)
    nano.predict(rgb, thermal)  # warm-up
    for _ in range(max(3, min(args.pairs, 5))):
        times["nano model"].append(nano.predict(rgb, thermal).timings_ms["total"])
    loop.close()

    result = {k: {"p50": _pct(v, 50), "p95": _pct(v, 95), "n": len(v)} for k, v in times.items()}
    per_pair = [sum(times[k][i] for k in PATH_STAGES) for i in range(len(times["decode"]))]
    result["ROS path total"] = {
        "p50": _pct(per_pair, 50),
        "p95": _pct(per_pair, 95),
        "n": len(per_pair),
    }
    result["_received"] = {"p50": float(loop.received), "p95": float("nan"), "n": 0}
    return result


def _spin_until_shutdown(ex: Any, ctx: Any) -> None:
    try:
        while ctx.ok():
            ex.spin_once(timeout_sec=0.05)
    except Exception:
        pass


# --------------------------------------------------------------------------- part 2
class _Probe:
    """Two camera-like publishers (one DDS participant each, like two driver processes) and a
    ~/fused + /diagnostics subscriber in a third."""

    def __init__(self, ns: str, reliability: str = "best_effort") -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import Image

        self.ns = ns
        self.ctx = Context()
        cam_qos = (
            qos_profile_sensor_data
            if reliability == "best_effort"
            else QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        )
        self.cams = []
        # The cameras' best-effort frames are larger than Fast DDS's default shared-memory
        # segment: their participants get the profile the node and the player use.
        with large_image_profile():
            rclpy.init(context=self.ctx)
            self.node = rclpy.create_node("sccosf_bench_probe", context=self.ctx)
            for name in ("rgb", "thermal"):
                ctx = Context()
                rclpy.init(context=ctx)
                self.cams.append((ctx, rclpy.create_node(f"bench_{name}_camera", context=ctx)))
        self.rgb_pub = self.cams[0][1].create_publisher(Image, f"{ns}/rgb/image_raw", cam_qos)
        self.th_pub = self.cams[1][1].create_publisher(Image, f"{ns}/thermal/image_raw", cam_qos)
        self.lock = threading.Lock()
        self.recv: dict[int, float] = {}
        self.diag: dict[str, str] = {}
        self.node.create_subscription(
            Image,
            f"{ns}/sccosf/fused",
            self._on_fused,
            QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE),
        )
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, 10)
        self.ex = SingleThreadedExecutor(context=self.ctx)
        self.ex.add_node(self.node)
        self.thread = threading.Thread(
            target=_spin_until_shutdown, args=(self.ex, self.ctx), daemon=True
        )
        self.thread.start()

    def _on_fused(self, msg: Any) -> None:
        now = time.monotonic()
        stamp = stamp_to_ns(msg.header.stamp)
        with self.lock:
            self.recv[stamp] = now

    def _on_diag(self, msg: Any) -> None:
        for st in msg.status:
            if st.name in (f"{self.ns}/sccosf: inference", f"{self.ns}/sccosf: inputs"):
                with self.lock:
                    self.diag.update({kv.key: kv.value for kv in st.values})

    def wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.rgb_pub.get_subscription_count() and self.th_pub.get_subscription_count():
                return True
            time.sleep(0.05)
        return False

    def stream(
        self, rgb: np.ndarray, thermal: np.ndarray, rate: float, duration: float
    ) -> dict[int, float]:
        sent: dict[int, float] = {}
        t0 = time.monotonic()
        for k in range(int(rate * duration)):
            delay = t0 + k / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            stamp = time.time_ns()
            m_rgb, m_th = _msgs(rgb, thermal, stamp)
            sent[stamp] = time.monotonic()
            self.rgb_pub.publish(m_rgb)
            self.th_pub.publish(m_th)
        return sent

    def close(self) -> None:
        import rclpy

        rclpy.shutdown(context=self.ctx)
        self.thread.join(5)
        self.node.destroy_node()
        for ctx, node in self.cams:
            node.destroy_node()
            rclpy.shutdown(context=ctx)


def _start_node(
    kind: str, ns: str, ckpt: Path, args: argparse.Namespace, log_dir: Path
) -> NodeProcess:
    """The real node (nano checkpoint) or the same node code around TrivialModel."""
    params = {
        "diagnostics.period": 0.5,
        "thermal.normalization": "fixed",
        "thermal.low": 7000.0,
        "thermal.high": 9000.0,
        "num_threads": args.num_threads,
        "input_qos.reliability": args.input_reliability,
    }
    if args.inference_size:
        params["inference.height"], params["inference.width"] = args.inference_size
    if kind == "trivial":
        cmd = node_command(
            module="sccosf_ros.bench.node",
            args=["serve-trivial"],
            params=params,
            remaps={"__ns": ns},
        )
    else:
        cmd = node_command(
            params={**params, "checkpoint": str(ckpt), **_backend_params(args)},
            remaps={"__ns": ns},
        )
    return NodeProcess(cmd, log_dir / f"node_{kind}.log")


def bench_e2e(args: argparse.Namespace, ckpt: Path, kind: str, log_dir: Path) -> list[dict]:
    ns = f"/bench_{kind}"
    proc = _start_node(kind, ns, ckpt, args, log_dir)
    probe = _Probe(ns, args.input_reliability)
    rows = []
    try:
        _wait_ready(proc, kind)
        if not probe.wait_connected(30):
            raise BenchError(f"the {kind} node never subscribed to the camera topics")
        rgb, thermal = _frames(args.height, args.width)
        probe.stream(rgb, thermal, 5.0, 1.0)  # warm-up: discovery, first-run costs
        time.sleep(2.0)
        deadline = time.monotonic() + 120  # a non-torch backend loads its graph on pair 1
        while not probe.recv and time.monotonic() < deadline:
            probe.stream(rgb, thermal, 2.0, 1.0)
            time.sleep(1.0)
        for rate in args.rates:
            with probe.lock:
                probe.recv.clear()
                d0 = dict(probe.diag)
            sent = probe.stream(rgb, thermal, rate, args.duration)
            time.sleep(1.5)  # let the last pair come out
            with probe.lock:
                recv = dict(probe.recv)
                d1 = dict(probe.diag)
            lat = [(recv[s] - t) * 1e3 for s, t in sent.items() if s in recv]

            def delta(key: str, d0: dict = d0, d1: dict = d1) -> int:
                return int(d1.get(key, 0)) - int(d0.get(key, 0))

            dropped, synced = delta("dropped_busy"), delta("synced_pairs")
            rows.append(
                {
                    "model": kind if kind == "trivial" else f"{kind}/{args.backend}",
                    "rate": rate,
                    "sent": len(sent),
                    "out": len(lat),
                    "rgb_in": delta("rgb_received"),
                    "th_in": delta("thermal_received"),
                    "synced": synced,
                    "p50": _pct(lat, 50),
                    "p95": _pct(lat, 95),
                    "dropped": dropped,
                    "dropped_pct": 100.0 * dropped / max(synced, 1),
                    "node_overhead_p50": float(d1.get("overhead_p50_ms", "nan")),
                    "node_inference_p50": float(d1.get("inference_p50_ms", "nan")),
                }
            )
    finally:
        probe.close()
        proc.stop(20)
    return rows


def _wait_ready(proc: NodeProcess, kind: str) -> None:
    """The node's ``ready:`` line, or a BenchError naming why it did not start (its own error
    line when it printed one: the log goes with the temporary folder)."""
    try:
        proc.wait_ready(120)
    except RuntimeError as e:
        lines = [ln.strip() for ln in proc.log().splitlines() if ln.strip()]
        said = next((ln for ln in reversed(lines) if "error:" in ln), lines[-1] if lines else "")
        why = str(e).splitlines()[0].rstrip(":")
        raise BenchError(
            f"the {kind} node did not start ({why})" + (f": {said}" if said else "")
        ) from None


# --------------------------------------------------------------------------- report
def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, first column left-aligned, the figures right-aligned."""
    return [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _overhead_report(res: dict[str, dict[str, float]]) -> str:
    """Part 1 as Markdown: per-stage p50/p95 and the verdict against the 5 ms target."""
    rows = [
        [k, f"{res[k]['p50']:.2f}", f"{res[k]['p95']:.2f}"]
        for k in (*PATH_STAGES, "ROS path total", "trivial model", "nano model")
    ]
    rows.append(["(sum of stage p50s)", f"{sum(res[k]['p50'] for k in PATH_STAGES):.2f}", ""])
    total, nano = res["ROS path total"]["p50"], res["nano model"]["p50"]
    verdict = "meets" if total <= TARGET_OVERHEAD_MS else "misses"
    return "\n".join(
        [
            f"1) per-pair cost, in-process ({res['decode']['n']} pairs; ms)",
            "",
            *_md_table(["stage", "p50", "p95"], rows),
            "",
            f"ROS path overhead {total:.2f} ms/pair {verdict} the {TARGET_OVERHEAD_MS:.0f} ms "
            f"target; it is {100 * total / nano:.1f}% of the nano model's {nano:.0f} ms",
        ]
    )


def _e2e_report(rows: list[dict]) -> str:
    """Part 2 as Markdown: one row per model and rate, the 10 Hz verdict, how to read it."""
    header = ["model", "rate Hz", "sent", "rgb in", "th in", "synced", "out", "dropped"]
    header += ["drop %", "p50", "p95", "node ovh p50", "node infer p50"]
    table = [
        [r["model"], f"{r['rate']:.0f}"]
        + [str(r[k]) for k in ("sent", "rgb_in", "th_in", "synced", "out", "dropped")]
        + [f"{r['dropped_pct']:.1f}", f"{r['p50']:.1f}", f"{r['p95']:.1f}"]
        + [f"{r['node_overhead_p50']:.2f}", f"{r['node_inference_p50']:.1f}"]
        for r in rows
    ]
    lines = ["2) end-to-end over DDS loopback, publish -> ~/fused received (ms)", ""]
    lines += _md_table(header, table)
    for r in rows:
        if r["model"] != "trivial" and r["rate"] == 10.0:
            ok = r["dropped_pct"] < 10.0
            lines += [
                "",
                f"{r['model']} at 10 Hz: {r['dropped_pct']:.1f} % of synced pairs dropped "
                f"while busy: {'keeps up' if ok else 'does not keep up'} (target < 10 %)",
            ]
    lines += [
        "",
        "node ovh = decode + colour + encode + publish inside the node's worker; 'out' < "
        "'synced' when pairs arrive faster than the model runs (one-slot buffer: the newest "
        "wins).",
    ]
    if any(min(r["rgb_in"], r["th_in"]) < 0.9 * r["sent"] for r in rows):
        lines.append(
            "Inputs were lost before the node ('rgb in'/'th in' < 'sent'): best-effort frames "
            "dropped on the way (a busy host, or a DDS set-up without the large-image profile: "
            "see the DDS line at the top); --input-reliability reliable measures without such "
            "losses."
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.num_threads > 0:
        torch.set_num_threads(args.num_threads)
    check_checkpoint(args.checkpoint)
    domain = isolate_ros_domain()  # the node processes inherit it
    # what large_image_profile() gives this process's participants (a copy: nothing set yet)
    dds = apply_large_image_profile(dict(os.environ))
    with tempfile.TemporaryDirectory(prefix="sccosf_bench_node_") as tmp:
        ckpt = _checkpoint(args.checkpoint, Path(tmp))
        size = "x".join(map(str, args.inference_size)) if args.inference_size else "native"
        env = {
            "size": [args.height, args.width],
            "inference_size": size,
            "backend": args.backend,
            "torch_threads": torch.get_num_threads(),
            "input_reliability": args.input_reliability,
            "checkpoint": str(args.checkpoint or ckpt),
            "ros": domain,
            "dds": dds,
        }
        parts = [
            f"sccosf bench node: {args.width}x{args.height} bgr8 + mono16 pairs, model at "
            f"{size}, backend {args.backend}, torch threads {env['torch_threads']}, {domain}\n"
            f"{dds}"
        ]
        print(parts[-1] + "\n")
        res = bench_overhead(args, ckpt)
        received = res.pop("_received")["p50"]
        results: dict[str, Any] = {"env": env, "overhead_ms": res}
        results["overhead_messages_received"] = received
        parts.append(_overhead_report(res))
        print(parts[-1] + "\n")
        if not args.skip_e2e:
            rows = bench_e2e(args, ckpt, "trivial", Path(tmp))
            if not args.skip_model_e2e:
                rows += bench_e2e(args, ckpt, "nano", Path(tmp))
            results["e2e"] = rows
            parts.append(_e2e_report(rows))
            print(parts[-1])
    write_outputs(args, results, "\n\n".join(parts))
    return 0


def _serve_trivial() -> int:
    """``python -m sccosf_ros.bench.node serve-trivial --ros-args ...``: node + TrivialModel."""
    from sccosf_ros.ros.node import run as run_node

    argv = [sys.argv[0], *sys.argv[2:]]
    code = run_node(argv, predictor=trivial_predictor())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve-trivial":
        _serve_trivial()
    parser = argparse.ArgumentParser(prog="python -m sccosf_ros.bench.node")
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
