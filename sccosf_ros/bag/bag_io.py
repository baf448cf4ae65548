"""Reading and writing rosbag2 files (sqlite3 and MCAP) without ROS, through ``rosbags``.

``BagReader`` opens a bag directory (or a bare ``.db3``/``.mcap`` file), tells which storage it
uses, picks the ``rosbags`` type store of the ROS distribution that recorded it (default Humble;
``sensor_msgs/Image`` is the same in every ROS 2 distribution) and registers any message
definition the bag carries that the store lacks. ``BagWriter`` writes new bags in either
storage. Messages stay CDR bytes until asked for, so tools can copy them without decoding.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.rosbag2.errors import ReaderError
from rosbags.rosbag2.storage_mcap import McapReader
from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from sccosf_ros.bag.mcap_chunks import CheckedMcap, DamagedChunk
from sccosf_ros.errors import SccosfError
from sccosf_ros.pipeline.compressed import COMPRESSED_IMAGE

IMAGE = "sensor_msgs/msg/Image"
IMAGE_TYPES = (IMAGE, COMPRESSED_IMAGE)  # what an RGB or thermal topic may carry
STORAGES = ("sqlite3", "mcap")
DEFAULT_STORE = Stores.ROS2_HUMBLE
WRITER_VERSION = 9  # rosbag2 metadata version written (Jazzy and later; rosbags writes 8 or 9)

_SUFFIX_STORAGE = {".db3": "sqlite3", ".mcap": "mcap"}


class BagError(SccosfError, RuntimeError):
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
            why = " ".join(str(e).split())  # YAML errors span lines; one line for the user
            raise BagError(f"{str(meta)!r} is not a valid rosbag2 metadata file ({why})") from e
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


def register_bag_types(store: Typestore, definitions: Iterable[tuple[str, str, bool]]) -> None:
    """Add message definitions recorded in the bag (``(msgtype, text, is_idl)``) that the store
    does not know yet."""
    for msgtype, text, is_idl in definitions:
        if msgtype in store.types or not text:
            continue
        try:
            types = get_types_from_idl(text) if is_idl else get_types_from_msg(text, msgtype)
            store.register(types)
        except Exception:  # an odd definition only matters if someone reads that topic
            continue


def _split_index(path: Path) -> tuple[int, str]:
    """Sort key of rosbag2 split files: ``name_2.mcap`` before ``name_10.mcap``."""
    m = re.search(r"_(\d+)$", path.stem)
    return (int(m.group(1)) if m else -1, path.name)


def storage_files(path: Path) -> list[Path]:
    """The .db3/.mcap files of a bag directory (or the file itself), in recording order."""
    if path.is_file():
        return [path]
    return sorted((f for f in path.iterdir() if f.suffix in _SUFFIX_STORAGE), key=_split_index)


class _RosbagsSource:
    """A bag (directory with metadata.yaml, or one storage file) opened by ``rosbags``; the
    messages of indexed MCAP files are read by ``CheckedMcap`` (chunk CRCs checked)."""

    def __init__(self, path: Path, on_damage: Callable[[DamagedChunk], None]) -> None:
        self._on_damage = on_damage
        self._reader = Reader(path)
        self._reader.open()
        self.ros_distro = self._reader.ros_distro
        self.message_count = int(self._reader.message_count)
        self.start_time = int(self._reader.start_time) if self.message_count else 0
        self.end_time = int(self._reader.end_time) if self.message_count else 0

    def topics(self) -> dict[str, TopicSummary]:
        return {
            name: TopicSummary(name, info.msgtype, int(info.msgcount))
            for name, info in self._reader.topics.items()
        }

    def definitions(self) -> list[tuple[str, str, bool]]:
        return [
            (c.msgtype, c.msgdef.data, c.msgdef.format.name == "IDL")
            for c in self._reader.connections
            if c.msgdef and c.msgdef.data
        ]

    def messages(self, topics: set[str] | None) -> Iterator[tuple[str, str, int, bytes]]:
        conns = [c for c in self._reader.connections if topics is None or c.topic in topics]
        if not conns:
            return
        files = getattr(self._reader.storage, "storages", [self._reader.storage])
        if all(isinstance(f, McapReader) and f.chunks for f in files):
            for f in files:  # one after the other, as rosbags reads split files
                yield from CheckedMcap(Path(f.path), self._on_damage).messages(topics)
            return
        for conn, t_ns, raw in self._reader.messages(connections=conns):
            yield conn.topic, conn.msgtype, int(t_ns), bytes(raw)

    def close(self) -> None:
        self._reader.close()


class _SalvageSource:
    """A truncated MCAP file, read as far as it goes (``mcap_salvage``)."""

    def __init__(self, path: Path, on_damage: Callable[[DamagedChunk], None]) -> None:
        from sccosf_ros.bag.mcap_salvage import SalvagedMcap

        self._scan = SalvagedMcap(path, on_damage)
        self.ros_distro = self._scan.ros_distro
        self.message_count = self._scan.message_count
        self.start_time, self.end_time = self._scan.start_time, self._scan.end_time
        self.stop_reason = self._scan.stop_reason

    def topics(self) -> dict[str, TopicSummary]:
        return {n: TopicSummary(n, t.msgtype, t.count) for n, t in self._scan.topics().items()}

    def definitions(self) -> list[tuple[str, str, bool]]:
        return [(t.msgtype, t.msgdef, t.msgdef_idl) for t in self._scan.topics().values()]

    def messages(self, topics: set[str] | None) -> Iterator[tuple[str, str, int, bytes]]:
        return self._scan.messages(topics)

    def close(self) -> None:
        self._scan.close()


class _Chain:
    """Several storage files of one bag (rosbag2 splits), read one after the other."""

    def __init__(self, sources: list[Any]) -> None:
        self.sources = sources
        with_msgs = [s for s in sources if s.message_count]
        self.ros_distro = next((s.ros_distro for s in sources if s.ros_distro), None)
        self.message_count = sum(s.message_count for s in sources)
        self.start_time = min((s.start_time for s in with_msgs), default=0)
        self.end_time = max((s.end_time for s in with_msgs), default=0)

    def topics(self) -> dict[str, TopicSummary]:
        out: dict[str, TopicSummary] = {}
        for s in self.sources:
            for name, t in s.topics().items():
                prev = out.get(name)
                out[name] = TopicSummary(name, t.msgtype, t.count + (prev.count if prev else 0))
        return out

    def definitions(self) -> list[tuple[str, str, bool]]:
        return [d for s in self.sources for d in s.definitions()]

    def messages(self, topics: set[str] | None) -> Iterator[tuple[str, str, int, bytes]]:
        for s in self.sources:
            yield from s.messages(topics)

    def close(self) -> None:
        for s in self.sources:
            s.close()


class BagReadError(BagError):
    """Reading failed part-way through the bag; the messages before it were delivered."""

    def __init__(self, message: str, messages_read: int, last_log_ns: int | None) -> None:
        super().__init__(message)
        self.messages_read = messages_read
        self.last_log_ns = last_log_ns


class BagReader:
    """Context manager over a rosbag2: topics, storage, raw and deserialized messages.

    Damaged recordings are read as far as they go, each with a line in ``notes`` that says
    what was done: a directory without ``metadata.yaml`` (a ``ros2 bag record`` that did not
    finish) is opened by its storage files, and a truncated MCAP file (no footer) by a forward
    scan. An MCAP chunk whose data does not match its CRC is skipped: it is added to
    ``damaged_chunks`` and told to ``on_damage`` (one line) as the read passes it, and the rest
    is read. A read error part-way raises :class:`BagReadError` from :meth:`messages` after the
    messages before it.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.storage = detect_storage(self.path)
        self.typestore: Typestore = get_typestore(DEFAULT_STORE)
        self.notes: list[str] = []  # what was done to read a damaged bag (warnings for the user)
        self.damaged_chunks: list[DamagedChunk] = []  # skipped for a CRC mismatch
        self.on_damage: Callable[[str], None] | None = None  # told each skipped chunk
        self._source: Any = None

    def _damaged(self, chunk: DamagedChunk) -> None:
        if any(c.file == chunk.file and c.offset == chunk.offset for c in self.damaged_chunks):
            return  # read again (replay --loop): told once
        self.damaged_chunks.append(chunk)
        if self.on_damage is not None:
            self.on_damage(chunk.describe())

    def damage_summary(self) -> str | None:
        """One line on the chunks skipped so far (None when none was)."""
        if not self.damaged_chunks:
            return None
        lost = sum(c.messages_lost for c in self.damaged_chunks)
        where = "; ".join(
            f"{c.file} chunk {c.where()}, log time "
            f"{c.start_ns / 1e9:.3f} .. {c.end_ns / 1e9:.3f} s"
            for c in self.damaged_chunks
        )
        return (
            f"bag {str(self.path)!r}: {len(self.damaged_chunks)} MCAP chunk(s) failed their CRC "
            f"check and were skipped, {lost} messages lost ({where})"
        )

    def open(self) -> BagReader:
        try:
            self._source = self._open_source()
        except (ReaderError, OSError, ValueError, KeyError) as e:
            why = " ".join(str(e).split())
            raise BagError(f"cannot read bag {str(self.path)!r}: {why}") from e
        self.typestore = typestore_for(self._source.ros_distro)
        register_bag_types(self.typestore, self._source.definitions())
        return self

    def _open_source(self) -> Any:
        from sccosf_ros.bag.mcap_salvage import MCAP_MAGIC, mcap_is_complete

        files = storage_files(self.path)
        truncated = [f for f in files if f.suffix == ".mcap" and not mcap_is_complete(f)]
        for f in truncated:
            with f.open("rb") as fh:
                head = fh.read(len(MCAP_MAGIC))
            if head != MCAP_MAGIC:
                raise BagError(f"{str(f)!r} is not an MCAP file (it starts with {head!r})")
        no_meta = self.path.is_dir() and not (self.path / "metadata.yaml").is_file()
        if not truncated and not no_meta:
            return _RosbagsSource(self.path, self._damaged)
        if no_meta:
            self.notes.append(
                f"bag {str(self.path)!r} has no metadata.yaml (a recording that did not "
                f"finish?): index rebuilt from {', '.join(f.name for f in files)}; "
                f"`ros2 bag reindex {self.path}` writes it back permanently"
            )
        sources = [
            (_SalvageSource if f in truncated else _RosbagsSource)(f, self._damaged) for f in files
        ]
        for f, src in zip(files, sources):
            if f in truncated:
                self.notes.append(_truncated_note(f, src))
        return sources[0] if len(sources) == 1 else _Chain(sources)

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None

    def __enter__(self) -> BagReader:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ros_distro(self) -> str | None:
        return self._source.ros_distro

    @property
    def message_count(self) -> int:
        return int(self._source.message_count)

    @property
    def start_time(self) -> int:
        return int(self._source.start_time)

    @property
    def end_time(self) -> int:
        return int(self._source.end_time)

    def topics(self) -> dict[str, TopicSummary]:
        return dict(sorted(self._source.topics().items()))

    def describe_topics(self) -> str:
        """``name [type] N msgs`` per topic, on one line (for one-line error messages)."""
        parts = [f"{t.name} [{t.msgtype}] {t.count} msgs" for t in self.topics().values()]
        return "; ".join(parts) if parts else "(the bag has no topics)"

    def require_topic(
        self, topic: str, msgtype: str | tuple[str, ...] | None = IMAGE, what: str = ""
    ) -> str:
        """The type of ``topic``; a BagError listing the bag's topics if it is absent or of
        another type than ``msgtype`` (one name or a tuple of accepted names)."""
        topics = self.topics()
        label = f"{what} topic" if what else "topic"
        if topic not in topics:
            if not topics:
                raise BagError(
                    f"{label} {topic!r} is not in bag {str(self.path)!r}: it has no topics"
                )
            raise BagError(
                f"{label} {topic!r} is not in bag {str(self.path)!r}; its topics are: "
                + self.describe_topics()
            )
        found = topics[topic].msgtype
        accepted = (msgtype,) if isinstance(msgtype, str) else msgtype
        if accepted is not None and found not in accepted:
            raise BagError(f"{label} {topic!r} carries {found}, expected {' or '.join(accepted)}")
        return str(found)

    def image_topic(self, topic: str, what: str = "") -> str:
        """The topic holding ``topic``'s camera images, Image or CompressedImage: ``topic``
        itself, or image_transport's ``<topic>/compressed`` when only that is in the bag."""
        if topic not in self.topics() and f"{topic}/compressed" in self.topics():
            topic = f"{topic}/compressed"
        self.require_topic(topic, IMAGE_TYPES, what)
        return topic

    def messages(
        self, topics: Iterable[str] | None = None
    ) -> Iterator[tuple[str, str, int, bytes]]:
        """Yield ``(topic, msgtype, log_time_ns, cdr_bytes)`` in the bag's log-time order.

        A storage error part-way raises :class:`BagReadError` (after what was read before it).
        """
        wanted = set(topics) if topics is not None else None
        it = self._source.messages(wanted)
        n, last = 0, None
        while True:
            try:
                item = next(it)
            except StopIteration:
                return
            except Exception as e:  # sqlite corruption, a bad MCAP chunk, an I/O error
                at = f" (log time {last / 1e9:.3f} s)" if last is not None else ""
                raise BagReadError(
                    f"reading bag {str(self.path)!r} failed after {n} messages{at}: "
                    f"{type(e).__name__}: {e}",
                    n,
                    last,
                ) from e
            n, last = n + 1, item[2]
            yield item

    def count(self, topics: Iterable[str]) -> int:
        topics_info = self.topics()
        return sum(topics_info[t].count for t in topics if t in topics_info)

    def deserialize(self, raw: bytes, msgtype: str) -> Any:
        return self.typestore.deserialize_cdr(raw, msgtype)


def _truncated_note(path: Path, src: Any) -> str:
    from sccosf_ros.bag.mcap_salvage import recover_command

    upto = f" up to log time {src.end_time / 1e9:.3f} s" if src.message_count else ""
    return (
        f"{path.name} is truncated (no MCAP footer: a recording that did not finish, or a "
        f"partial copy): salvaged {src.message_count} messages{upto} by a forward scan, the "
        f"rest is lost; to repair the file itself run `{recover_command(path)}`"
    )


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
