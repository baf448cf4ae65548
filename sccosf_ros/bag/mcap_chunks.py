"""Reading an indexed MCAP file chunk by chunk, checking each chunk's CRC (the ``mcap`` library).

``rosbags`` reads MCAP chunks the same way, but a chunk whose data does not match its CRC ends
its whole read with "Chunk checksum mismatch", however much of the file is intact. Here each
chunk is decompressed and its ``uncompressed_crc`` checked before any of its messages is used:
a chunk that fails is skipped and reported (:class:`DamagedChunk`: which chunk, where, its log
time range and the messages lost per topic, from the message index records that lie outside the
chunk), and the other chunks are read. A chunk written without a CRC (0, what ``rosbags``
writes) cannot be checked: it is read as it is. Other failures (a record cut short, a length
field gone wrong) raise, as they do in ``rosbags``.

Messages come in the order ``rosbags`` yields them (each chunk's messages sorted by log time,
chunks merged by log time, then chunk offset), so a bag reads the same either way.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

_CHUNK_OPCODE = 0x06
_MESSAGE_OPCODE = 0x05


@dataclass(frozen=True)
class DamagedChunk:
    """A chunk skipped because its data does not match its CRC."""

    file: str  # the storage file's name
    index: int  # position among the file's chunks (0-based, file order)
    offset: int  # byte offset of the chunk record in the file (-1: not known)
    start_ns: int  # log time range the chunk covers
    end_ns: int
    lost: dict[str, int]  # topic → messages in the chunk (empty when the file has no index)

    @property
    def messages_lost(self) -> int:
        return sum(self.lost.values())

    def where(self) -> str:
        """``<index> at byte <offset>`` (the offset when known)."""
        return f"{self.index}" + (f" at byte {self.offset}" if self.offset >= 0 else "")

    def describe(self) -> str:
        """One line: what was skipped and what it cost."""
        lost = ", ".join(f"{n} on {t}" for t, n in sorted(self.lost.items())) or "unknown"
        return (
            f"{self.file}: chunk {self.where()} (log time "
            f"{self.start_ns / 1e9:.3f} .. {self.end_ns / 1e9:.3f} s) does not match its CRC "
            f"and was skipped: {self.messages_lost} messages lost ({lost})"
        )


def _summary(f: BinaryIO) -> Any:
    from mcap.reader import make_reader

    return make_reader(f).get_summary()


def _lost_per_topic(f: BinaryIO, ci: Any, topics: dict[int, str]) -> dict[str, int]:
    """Messages per topic in a chunk, from its message index records (16 bytes per message)."""
    lost: dict[str, int] = {}
    for channel_id, offset in ci.message_index_offsets.items():
        f.seek(offset + 1 + 8 + 2)  # opcode, record length, channel id
        n = int.from_bytes(f.read(4), "little") // 16
        if n:
            topic = topics.get(channel_id, f"channel {channel_id}")
            lost[topic] = lost.get(topic, 0) + n
    return lost


def _read_chunk(f: BinaryIO, offset: int) -> Any:
    from mcap.data_stream import ReadDataStream
    from mcap.records import Chunk

    f.seek(offset)
    head = f.read(9)
    if len(head) != 9 or head[0] != _CHUNK_OPCODE:
        raise ValueError(f"no chunk record at byte {offset}")
    return Chunk.read(ReadDataStream(f))


class CheckedMcap:
    """One indexed MCAP file: its messages, damaged chunks skipped and passed to ``on_damage``."""

    def __init__(self, path: Path, on_damage: Callable[[DamagedChunk], None]) -> None:
        self.path = path
        self.on_damage = on_damage
        with path.open("rb") as f:
            summary = _summary(f)
        self._topics = {cid: ch.topic for cid, ch in summary.channels.items()}
        self._types = {
            cid: summary.schemas[ch.schema_id].name if ch.schema_id in summary.schemas else ""
            for cid, ch in summary.channels.items()
        }
        self._chunks = sorted(summary.chunk_indexes, key=lambda c: c.chunk_start_offset)

    def messages(self, topics: set[str] | None) -> Iterator[tuple[str, str, int, bytes]]:
        """``(topic, msgtype, log_time_ns, cdr_bytes)`` in log-time order (see module doc)."""
        wanted = {c for c, t in self._topics.items() if topics is None or t in topics}
        with self.path.open("rb") as f:
            sources = [
                self._chunk_messages(f, i, ci, wanted)
                for i, ci in enumerate(self._chunks)
                if not ci.message_index_offsets or wanted & set(ci.message_index_offsets)
            ]
            for _t, offset, _i, cid, data in heapq.merge(*sources):
                if offset:  # 0: a chunk's start marker
                    yield self._topics[cid], self._types[cid], _t, data

    def _chunk_messages(
        self, f: BinaryIO, index: int, ci: Any, wanted: set[int]
    ) -> Iterator[tuple[int, int, int, int, bytes]]:
        # A start marker first: the chunk is read only when the merge reaches its start time.
        yield ci.message_start_time, 0, 0, 0, b""
        data = chunk_data(_read_chunk(f, ci.chunk_start_offset))
        if data is None:
            lost = _lost_per_topic(f, ci, self._topics)
            start, end = ci.message_start_time, ci.message_end_time
            self.on_damage(
                DamagedChunk(self.path.name, index, ci.chunk_start_offset, start, end, lost)
            )
            return
        msgs = [
            (t, ci.chunk_start_offset, i, cid, raw)
            for i, (cid, t, raw) in enumerate(_chunk_messages(data))
            if cid in wanted
        ]
        yield from sorted(msgs, key=lambda m: m[0])


def chunk_data(chunk: Any) -> bytes | None:
    """The chunk's records, decompressed; None when they do not match a (non-zero) CRC."""
    from mcap.stream_reader import get_chunk_data_stream

    stream, size = get_chunk_data_stream(chunk, validate_crc=False)
    data = stream.read(size)
    if len(data) != chunk.uncompressed_size:
        raise ValueError(
            f"chunk holds {len(data)} bytes, its header says {chunk.uncompressed_size}"
        )
    if chunk.uncompressed_crc and zlib.crc32(data) != chunk.uncompressed_crc:
        return None
    return data


def _chunk_messages(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """``(channel_id, log_time, data)`` of each message record in a chunk's records."""
    size, at = len(data), 0
    view = memoryview(data)
    while at < size:
        if at + 9 > size:
            raise ValueError(f"a record in the chunk is cut short at byte {at}")
        op, length = data[at], int.from_bytes(data[at + 1 : at + 9], "little")
        body = at + 9
        if body + length > size:
            raise ValueError(f"a record in the chunk claims {length} bytes past its end")
        if op == _MESSAGE_OPCODE:
            if length < 22:
                raise ValueError(f"a message record of {length} bytes is too short")
            cid = int.from_bytes(data[body : body + 2], "little")
            log_time = int.from_bytes(data[body + 6 : body + 14], "little")
            yield cid, log_time, bytes(view[body + 22 : body + length])
        at = body + length
