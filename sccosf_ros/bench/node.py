"""``sccosf bench node``: what the ROS path costs per pair, next to what the model costs.

Two parts, one run, one table each:

1. **Per-pair overhead** (in-process, 640×480 by default): the node's own pipeline per pair
   (``pipeline.processor.PairProcessor``, the code the node runs) without the model — admission
   check + approximate-time sync (``pipeline.pairing``), decode (bgr8 + mono16), colouring
   (segmentation colours + overlay), encode (4 images) and publish (4 rclpy publishers with a
   subscriber in another DDS participant on loopback) — around the ``TrivialModel`` through the
   real ``Predictor``, next to the nano model's own time. Target: overhead ≤ 5 ms per pair.
   The model's own pre- and post-processing (thermal normalisation, tensors, resizes, labels,
   ``Predictor.preprocess`` / ``postprocess``) are rows of their own, from the nano model's
   ``timings_ms``.
2. **End-to-end latency over DDS loopback** (``bench.node_e2e``): the node runs as a separate
   process, once with ``TrivialModel`` (``python -m sccosf_ros.bench.node_trivial``, the same
   node code with the predictor swapped) and as the real ``sccosf_node`` with the nano
   checkpoint, once on ``--baseline`` (torch) and once on ``--backend`` (default auto), side by
   side; a camera-like best-effort publisher sends bgr8 + mono16 pairs at each rate
   (``--rate 10`` alone, or ``--rates``), a subscriber to ``~/fused`` measures RGB stamp →
   output received (steady clock); the node's ``/diagnostics`` adds its drop count, inference
   time and in-node overhead, ``/proc`` its CPU use.

``sccosf bench node --rate 10 --size 640x480 --duration 25`` is the real-time check of issue
26: pairs offered / processed / dropped, end-to-end p50/p95, inference p50 and CPU use, torch
and the auto choice in one run.

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
import time
from pathlib import Path
from typing import Any

import torch

from sccosf_ros.arg_types import non_negative_int, positive_float, positive_int
from sccosf_ros.backends import BACKENDS
from sccosf_ros.backends.cli_args import add_backend_arguments
from sccosf_ros.bench.errors import check_checkpoint
from sccosf_ros.bench.node_e2e import backend_params, bench_e2e, e2e_report
from sccosf_ros.bench.node_trivial import TrivialModel, trivial_predictor
from sccosf_ros.bench.tables import add_output_arguments, write_outputs
from sccosf_ros.errors import SccosfError
from sccosf_ros.inference import Predictor
from sccosf_ros.percentiles import summarize
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.processor import PairProcessor, load_predictor
from sccosf_ros.ros.dds import apply_large_image_profile, isolate_ros_domain
from sccosf_ros.ros.probes import OutputLoopback, camera_pair
from sccosf_ros.synthetic.pairs import frame_pair
from sccosf_ros.tables import markdown_table

__all__ = ["TrivialModel", "add_arguments", "bench_e2e", "bench_overhead", "run"]
__all__ += ["trivial_predictor"]  # the node tests' predictor, here since before the split

TARGET_OVERHEAD_MS = 5.0
PATH_STAGES = ("sync", "decode", "colour", "encode", "publish")  # the pipeline without the model
MODEL_STAGES = ("nano preprocess", "nano network", "nano postprocess")  # Predictor.timings_ms
STAGES = (*PATH_STAGES, "trivial model", "nano model", *MODEL_STAGES)


def size_wh(text: str) -> tuple[int, int]:
    """``WxH`` as cameras name it (``640x480``) → (W, H)."""
    from sccosf_ros.arg_types import size_hw

    try:
        w, h = size_hw(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"size must be WxH, e.g. 640x480, got {text!r}") from None
    return w, h


# --------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--height", type=positive_int, default=480, help="camera image height")
    parser.add_argument("--width", type=positive_int, default=640, help="camera image width")
    parser.add_argument(
        "--size",
        type=size_wh,
        default=None,
        metavar="WxH",
        help="camera image size, e.g. 640x480 (sets --width and --height)",
    )
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
        "--rate", type=positive_float, default=None, help="one input rate (Hz): --rates R"
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
    parser.add_argument(
        "--baseline",
        choices=(*BACKENDS, "none"),
        default="torch",
        help="backend of the nano node run beside --backend's in the end-to-end part (none: "
        "only --backend)",
    )
    parser.add_argument("--skip-e2e", action="store_true", help="only the in-process part")
    parser.add_argument(
        "--skip-model-e2e",
        action="store_true",
        help="end-to-end with the trivial model only (the nano node is slow)",
    )
    add_output_arguments(parser)


def load_average() -> str:
    """The 1/5/15-minute load averages (``uptime``'s), to judge how busy the machine was."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def bench_checkpoint(path: Path | None, tmp: Path) -> Path:
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


def _bench_params(args: argparse.Namespace) -> NodeParams:
    values = {"thermal.normalization": "fixed", "thermal.low": 7000.0, "thermal.high": 9000.0}
    if args.inference_size:
        values["inference.height"], values["inference.width"] = args.inference_size
    return NodeParams.from_dict(values)


def bench_overhead(args: argparse.Namespace, ckpt: Path) -> dict[str, dict[str, float]]:
    """Per-stage milliseconds per pair (p50, p95) of the node's own pipeline, and the models.

    The stages are the node's: ``PairProcessor.admit`` + the approximate-time synchronizer,
    ``PairProcessor.process`` (decode, model, colour), ``encode`` and rclpy publishing.
    """
    from sccosf_ros.pipeline.pairing import ApproximateTimeSynchronizer, SimpleFilter

    rgb, thermal = frame_pair(args.height, args.width, raw_thermal=True)
    # a bad parameter or checkpoint is a SccosfError: one "sccosf bench node: error:" line
    params = _bench_params(args)
    nano = load_predictor(
        NodeParams.from_dict(
            {**params.to_dict(), "checkpoint": str(ckpt), "device": "cpu"} | backend_params(args)
        )
    )
    processor = PairProcessor(params, trivial_predictor(input_size=params.inference_size))
    assert isinstance(nano, Predictor)
    nano.predict(rgb, thermal)  # a non-torch backend exports here (cached for the node too)
    loop = OutputLoopback()
    inputs = [SimpleFilter(), SimpleFilter()]
    sync = ApproximateTimeSynchronizer(inputs, params.sync_queue_size, params.sync_slop)
    synced: list = []
    sync.registerCallback(lambda a, b: synced.append((a, b)))

    times: dict[str, list[float]] = {k: [] for k in STAGES}
    base = time.time_ns()
    for i in range(max(args.pairs, 3)):
        msgs = camera_pair(rgb, thermal, base + i * 33_000_000)
        t0 = time.perf_counter()
        for k, (stream, msg) in enumerate(zip(("rgb", "thermal"), msgs)):
            if processor.admit(stream, msg):
                inputs[k].signalMessage(msg)
        t1 = time.perf_counter()
        a, b = synced.pop()
        out = processor.process(a, b)
        t2 = time.perf_counter()
        encoded = processor.encode(out, a.header, type(a))  # rclpy's Image, as received
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
        t = nano.predict(rgb, thermal).timings_ms
        times["nano model"].append(t["total"])
        for stage, key in zip(MODEL_STAGES, ("preprocess", "model", "postprocess")):
            times[stage].append(t[key])
    loop.close()

    result = {k: summarize(v) for k, v in times.items()}
    per_pair = [sum(times[k][i] for k in PATH_STAGES) for i in range(len(times["decode"]))]
    result["ROS path total"] = summarize(per_pair)
    result["_received"] = {"p50": float(loop.received), "p95": float("nan"), "n": 0}
    return result


def _overhead_report(res: dict[str, dict[str, float]]) -> str:
    """Part 1 as Markdown: per-stage p50/p95 and the verdict against the 5 ms target."""
    rows = [
        [k, f"{res[k]['p50']:.2f}", f"{res[k]['p95']:.2f}"]
        for k in (*PATH_STAGES, "ROS path total", "trivial model", "nano model", *MODEL_STAGES)
    ]
    rows.append(["(sum of stage p50s)", f"{sum(res[k]['p50'] for k in PATH_STAGES):.2f}", ""])
    total, nano = res["ROS path total"]["p50"], res["nano model"]["p50"]
    verdict = "meets" if total <= TARGET_OVERHEAD_MS else "misses"
    return "\n".join(
        [
            f"1) per-pair cost, in-process ({res['decode']['n']} pairs; ms)",
            "",
            *markdown_table(["stage", "p50", "p95"], rows),
            "",
            f"ROS path overhead {total:.2f} ms/pair {verdict} the {TARGET_OVERHEAD_MS:.0f} ms "
            f"target; it is {100 * total / nano:.1f}% of the nano model's {nano:.0f} ms",
        ]
    )


def e2e_backends(args: argparse.Namespace) -> list[str]:
    """The nano nodes of the end-to-end part: the baseline, then ``--backend`` (once when the
    same)."""
    wanted = [args.baseline, args.backend] if args.baseline != "none" else [args.backend]
    return list(dict.fromkeys(wanted))


def run(args: argparse.Namespace) -> int:
    if args.size is not None:
        args.width, args.height = args.size
    if args.rate is not None:
        args.rates = [args.rate]
    if args.num_threads > 0:
        torch.set_num_threads(args.num_threads)
    check_checkpoint(args.checkpoint)
    domain = isolate_ros_domain()  # the node processes inherit it
    # what large_image_profile() gives this process's participants (a copy: nothing set yet)
    dds = apply_large_image_profile(dict(os.environ))
    with tempfile.TemporaryDirectory(prefix="sccosf_bench_node_") as tmp:
        ckpt = bench_checkpoint(args.checkpoint, Path(tmp))
        size = "x".join(map(str, args.inference_size)) if args.inference_size else "native"
        env = {
            "size": [args.height, args.width],
            "inference_size": size,
            "backend": args.backend,
            "e2e_backends": e2e_backends(args),
            "uptime": load_average(),
            "torch_threads": torch.get_num_threads(),
            "input_reliability": args.input_reliability,
            "checkpoint": str(args.checkpoint or ckpt),
            "ros": domain,
            "dds": dds,
        }
        parts = [
            f"sccosf bench node: {args.width}x{args.height} bgr8 + mono16 pairs, model at "
            f"{size}, backend {args.backend}, torch threads {env['torch_threads']}, {domain}, "
            f"load average {env['uptime']}\n{dds}"
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
                for backend in e2e_backends(args):
                    rows += bench_e2e(args, ckpt, "nano", Path(tmp), backend)
            results["e2e"] = rows
            parts.append(e2e_report(rows))
            print(parts[-1])
    write_outputs(args, results, "\n\n".join(parts))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m sccosf_ros.bench.node")
    add_arguments(parser)
    try:
        sys.exit(run(parser.parse_args()))
    except SccosfError as e:  # as `sccosf bench node` reports it: one line
        print(f"{parser.prog}: error: {e.message}", file=sys.stderr)
        sys.exit(e.exit_code)
