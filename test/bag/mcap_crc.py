"""Test helpers: MCAP bags with chunk CRCs (as ``ros2 bag record`` writes them), then damaged.

``rosbags`` writes its chunks with CRC 0 (not checked); the ``mcap`` library's writer computes
them. :func:`rewrite_with_crcs` rewrites a rosbags-written MCAP storage file with the same
schemas, channels, metadata and messages (in file order, uncompressed chunks of
``chunk_size`` bytes), so the bag's metadata.yaml still describes it.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path


def storage_file(bag_path: Path) -> Path:
    return next(f for f in Path(bag_path).iterdir() if f.suffix in (".mcap", ".db3"))


def rewrite_with_crcs(bag_path: Path, chunk_size: int = 64 * 1024) -> Path:
    """Rewrite the bag's MCAP file with chunk CRCs; returns the file."""
    from mcap.reader import make_reader
    from mcap.writer import CompressionType, Writer

    f = storage_file(bag_path)
    reader = make_reader(io.BytesIO(f.read_bytes()))
    summary = reader.get_summary()
    out = io.BytesIO()
    w = Writer(out, chunk_size=chunk_size, compression=CompressionType.NONE, enable_crcs=True)
    w.start(profile=reader.get_header().profile, library="sccosf tests")
    schemas = {
        sid: w.register_schema(s.name, s.encoding, s.data) for sid, s in summary.schemas.items()
    }
    channels = {
        cid: w.register_channel(c.topic, c.message_encoding, schemas[c.schema_id], c.metadata)
        for cid, c in summary.channels.items()
    }
    for _schema, ch, msg in reader.iter_messages(log_time_order=False):
        w.add_message(channels[ch.id], msg.log_time, msg.data, msg.log_time, msg.sequence)
    for meta in reader.iter_metadata():
        w.add_metadata(meta.name, meta.metadata)
    w.finish()
    f.write_bytes(out.getvalue())
    return f


def flip_in_message(bag_path: Path, log_ns: int, n: int = 64) -> int:
    """Invert ``n`` bytes inside the data of the message logged at ``log_ns`` (its pixels:
    bytes counted back from the end of the message); returns the file offset flipped."""
    f = storage_file(bag_path)
    data = bytearray(f.read_bytes())
    # MCAP message record: op 0x05, u64 length, u16 channel, u32 sequence, u64 log time, u64
    # publish time (= log time here), data.
    at = data.find(struct.pack("<Q", log_ns) * 2) - 15
    assert at > 0 and data[at] == 0x05, "message not found (compressed chunk?)"
    length = struct.unpack_from("<Q", data, at + 1)[0]
    end = at + 9 + length
    start = end - n - 16
    for i in range(start, start + n):
        data[i] ^= 0xFF
    f.write_bytes(bytes(data))
    return start
