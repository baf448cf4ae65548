"""``sccosf bench node``, part 2: end-to-end latency over DDS loopback.

The node runs as a separate process, once around ``TrivialModel`` (``bench.node_trivial``) and
once as the real ``sccosf_node`` with the nano checkpoint; camera-like best-effort publishers
send bgr8 + mono16 pairs at each rate, a subscriber to ``~/fused`` measures send → receive
(steady clock), and the node's ``/diagnostics`` adds its drop count and in-node overhead.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from sccosf_ros.bench.errors import BenchError
from sccosf_ros.percentiles import percentile
from sccosf_ros.ros.node_process import NodeProcess, node_command
from sccosf_ros.ros.probes import CameraProbe
from sccosf_ros.synthetic.pairs import frame_pair
from sccosf_ros.tables import markdown_table


def backend_params(args: argparse.Namespace) -> dict[str, Any]:
    """The node parameters ``--backend`` / ``--cache-dir`` set (the nano rows only)."""
    values: dict[str, Any] = {"backend": args.backend}
    if args.cache_dir is not None:
        values["backend.cache_dir"] = str(args.cache_dir)
    return values


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
            module="sccosf_ros.bench.node_trivial",
            params=params,
            remaps={"__ns": ns},
        )
    else:
        cmd = node_command(
            params={**params, "checkpoint": str(ckpt), **backend_params(args)},
            remaps={"__ns": ns},
        )
    return NodeProcess(cmd, log_dir / f"node_{kind}.log")


def bench_e2e(args: argparse.Namespace, ckpt: Path, kind: str, log_dir: Path) -> list[dict]:
    ns = f"/bench_{kind}"
    proc = _start_node(kind, ns, ckpt, args, log_dir)
    probe = CameraProbe(ns, args.input_reliability)
    rows = []
    try:
        wait_ready(proc, kind)
        if not probe.wait_connected(30):
            raise BenchError(f"the {kind} node never subscribed to the camera topics")
        rgb, thermal = frame_pair(args.height, args.width, raw_thermal=True)
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
                    "p50": percentile(lat, 50),
                    "p95": percentile(lat, 95),
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


def wait_ready(proc: NodeProcess, kind: str) -> None:
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


def e2e_report(rows: list[dict]) -> str:
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
    lines += markdown_table(header, table)
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
