"""``sccosf bench web``: what watching the node in browsers costs it.

The node runs as a separate process with its live web view on (``web.enable``, a free port on
127.0.0.1); camera-like publishers (``ros.probes.CameraProbe``) feed it bgr8 + mono16 pairs at
``--rate`` throughout, and its ``/diagnostics`` counter ``processed`` gives the pairs it ran.

1. **Processed-pair rate** with no client and with ``--clients`` MJPEG readers (loopback HTTP,
   each reading one of the page's five streams as fast as it comes), ``--rounds`` times each
   alternately; the ratio of the means. Target: within 10 % of no clients.
2. **A client that stops reading** (``--rss-seconds``, 0 skips): one connects to a stream and
   never reads, beside a reading one; the node process's RSS (``VmRSS``) at start, end and peak.
   Target: no growth (the server disconnects it after 20 s without progress).

Figures depend on the machine's load: alternate rounds and compare within one run.
"""

from __future__ import annotations

import argparse
import math
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sccosf_ros.bench.errors import BenchError, check_at_least_one, check_checkpoint
from sccosf_ros.bench.node import bench_checkpoint
from sccosf_ros.bench.node_e2e import wait_ready
from sccosf_ros.bench.tables import add_output_arguments, write_outputs
from sccosf_ros.bench.web_clients import (
    STREAMS,
    MjpegReader,
    StalledClient,
    rss_mib,
    wait_clients,
    web_clients,
)
from sccosf_ros.percentiles import summarize
from sccosf_ros.ros.dds import isolate_ros_domain
from sccosf_ros.ros.node_process import NODE_MODULE, NodeProcess, node_command
from sccosf_ros.ros.probes import CameraProbe, camera_pair
from sccosf_ros.synthetic.pairs import frame_pair
from sccosf_ros.tables import markdown_table

NS = "/bench_web"
HOST = "127.0.0.1"
SETTLE_S = 2.0  # after clients connect: their streams' encoders start before measuring
HANG_GUARD_S = 120.0  # the node's first pairs (model load, first-run costs) come within this
TARGET_RATIO = 0.9  # the figure: with clients, >= 90 % of the rate without


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--height", type=int, default=240, help="camera image height")
    parser.add_argument("--width", type=int, default=320, help="camera image width")
    parser.add_argument("--rate", type=float, default=10.0, help="input pairs per second")
    parser.add_argument("--clients", type=int, default=5, help="MJPEG clients in part 1")
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds measured per setting and round"
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (no clients, clients)")
    parser.add_argument(
        "--rss-seconds",
        type=float,
        default=120.0,
        help="seconds of the stalled-client part (0 skips it)",
    )
    parser.add_argument("--max-fps", type=float, default=10.0, help="the node's web.max_fps")
    parser.add_argument(
        "--model",
        choices=("nano", "trivial"),
        default="nano",
        help="the real node with the nano checkpoint, or the same node around a trivial model",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint of the nano node (default: the shipped one, else an untrained nano)",
    )
    parser.add_argument(
        "--num-threads", type=int, default=1, help="the node's torch CPU threads (0 = default)"
    )
    add_output_arguments(parser)


def check_args(args: argparse.Namespace) -> None:
    """Bad input is one BenchError line, before the node starts."""
    for name in ("height", "width", "clients", "rounds"):  # names the one that is wrong
        check_at_least_one(**{name: getattr(args, name)})
    for flag, value in (("--rate", args.rate), ("--duration", args.duration)):
        if not (math.isfinite(value) and value > 0):
            raise BenchError(f"{flag} must be > 0, got {value:g}")
    if not (math.isfinite(args.max_fps) and args.max_fps > 0):
        raise BenchError(f"--max-fps must be > 0, got {args.max_fps:g}")
    if not (math.isfinite(args.rss_seconds) and args.rss_seconds >= 0):
        raise BenchError(f"--rss-seconds must be >= 0 (0 skips), got {args.rss_seconds:g}")
    if args.num_threads < 0:
        raise BenchError(f"--num-threads must be >= 0, got {args.num_threads}")
    check_checkpoint(args.checkpoint)


# --------------------------------------------------------------------------- the node
def _start_node(args: argparse.Namespace, ckpt: Path, log_dir: Path) -> NodeProcess:
    params: dict[str, Any] = {
        "diagnostics.period": 0.5,
        "thermal.normalization": "fixed",
        "thermal.low": 7000.0,
        "thermal.high": 9000.0,
        "num_threads": args.num_threads,
        "web.enable": True,
        "web.bind": HOST,
        "web.port": 0,  # any free port: read back from its log line
        "web.max_fps": args.max_fps,
        "web.max_clients": max(20, args.clients + 2),
    }
    module = NODE_MODULE
    if args.model == "trivial":
        module = "sccosf_ros.bench.node_trivial"
    else:
        params["checkpoint"] = str(ckpt)
    cmd = node_command(module=module, params=params, remaps={"__ns": NS})
    return NodeProcess(cmd, log_dir / "node_web.log")


def _web_port(proc: NodeProcess) -> int:
    found = re.search(rf"web view: http://{re.escape(HOST)}:(\d+)/", proc.log())
    if found is None:
        raise BenchError("the node started without its web view line (web view: http://...)")
    return int(found.group(1))


class Feeder:
    """Publishes pairs through ``probe``'s cameras at ``rate`` from a thread until closed, on one
    schedule for the whole run (repeated ``CameraProbe.stream`` bursts would each end a period
    early and feed faster than ``rate``)."""

    def __init__(self, probe: CameraProbe, height: int, width: int, rate: float) -> None:
        self.probe, self.rate = probe, rate
        self.rgb, self.thermal = frame_pair(height, width, raw_thermal=True)
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.wait(max(0.0, t0 + self.sent / self.rate - time.monotonic())):
            rgb, thermal = camera_pair(self.rgb, self.thermal, time.time_ns())
            self.probe.rgb_pub.publish(rgb)
            self.probe.th_pub.publish(thermal)
            self.sent += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)


def processed_now(probe: CameraProbe, timeout: float = 30.0) -> tuple[int, float]:
    """The node's ``processed`` counter from its next ``/diagnostics`` message, and when that
    message came (monotonic seconds)."""
    with probe.lock:
        seq = probe.diag_seq
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with probe.lock:
            if probe.diag_seq > seq and "processed" in probe.diag:
                return int(probe.diag["processed"]), probe.diag_at
        time.sleep(0.02)
    raise BenchError(f"no /diagnostics from the node for {timeout:.0f} s")


def _warm_up(probe: CameraProbe, pairs: int = 3) -> None:
    """Wait until the node has processed a few pairs (model loaded, first-run costs paid)."""
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        if processed_now(probe)[0] >= pairs:
            return
    raise BenchError(f"the node processed no pair within {HANG_GUARD_S:.0f} s of input")


# --------------------------------------------------------------------------- part 1
def measure_phase(
    probe: CameraProbe, base: str, clients: int, duration: float, round_: int
) -> dict[str, Any]:
    """``duration`` seconds of the processed-pair rate with ``clients`` readers watching."""
    readers = [MjpegReader(base, STREAMS[j % len(STREAMS)]) for j in range(clients)]
    try:
        wait_clients(base, clients)
        time.sleep(SETTLE_S)
        p0, t0 = processed_now(probe)
        f0 = [r.frames for r in readers]
        time.sleep(duration)
        p1, t1 = processed_now(probe)
        f1 = [r.frames for r in readers]
        connected = len(web_clients(base))
    finally:
        for r in readers:
            r.close()
    wait_clients(base, 0)  # the next setting starts with nobody watching
    seconds = t1 - t0
    return {
        "round": round_,
        "clients": clients,
        "connected": connected,
        "processed": p1 - p0,
        "seconds": seconds,
        "pairs_per_s": (p1 - p0) / seconds if seconds > 0 else math.nan,
        "frames_received": f1,
        "client_fps": [(b - a) / seconds if seconds > 0 else math.nan for a, b in zip(f0, f1)],
        "client_errors": [r.error for r in readers if r.error],
    }


def rate_summary(rows: list[dict[str, Any]], clients: int) -> dict[str, Any]:
    """Mean processed-pair rate without and with clients, and their ratio."""
    without = summarize([r["pairs_per_s"] for r in rows if r["clients"] == 0])["mean"]
    with_ = summarize([r["pairs_per_s"] for r in rows if r["clients"] == clients])["mean"]
    return {
        "clients": clients,
        "pairs_per_s_no_clients": without,
        "pairs_per_s_with_clients": with_,
        "ratio": with_ / without if without > 0 else math.nan,
    }


# --------------------------------------------------------------------------- part 2
def measure_stalled(
    probe: CameraProbe, base: str, port: int, pid: int, seconds: float
) -> dict[str, Any]:
    """A client that never reads, beside one that does, both on ``overlay``: the node's RSS."""
    stalled = StalledClient(HOST, port, "overlay")
    reader: MjpegReader | None = None
    try:
        wait_clients(base, 1)
        stalled_ids = [c["id"] for c in web_clients(base)]
        reader = MjpegReader(base, "overlay")
        wait_clients(base, 2)
        time.sleep(SETTLE_S)
        p0, t0 = processed_now(probe)
        f0, start = reader.frames, rss_mib(pid)
        samples, began = [start], time.monotonic()
        while (left := began + seconds - time.monotonic()) > 0:
            time.sleep(min(1.0, left))
            samples.append(rss_mib(pid))
        p1, t1 = processed_now(probe)
        f1, clients = reader.frames, web_clients(base)
    finally:
        stalled.close()
        if reader is not None:
            reader.close()
    still = [c for c in clients if c["id"] in stalled_ids]
    return {
        "seconds": seconds,
        "rss_start_mib": start,
        "rss_end_mib": samples[-1],
        "rss_peak_mib": max(samples),
        "rss_growth_mib": samples[-1] - start,
        "rss_samples": len(samples),
        "reader_frames": f1,
        "reader_fps": (f1 - f0) / (time.monotonic() - began),
        "stalled_connected_at_end": bool(still),
        "stalled_frames_sent": still[0]["frames_sent"] if still else None,
        "processed": p1 - p0,
        "pairs_per_s": (p1 - p0) / (t1 - t0) if t1 > t0 else math.nan,
    }


# --------------------------------------------------------------------------- report
def rate_report(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    header = ["round", "clients", "connected", "processed", "s", "pairs/s", "frames to clients"]
    header.append("client fps (mean)")
    table = [
        [
            *(str(r[k]) for k in ("round", "clients", "connected", "processed")),
            f"{r['seconds']:.1f}",
            f"{r['pairs_per_s']:.2f}",
            str(sum(r["frames_received"])),
            f"{summarize(r['client_fps'])['mean']:.1f}" if r["client_fps"] else "-",
        ]
        for r in rows
    ]
    ratio = summary["ratio"]
    verdict = "within" if ratio >= TARGET_RATIO else "outside"
    return "\n".join(
        [
            "1) processed-pair rate (the node's /diagnostics 'processed'), no clients vs "
            f"{summary['clients']} MJPEG clients on loopback HTTP",
            "",
            *markdown_table(header, table),
            "",
            f"no clients {summary['pairs_per_s_no_clients']:.2f} pairs/s, "
            f"{summary['clients']} clients {summary['pairs_per_s_with_clients']:.2f} pairs/s: "
            f"ratio {ratio:.3f}, {verdict} the 10 % target",
        ]
    )


def stalled_report(res: dict[str, Any]) -> str:
    end = (
        f"still connected ({res['stalled_frames_sent']} frames sent to it)"
        if res["stalled_connected_at_end"]
        else "disconnected by the server"
    )
    return "\n".join(
        [
            f"2) a client that stops reading, beside a reading one, for {res['seconds']:.0f} s",
            "",
            f"node RSS {res['rss_start_mib']:.1f} MiB -> {res['rss_end_mib']:.1f} MiB "
            f"(peak {res['rss_peak_mib']:.1f}, growth {res['rss_growth_mib']:+.1f} MiB, "
            f"{res['rss_samples']} samples); node {res['pairs_per_s']:.2f} pairs/s",
            f"reading client: {res['reader_frames']} frames ({res['reader_fps']:.1f}/s); "
            f"stalled client: {end}",
        ]
    )


# --------------------------------------------------------------------------- run
def _bench(args: argparse.Namespace, ckpt: Path, log_dir: Path) -> dict[str, Any]:
    proc = _start_node(args, ckpt, log_dir)
    probe: CameraProbe | None = None
    feeder: Feeder | None = None
    try:
        wait_ready(proc, f"{args.model} web")
        port = _web_port(proc)
        base = f"http://{HOST}:{port}"
        probe = CameraProbe(NS)
        if not probe.wait_connected(30):
            raise BenchError("the node never subscribed to the camera topics")
        feeder = Feeder(probe, args.height, args.width, args.rate)
        _warm_up(probe)
        rows = [
            measure_phase(probe, base, k, args.duration, i)
            for i in range(args.rounds)
            for k in (0, args.clients)
        ]
        out: dict[str, Any] = {"phases": rows, "summary": rate_summary(rows, args.clients)}
        out["stalled"] = None
        if args.rss_seconds > 0:
            out["stalled"] = measure_stalled(probe, base, port, proc.proc.pid, args.rss_seconds)
        out["pairs_sent"] = feeder.sent
        return out
    finally:
        if feeder is not None:
            feeder.close()
        if probe is not None:
            probe.close()
        proc.stop(20)


def run(args: argparse.Namespace) -> int:
    check_args(args)
    domain = isolate_ros_domain()  # the node process inherits it
    with tempfile.TemporaryDirectory(prefix="sccosf_bench_web_") as tmp:
        ckpt = bench_checkpoint(args.checkpoint, Path(tmp))
        env = {
            "size": [args.height, args.width],
            "rate_hz": args.rate,
            "model": args.model,
            "checkpoint": str(ckpt) if args.model == "nano" else None,
            "num_threads": args.num_threads,
            "web_max_fps": args.max_fps,
            "ros": domain,
        }
        head = (
            f"sccosf bench web: {args.width}x{args.height} bgr8 + mono16 pairs at "
            f"{args.rate:g} Hz, {args.model} node, num_threads {args.num_threads}, "
            f"web.max_fps {args.max_fps:g}, {domain}"
        )
        print(head + "\n", flush=True)
        res = _bench(args, ckpt, Path(tmp))
    parts = [head, rate_report(res["phases"], res["summary"])]
    if res["stalled"] is not None:
        parts.append(stalled_report(res["stalled"]))
    print("\n\n".join(parts[1:]))
    write_outputs(args, {"env": env, **res}, "\n\n".join(parts))
    return 0
