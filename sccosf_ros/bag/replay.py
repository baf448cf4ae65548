"""Publish a rosbag2 through rclpy with its recorded timing: ``sccosf replay``.

What ``ros2 bag play BAG [--clock] [--loop] [--rate R]`` does, for machines without the ROS CLI:
messages go out on their recorded topics at their recorded (log-time) spacing divided by
``rate``, and with ``clock`` a ``rosgraph_msgs/Clock`` on ``/clock`` carries the bag's time (at
``clock_hz`` while waiting and with every message), so nodes with ``use_sim_time`` follow it.

The bag's CDR bytes are published as they are (``Publisher.publish(bytes)``, rclpy's serialized
path): rosbags and rclpy use the same CDR encoding (the tests check the round trip), so nothing
is deserialized and any message type whose Python class rclpy can import is replayed
(``sensor_msgs/CompressedImage`` camera topics included). Topics whose type is not installed
are skipped with a warning (an error if asked for by name). Damaged bags are played as far as
they can be read (``BagReader``: no metadata.yaml, truncated MCAP), with a warning; an MCAP chunk
that fails its CRC check is skipped with a warning and the rest played (``ReplayStats.damaged``);
a read error part-way ends the playback there (``ReplayStats.error``).

``wait_subscribers`` waits for a subscriber on the topics a consumer is expected on: the ones
given with ``topics``, else the bag's camera image topics (``sensor_msgs/Image`` and
``CompressedImage``, leaving out ground-truth label topics, whose last name segment contains
"label"), not on every topic of the bag. The player's DDS participant carries camera-sized
images to best-effort subscribers (``sccosf_ros.ros.dds``).
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sccosf_ros.bag.bag_io import BagError, BagReader, BagReadError
from sccosf_ros.pipeline.params import RELIABILITIES


class ReplaySettingsError(BagError, ValueError):
    """A replay option out of range (``--rate 0``, an unknown ``--qos``)."""


@dataclass
class ReplayConfig:
    bag: Path
    rate: float = 1.0
    clock: bool = False
    clock_hz: float = 100.0
    loop: bool = False
    topics: list[str] | None = None  # None = every topic with an importable type
    qos: str = "reliable"
    depth: int = 10
    start_delay: float = 0.0  # s between creating publishers and the first message
    wait_subscribers: float = 0.0  # s to wait for subscribers (wait_topics()); 0 = don't
    progress: bool = True
    node_name: str = "sccosf_replay"


@dataclass
class ReplayStats:
    published: dict[str, int] = field(default_factory=dict)
    clock_messages: int = 0
    loops: int = 0
    wall_s: float = 0.0
    bag_span_s: float = 0.0
    interrupted: bool = False
    skipped_topics: dict[str, str] = field(default_factory=dict)  # topic → why
    error: str | None = None  # a read error that ended the playback early
    damaged: str | None = None  # MCAP chunks skipped for a CRC mismatch (the rest was played)
    messages_lost: int = 0  # in those chunks


IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")


def is_label_topic(topic: str) -> bool:
    """Ground-truth label images (``/camera/rgb/labels``): recorded for bag-eval, not a camera."""
    return "label" in topic.rstrip("/").rsplit("/", 1)[-1].lower()


def import_message_class(msgtype: str) -> Any:
    """``sensor_msgs/msg/Image`` → the rclpy message class; ImportError when not installed."""
    parts = msgtype.split("/")
    if len(parts) == 2:  # ROS 1 style pkg/Type
        parts = [parts[0], "msg", parts[1]]
    if len(parts) != 3:
        raise ImportError(f"not a ROS 2 message type name: {msgtype!r}")
    pkg, kind, name = parts
    module = importlib.import_module(f"{pkg}.{kind}")
    try:
        return getattr(module, name)
    except AttributeError:
        raise ImportError(f"{pkg}.{kind} has no message {name}") from None


class BagPlayer:
    """Plays one bag on a rclpy context; ``stop()`` (any thread) ends ``play()`` early."""

    def __init__(self, cfg: ReplayConfig, context: Any = None) -> None:
        if not cfg.rate > 0:
            raise ReplaySettingsError(f"--rate must be > 0, got {cfg.rate}")
        if cfg.clock and not cfg.clock_hz > 0:
            raise ReplaySettingsError(f"clock rate must be > 0 Hz, got {cfg.clock_hz}")
        if cfg.qos not in RELIABILITIES:
            raise ReplaySettingsError(
                f"--qos must be one of {', '.join(RELIABILITIES)}, got {cfg.qos!r}"
            )
        self.cfg = cfg
        self._stop = threading.Event()
        self.reader = BagReader(cfg.bag).open()
        try:
            self._setup(context)
        except BaseException:
            self.reader.close()
            raise

    def _setup(self, context: Any) -> None:
        from rclpy.node import Node

        cfg = self.cfg
        bag_topics = self.reader.topics()
        if cfg.topics:
            missing = [t for t in cfg.topics if t not in bag_topics]
            if missing:
                raise BagError(
                    f"topic(s) {', '.join(missing)} not in bag {str(cfg.bag)!r}; its topics "
                    "are: " + self.reader.describe_topics()
                )
            wanted = list(cfg.topics)
        else:
            wanted = list(bag_topics)
        self.stats = ReplayStats()
        self.classes: dict[str, Any] = {}
        for topic in wanted:
            msgtype = bag_topics[topic].msgtype or "?"
            try:
                self.classes[topic] = import_message_class(msgtype)
            except ImportError as e:
                if cfg.topics:
                    raise BagError(
                        f"cannot replay {topic}: message type {msgtype} is not "
                        f"installed for rclpy ({e})"
                    ) from e
                self.stats.skipped_topics[topic] = f"{msgtype} not installed"
        if not self.classes:
            raise BagError(
                f"nothing to replay in {str(cfg.bag)!r}: no topic has an installed "
                "message type; its topics are: " + self.reader.describe_topics()
            )
        self.node = Node(cfg.node_name, context=context)
        from sccosf_ros.ros.qos import qos_profile

        qos = qos_profile(cfg.qos, cfg.depth)
        self.pubs = {t: self.node.create_publisher(c, t, qos) for t, c in self.classes.items()}
        self.stats.published = dict.fromkeys(self.pubs, 0)
        self.clock_pub = None
        if cfg.clock:
            from rosgraph_msgs.msg import Clock

            self._clock_cls = Clock
            self.clock_pub = self.node.create_publisher(
                Clock, "/clock", qos_profile("reliable", 1)
            )

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        try:
            self.node.destroy_node()
        finally:
            self.reader.close()

    def __enter__(self) -> BagPlayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def publish_clock(self, t_ns: int) -> None:
        """Publish ``/clock`` = ``t_ns`` (no-op without ``clock``)."""
        if self.clock_pub is None:
            return
        from builtin_interfaces.msg import Time

        t_ns = int(t_ns)
        self.clock_pub.publish(
            self._clock_cls(clock=Time(sec=t_ns // 1_000_000_000, nanosec=t_ns % 1_000_000_000))
        )
        self.stats.clock_messages += 1

    def wait_topics(self) -> list[str]:
        """What ``wait_subscribers`` waits on: ``topics`` if given, else the camera images."""
        if self.cfg.topics:
            return [t for t in self.cfg.topics if t in self.pubs]
        types = {t: i.msgtype for t, i in self.reader.topics().items()}
        return [t for t in self.pubs if types.get(t) in IMAGE_TYPES and not is_label_topic(t)]

    def wait_for_subscribers(self, timeout: float, topics: list[str] | None = None) -> bool:
        """Block until every topic (default :meth:`wait_topics`) has a subscriber, or
        ``timeout`` s; True if all do."""
        names = topics or self.wait_topics() or list(self.pubs)
        end = time.monotonic() + timeout
        while not self.stopped:
            if all(self.pubs[t].get_subscription_count() > 0 for t in names):
                return True
            if time.monotonic() >= end:
                return False
            time.sleep(0.02)
        return False

    def _sleep_until(self, wall_target: float, bag_at: Callable[[float], int]) -> bool:
        """Sleep until ``wall_target`` (perf_counter), ticking /clock; False if stopped."""
        period = 1.0 / self.cfg.clock_hz if self.clock_pub is not None else 0.05
        next_tick = time.perf_counter()
        while True:
            if self.stopped:
                return False
            now = time.perf_counter()
            if now >= wall_target:
                return True
            if self.clock_pub is not None and now >= next_tick:
                self.publish_clock(bag_at(now))
                next_tick = now + period
            time.sleep(max(0.0, min(wall_target, next_tick) - time.perf_counter()))

    # ------------------------------------------------------------------ playback
    def play(self) -> ReplayStats:
        """Publish the bag (``loop``: until stopped); returns what was published."""
        cfg = self.cfg
        if cfg.wait_subscribers > 0:
            self.wait_for_subscribers(cfg.wait_subscribers)
        if cfg.start_delay > 0:
            self._stop.wait(cfg.start_delay)
        total = self.reader.count(self.pubs)
        t_first = self.reader.start_time
        self.stats.bag_span_s = max(0, self.reader.end_time - t_first) / 1e9
        wall0 = time.perf_counter()
        bar = tqdm(
            total=total * (1 if not cfg.loop else 0) or None,
            desc="replay",
            unit="msg",
            disable=not cfg.progress,
        )
        try:
            while not self.stopped:
                loop_wall0 = time.perf_counter()

                def bag_at(now: float, _w0: float = loop_wall0) -> int:
                    return t_first + int((now - _w0) * cfg.rate * 1e9)

                for topic, _type, log_ns, raw in self.reader.messages(list(self.pubs)):
                    target = loop_wall0 + (log_ns - t_first) / 1e9 / cfg.rate
                    if not self._sleep_until(target, bag_at):
                        break
                    self.publish_clock(log_ns)
                    self.pubs[topic].publish(raw)
                    self.stats.published[topic] += 1
                    bar.update(1)
                    bar.set_postfix_str(f"bag t={(log_ns - t_first) / 1e9:.2f}s", refresh=False)
                else:
                    self.stats.loops += 1
                if not cfg.loop:
                    break
        except BagReadError as e:  # what was read before the error has been published
            self.stats.error = str(e)
        except KeyboardInterrupt:
            self.stats.interrupted = True
        finally:
            bar.close()
            self.stats.wall_s = time.perf_counter() - wall0
        if self.stopped:
            self.stats.interrupted = True
        self.stats.damaged = self.reader.damage_summary()
        self.stats.messages_lost = sum(c.messages_lost for c in self.reader.damaged_chunks)
        return self.stats


def _warn(message: str) -> None:
    print(f"sccosf replay: warning: {message}", file=sys.stderr)


def run_replay(cfg: ReplayConfig) -> ReplayStats:
    """Own a rclpy context for the replay (no rclpy signal handlers: Ctrl-C stops cleanly)."""
    import rclpy
    from rclpy.context import Context
    from rclpy.signals import SignalHandlerOptions

    from sccosf_ros.ros.dds import large_image_profile

    ctx = Context()
    try:
        # The profile for this player's own DDS participant (created with the context).
        with large_image_profile() as note:
            if cfg.progress:
                print(f"replay: {note}", file=sys.stderr)
            rclpy.init(context=ctx, signal_handler_options=SignalHandlerOptions.NO)
            player = BagPlayer(cfg, context=ctx)
        with player:
            player.reader.on_damage = _warn  # each chunk skipped for a CRC mismatch
            for note in player.reader.notes:
                print(f"sccosf replay: warning: {note}", file=sys.stderr)
            skipped = player.stats.skipped_topics
            for t, why in skipped.items():
                print(f"replay: skipping {t} ({why})", file=sys.stderr)
            return player.play()
    finally:
        if ctx.ok():
            rclpy.shutdown(context=ctx)
