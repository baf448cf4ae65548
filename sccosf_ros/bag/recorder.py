"""Record live topics into a rosbag2 (``ros2 bag record`` for the demo, through rclpy).

Subscriptions take the raw CDR bytes (``raw=True``) and only enqueue them; one writer thread
owns the bag, because the sqlite3 storage may only be used from the thread that opened it.
rclpy is imported inside the methods that touch a live graph.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sccosf_ros.bag.bag_io import BagWriter


def ros_msgtype(cls: Any) -> str:
    """rclpy message class → ``pkg/msg/Name``."""
    return f"{cls.__module__.split('.')[0]}/msg/{cls.__name__}"


class TopicRecorder:
    """Writes every message its subscriptions receive to a bag; counts per topic."""

    def __init__(self, path: str | Path, storage: str) -> None:
        self.counts: dict[str, int] = {}
        self._queue: queue.Queue = queue.Queue()
        self._opened = threading.Event()
        self._error: BaseException | None = None
        self._writer: BagWriter | None = None
        self._thread = threading.Thread(
            target=self._write_loop, args=(Path(path), storage), daemon=True
        )
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

    def can_record(self, msg_cls: Any) -> bool:
        """Whether the bag's type store knows ``msg_cls`` (else it cannot be written)."""
        return self._writer is not None and ros_msgtype(msg_cls) in self._writer.typestore.types

    def subscribe(
        self,
        node: Any,
        msg_cls: Any,
        topic: str,
        qos: Any,
        on_message: Callable[[Any], None] | None = None,
    ) -> Any:
        """Record ``topic``; ``on_message(msg)`` also sees each message, deserialized."""
        record = self.can_record(msg_cls)
        msgtype = ros_msgtype(msg_cls)

        def callback(raw: bytes) -> None:
            if record:
                self._queue.put((topic, msgtype, time.time_ns(), bytes(raw)))
                self.counts[topic] = self.counts.get(topic, 0) + 1
            if on_message is not None:
                from rclpy.serialization import deserialize_message

                on_message(deserialize_message(raw, msg_cls))

        return node.create_subscription(msg_cls, topic, callback, qos, raw=True)

    def close(self) -> None:
        """Write what is queued and close the bag."""
        self._queue.put(None)
        self._thread.join()
