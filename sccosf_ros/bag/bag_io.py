"""Reading and writing rosbag2 files (sqlite3 and MCAP) without ROS, through ``rosbags``.

``BagReader`` opens a bag directory (or a bare ``.db3``/``.mcap`` file), tells which storage it
uses, picks the ``rosbags`` type store of the ROS distribution that recorded it (default Humble;
``sensor_msgs/Image`` is the same in every ROS 2 distribution) and registers any message
definition the bag carries that the store lacks. ``BagWriter`` writes new bags in either
storage. Messages stay CDR bytes until asked for, so tools can copy them without decoding.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.rosbag2.errors import ReaderError
from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

IMAGE = "sensor_msgs/msg/Image"
STORAGES = ("sqlite3", "mcap")
DEFAULT_STORE = Stores.ROS2_HUMBLE
WRITER_VERSION = 9  # rosbag2 metadata version written (Jazzy and later; rosbags writes 8 or 9)

_SUFFIX_STORAGE = {".db3": "sqlite3", ".mcap": "mcap"}


class BagError(RuntimeError):
    """A bag that is missing, unreadable, or lacks what the caller needs (says what to fix)."""


@dataclass(frozen=True)
class TopicSummary:
    name: str
    msgtype: str | None
    count: int


def detect_storage(path: str | os.PathLike) -> str:
    """``sqlite3`` or ``mcap`` for a bag directory (metadata.yaml or file suffixes) or file."""
    p = Path(path)
    if not p.exists():
        raise BagError(f"bag {str(p)!r} does not exist")
    if p.is_file():
        storage = _SUFFIX_STORAGE.get(p.suffix)
        if storage is None:
            raise BagError(
                f"{str(p)!r} is not a rosbag2: expected a bag directory or a .db3/.mcap file"
            )
        return storage
    meta = p / "metadata.yaml"
    if meta.is_file():
        try:
            info = yaml.safe_load(meta.read_text()) or {}
            ident = info["rosbag2_bagfile_information"]["storage_identifier"]
        except (yaml.YAMLError, KeyError, TypeError) as e:
            raise BagError(f"{str(meta)!r} is not a valid rosbag2 metadata file ({e})") from e
        if ident in STORAGES:
            return str(ident)
        raise BagError(f"bag {str(p)!r} uses storage {ident!r}; supported: {STORAGES}")
    found = {_SUFFIX_STORAGE[f.suffix] for f in p.iterdir() if f.suffix in _SUFFIX_STORAGE}
    if len(found) == 1:
        return found.pop()
    raise BagError(
        f"{str(p)!r} is not a rosbag2 directory: no metadata.yaml and "
        f"{'mixed' if found else 'no'} .db3/.mcap files"
    )


def typestore_for(distro: str | None) -> Typestore:
    """The ``rosbags`` type store of a ROS 2 distribution name (``humble``…); Humble if unknown."""
    name = f"ROS2_{(distro or '').upper()}"
    store = Stores.__members__.get(name, DEFAULT_STORE)
    return get_typestore(store)


def register_bag_types(store: Typestore, connections: Iterable[Any]) -> None:
    """Add message definitions recorded in the bag that the store does not know yet."""
    for conn in connections:
        if conn.msgtype in store.types or not conn.msgdef or not conn.msgdef.data:
            continue
        try:
            if conn.msgdef.format.name == "IDL":
                types = get_types_from_idl(conn.msgdef.data)
            else:
                types = get_types_from_msg(conn.msgdef.data, conn.msgtype)
            store.register(types)
        except Exception:  # an odd definition only matters if someone reads that topic
            continue


class BagReader:
    """Context manager over a rosbag2: topics, storage, raw and deserialized messages."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.storage = detect_storage(self.path)
        self._reader = Reader(self.path)
        self.typestore: Typestore = get_typestore(DEFAULT_STORE)
        self._open = False

    def open(self) -> BagReader:
        try:
            self._reader.open()
        except (ReaderError, OSError) as e:
            raise BagError(f"cannot read bag {str(self.path)!r}: {e}") from e
        self._open = True
        self.typestore = typestore_for(self._reader.ros_distro)
        register_bag_types(self.typestore, self._reader.connections)
        return self

    def close(self) -> None:
        if self._open:
            self._reader.close()
            self._open = False

    def __enter__(self) -> BagReader:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ros_distro(self) -> str | None:
        return self._reader.ros_distro

    @property
    def message_count(self) -> int:
        return int(self._reader.message_count)

    @property
    def start_time(self) -> int:
        return int(self._reader.start_time)

    @property
    def end_time(self) -> int:
        return int(self._reader.end_time)

    def topics(self) -> dict[str, TopicSummary]:
        return {
            name: TopicSummary(name, info.msgtype, int(info.msgcount))
            for name, info in sorted(self._reader.topics.items())
        }

    def describe_topics(self) -> str:
        """One line per topic: ``name  [type]  N msgs`` (for error messages)."""
        lines = [f"  {t.name}  [{t.msgtype}]  {t.count} msgs" for t in self.topics().values()]
        return "\n".join(lines) if lines else "  (the bag has no topics)"

    def require_topic(self, topic: str, msgtype: str | None = IMAGE, what: str = "") -> None:
        """Raise a BagError listing the bag's topics if ``topic`` is absent or of another type."""
        topics = self.topics()
        label = f"{what} topic" if what else "topic"
        if topic not in topics:
            raise BagError(
                f"{label} {topic!r} is not in bag {str(self.path)!r}; its topics are:\n"
                + self.describe_topics()
            )
        found = topics[topic].msgtype
        if msgtype is not None and found != msgtype:
            raise BagError(f"{label} {topic!r} carries {found}, expected {msgtype}")

    def messages(
        self, topics: Iterable[str] | None = None
    ) -> Iterator[tuple[str, str, int, bytes]]:
        """Yield ``(topic, msgtype, log_time_ns, cdr_bytes)`` in the bag's log-time order."""
        wanted = set(topics) if topics is not None else None
        conns = [c for c in self._reader.connections if wanted is None or c.topic in wanted]
        if not conns:
            return
        for conn, t_ns, raw in self._reader.messages(connections=conns):
            yield conn.topic, conn.msgtype, int(t_ns), bytes(raw)

    def count(self, topics: Iterable[str]) -> int:
        topics_info = self.topics()
        return sum(topics_info[t].count for t in topics if t in topics_info)

    def deserialize(self, raw: bytes, msgtype: str) -> Any:
        return self.typestore.deserialize_cdr(raw, msgtype)


class BagWriter:
    """Context manager writing a new rosbag2 in ``sqlite3`` or ``mcap`` storage."""

    def __init__(
        self,
        path: str | os.PathLike,
        storage: str = "mcap",
        typestore: Typestore | None = None,
    ) -> None:
        if storage not in STORAGES:
            raise BagError(f"unknown storage {storage!r}: use one of {STORAGES}")
        self.path = Path(path)
        if self.path.exists():
            raise BagError(
                f"output bag {str(self.path)!r} exists already; remove it or pick "
                "another output folder"
            )
        self.storage = storage
        self.typestore = typestore or get_typestore(DEFAULT_STORE)
        self._writer = Writer(
            self.path,
            version=WRITER_VERSION,
            storage_plugin=StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3,
        )
        self._conns: dict[str, Any] = {}
        self.counts: dict[str, int] = {}

    def open(self) -> BagWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer.open()
        return self

    def close(self) -> None:
        if self._writer.storage is not None:
            self._writer.close()

    def __enter__(self) -> BagWriter:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_topic(self, topic: str, msgtype: str = IMAGE) -> None:
        if topic not in self._conns:
            self._conns[topic] = self._writer.add_connection(
                topic, msgtype, typestore=self.typestore
            )
            self.counts[topic] = 0

    def write_raw(self, topic: str, log_time_ns: int, raw: bytes, msgtype: str = IMAGE) -> None:
        self.add_topic(topic, msgtype)
        self._writer.write(self._conns[topic], int(log_time_ns), raw)
        self.counts[topic] += 1

    def write(self, topic: str, log_time_ns: int, msg: Any) -> None:
        msgtype = msg.__msgtype__
        self.write_raw(
            topic, log_time_ns, bytes(self.typestore.serialize_cdr(msg, msgtype)), msgtype
        )

    def types(self) -> Any:
        """The store's message classes (``types[IMAGE]`` builds a sensor_msgs/Image)."""
        return self.typestore.types


def stamp_ns(msg: Any) -> int:
    """A message's ``header.stamp`` in integer nanoseconds."""
    from sccosf_ros.pipeline.pairing import stamp_to_ns

    return stamp_to_ns(msg.header.stamp)


def make_header(store: Typestore, t_ns: int, frame_id: str) -> Any:
    """A ``std_msgs/Header`` with the stamp ``t_ns`` (nanoseconds)."""
    time_cls = store.types["builtin_interfaces/msg/Time"]
    header_cls = store.types["std_msgs/msg/Header"]
    return header_cls(
        stamp=time_cls(sec=int(t_ns // 1_000_000_000), nanosec=int(t_ns % 1_000_000_000)),
        frame_id=frame_id,
    )
