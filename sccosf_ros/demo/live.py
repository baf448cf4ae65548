"""The demo's live ROS graph: the ``sccosf_node`` subprocess, the bag player with ``/clock``
and a recorder node, in this process's own rclpy context.

This is the one module of the demo that imports rclpy and ROS messages (inside the functions
that touch the graph, so importing it needs no ROS).
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

from sccosf_ros.bag.recorder import TopicRecorder
from sccosf_ros.bag.replay import BagPlayer, ReplayConfig
from sccosf_ros.demo.config import DemoConfig, DemoError
from sccosf_ros.demo.summary import say
from sccosf_ros.pipeline.outputs import DEFAULT_NAMESPACE, output_topics
from sccosf_ros.ros.dds import large_image_profile
from sccosf_ros.ros.diagnostics import values_of
from sccosf_ros.ros.label_info import label_info_type
from sccosf_ros.ros.node_process import NodeProcess


class LiveRun:
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
            say(f"      node ready after {self.timings['node_start_s']:.1f} s")
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

        from sccosf_ros.ros.qos import latched_qos  # imports rclpy

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
        say(f"[2/4] starting sccosf_node (log: {self.node.log_path}) ...")
        say(f"      player and recorder: {self.dds_note}")
        deadline = time.monotonic() + self.cfg.node_start_timeout
        while not (
            self.label_info is not None
            and all(p.get_subscription_count() > 0 for p in self.player.pubs.values())
            and all(s.get_publisher_count() > 0 for s in self.subs.values())
        ):
            if not self.node.alive():
                raise DemoError(
                    f"sccosf_node exited with code {self.node.proc.returncode} during start-up; "
                    f"{self._log_excerpt()}"
                )
            if time.monotonic() > deadline:
                raise DemoError(
                    f"sccosf_node did not become ready within {self.cfg.node_start_timeout:.0f}"
                    f" s; {self._log_excerpt()}"
                )
            time.sleep(0.05)

    def _log_excerpt(self, n: int = 3) -> str:
        """The node log's last lines on one line (a DemoError is one line; the log has all)."""
        tail = [ln.strip() for ln in self.node.log_tail(n).splitlines() if ln.strip()]
        return f"see {self.node.log_path} (last lines: {' | '.join(tail) or 'none'})"

    def _replay(self) -> dict:
        say("[3/4] replaying and recording ...")
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
