"""Reading what a truncated MCAP file still holds, by a forward scan (the ``mcap`` library).

An MCAP file ends with a summary section and a footer that index it; ``rosbags`` needs them. A
recording that did not finish (``ros2 bag record`` killed, power lost, disk full) or a partial
copy has neither. The format is a sequence of self-delimiting records, though, so a forward scan
from the start (``mcap.stream_reader.StreamReader``) reads every complete record (schemas,
channels, chunks of messages) up to the point where the file was cut. :class:`SalvagedMcap`
scans once to learn the topics, counts and time range, and again to yield the messages, with
the same interface ``sccosf_ros.bag.bag_io.BagReader`` uses for a ``rosbags`` reader.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sccosf_ros.bag.mcap_chunks import DamagedChunk, chunk_data

MCAP_MAGIC = b"\x89MCAP0\r\n"


def mcap_is_complete(path: str | os.PathLike) -> bool:
    """True when the file ends with the MCAP magic (its footer was written)."""
    p = Path(path)
    size = p.stat().st_size
    if size < 2 * len(MCAP_MAGIC):
        return False
    with p.open("rb") as f:
        f.seek(size - len(MCAP_MAGIC))
        return f.read() == MCAP_MAGIC


@dataclass(frozen=True)
class SalvagedTopic:
    """A channel found by the scan (the fields BagReader reads from a rosbags connection)."""

    topic: str
    msgtype: str
    msgdef: str  # the schema text (ros2msg or ros2idl)
    msgdef_idl: bool
    count: int


def _records(path: Path, on_damage: Callable[[DamagedChunk], None]) -> Iterator[Any]:
    """Every complete record, in file order (a chunk's records in its place, a chunk that
    fails its CRC skipped and passed to ``on_damage``); stops where the file is cut short."""
    from mcap.exceptions import McapError
    from mcap.records import Channel, Chunk, MessageIndex
    from mcap.stream_reader import StreamReader, breakup_chunk

    with path.open("rb") as f:
        damaged: DamagedChunk | None = None  # told once its message index records are counted
        index = -1
        topics: dict[int, str] = {}  # channel id → topic, for the messages a bad chunk lost
        try:
            # A cut file has no footer: the reader runs into the end of the data and raises.
            for rec in StreamReader(f, emit_chunks=True, validate_crcs=False).records:
                if isinstance(rec, MessageIndex):
                    if damaged is not None:
                        key = topics.get(rec.channel_id, f"channel {rec.channel_id}")
                        damaged.lost[key] = damaged.lost.get(key, 0) + len(rec.records)
                    continue
                if damaged is not None:
                    on_damage(damaged)
                    damaged = None
                if isinstance(rec, Channel):
                    topics[rec.id] = rec.topic
                if not isinstance(rec, Chunk):
                    yield rec
                    continue
                index += 1
                if chunk_data(rec) is None:
                    start, end = rec.message_start_time, rec.message_end_time
                    damaged = DamagedChunk(path.name, index, -1, start, end, {})
                    continue
                for inner in breakup_chunk(rec, validate_crc=False):
                    if isinstance(inner, Channel):
                        topics[inner.id] = inner.topic
                    yield inner
        except (McapError, EOFError, ValueError, OSError, MemoryError) as e:
            raise _Truncated(str(e) or type(e).__name__) from None
        except Exception as e:  # a half-written chunk fails inside its decompressor
            raise _Truncated(f"{type(e).__name__}: {e}") from None
        finally:
            if damaged is not None:
                on_damage(damaged)


class _Truncated(Exception):
    """Where and why the forward scan stopped."""


class SalvagedMcap:
    """A truncated MCAP file read by forward scan: topics, counts, time range, messages."""

    def __init__(
        self, path: str | os.PathLike, on_damage: Callable[[DamagedChunk], None] | None = None
    ) -> None:
        self.path = Path(path)
        self._on_damage = on_damage or (lambda chunk: None)
        self.ros_distro: str | None = None
        self.stop_reason = ""
        self._schemas: dict[int, Any] = {}
        self._channels: dict[int, Any] = {}
        self._counts: dict[int, int] = {}
        self.message_count = 0
        self.start_time = 0
        self.end_time = 0
        self._scan()

    def _scan(self) -> None:
        from mcap.records import Channel, Message, Metadata, Schema

        first, last = None, None
        try:
            for rec in _records(self.path, lambda chunk: None):  # told when messages are read
                if isinstance(rec, Schema):
                    self._schemas[rec.id] = rec
                elif isinstance(rec, Channel):
                    self._channels[rec.id] = rec
                elif isinstance(rec, Message):
                    self._counts[rec.channel_id] = self._counts.get(rec.channel_id, 0) + 1
                    self.message_count += 1
                    first = rec.log_time if first is None else min(first, rec.log_time)
                    last = rec.log_time if last is None else max(last, rec.log_time)
                elif isinstance(rec, Metadata) and rec.name == "rosbag2":
                    self.ros_distro = _distro(rec.metadata)
        except _Truncated as e:
            self.stop_reason = str(e)
        self.start_time = first or 0
        self.end_time = (last + 1) if last is not None else 0

    def topics(self) -> dict[str, SalvagedTopic]:
        out: dict[str, SalvagedTopic] = {}
        for cid, ch in self._channels.items():
            schema = self._schemas.get(ch.schema_id)
            name = schema.name if schema is not None else ""
            text = bytes(schema.data).decode("utf-8", "replace") if schema is not None else ""
            idl = schema is not None and schema.encoding == "ros2idl"
            prev = out.get(ch.topic)
            count = self._counts.get(cid, 0) + (prev.count if prev else 0)
            out[ch.topic] = SalvagedTopic(ch.topic, name, text, idl, count)
        return out

    def messages(
        self, topics: Iterable[str] | None = None
    ) -> Iterator[tuple[str, str, int, bytes]]:
        """``(topic, msgtype, log_time_ns, cdr_bytes)`` in file order, up to the cut."""
        from mcap.records import Message

        wanted = set(topics) if topics is not None else None
        types = {t.topic: t.msgtype for t in self.topics().values()}
        try:
            for rec in _records(self.path, self._on_damage):
                if not isinstance(rec, Message):
                    continue
                ch = self._channels.get(rec.channel_id)
                if ch is None or (wanted is not None and ch.topic not in wanted):
                    continue
                yield ch.topic, types[ch.topic], int(rec.log_time), bytes(rec.data)
        except _Truncated:
            return  # the end of what the first scan found readable

    def close(self) -> None:
        """Nothing stays open between scans."""


def _distro(metadata: dict[str, str]) -> str | None:
    """ROS distribution from rosbag2's ``rosbag2`` metadata record, if it says."""
    if metadata.get("ROS_DISTRO"):
        return metadata["ROS_DISTRO"]
    import yaml

    try:
        info = yaml.safe_load(metadata.get("serialized_metadata", "")) or {}
        return info["rosbag2_bagfile_information"].get("ros_distro") or None
    except (yaml.YAMLError, KeyError, TypeError, AttributeError):
        return None


def recover_command(path: str | os.PathLike) -> str:
    """The command that rewrites a truncated MCAP file as a complete one (the mcap CLI)."""
    p = Path(path)
    return f"mcap recover {p} -o {p.with_name(p.stem + '_recovered.mcap')}"
