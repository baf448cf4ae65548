"""Chunk-by-chunk MCAP reading: CRCs checked, a bad chunk skipped, named and counted."""

from __future__ import annotations

import sys
from pathlib import Path

from sccosf_ros.bag.bag_io import BagReader
from sccosf_ros.synthetic import write_synthetic_bag

sys.path.insert(0, str(Path(__file__).resolve().parent))  # mcap_crc
from mcap_crc import flip_in_message, rewrite_with_crcs, storage_file

SEC = 1_000_000_000


def _bag(path: Path):
    """52 RGB + 52 thermal frames, about 6 pairs per 64 KiB chunk once rewritten."""
    return write_synthetic_bag(
        path,
        storage="mcap",
        duration=5.2,
        rgb_rate=10.0,
        thermal_rate=10.0,
        thermal_offset=0.004,
        height=40,
        width=56,
        label_topic=None,
        show_progress=False,
    )


def _chunk_indexes(bag_path: Path) -> list:
    from mcap.reader import make_reader

    with storage_file(bag_path).open("rb") as f:
        chunks = make_reader(f).get_summary().chunk_indexes
    return sorted(chunks, key=lambda c: c.chunk_start_offset)


def _read(path: Path) -> tuple[list, BagReader, list[str]]:
    told: list[str] = []
    with BagReader(path) as r:
        r.on_damage = told.append
        return list(r.messages()), r, told


def _log_ns(bag, i: int) -> int:
    return bag.rgb_stamps[i] + round(bag.config.transport_delay * SEC)


def test_a_chunk_failing_its_crc_is_skipped_named_and_counted(tmp_path):
    bag = _bag(tmp_path / "rec")
    intact, _, _ = _read(bag.path)
    rewrite_with_crcs(bag.path)
    same, r, told = _read(bag.path)
    assert same == intact and not told and r.damage_summary() is None  # rosbags' order
    chunks = _chunk_indexes(bag.path)
    assert len(chunks) > 5

    victim = _log_ns(bag, 20)
    flipped = flip_in_message(bag.path, victim)
    got, r, told = _read(bag.path)
    (bad,) = [
        (i, c)
        for i, c in enumerate(chunks)
        if c.chunk_start_offset <= flipped < c.chunk_start_offset + c.chunk_length
    ]
    index, ci = bad
    in_chunk = [m for m in intact if ci.message_start_time <= m[2] <= ci.message_end_time]
    assert victim in [m[2] for m in in_chunk]
    # Exactly that chunk's messages are missing; everything else as intact, in order.
    assert got == [m for m in intact if m not in in_chunk]
    (d,) = r.damaged_chunks
    assert (d.index, d.offset) == (index, ci.chunk_start_offset)
    assert (d.start_ns, d.end_ns) == (ci.message_start_time, ci.message_end_time)
    c = bag.config
    assert d.lost == {
        t: sum(1 for m in in_chunk if m[0] == t) for t in (c.rgb_topic, c.thermal_topic)
    }
    assert d.messages_lost == len(in_chunk) > 0
    (line,) = told
    assert f"chunk {index} at byte {ci.chunk_start_offset}" in line
    assert "does not match its CRC" in line and f"{len(in_chunk)} messages lost" in line
    assert f"{ci.message_start_time / SEC:.3f}" in line
    summary = r.damage_summary()
    assert "1 MCAP chunk(s) failed their CRC check" in summary
    assert f"{len(in_chunk)} messages lost" in summary


def test_a_bag_without_crcs_cannot_be_checked(tmp_path):
    """rosbags writes CRC 0: the same damage is read as it is (documented)."""
    bag = _bag(tmp_path / "rec")
    intact, _, _ = _read(bag.path)
    flip_in_message(bag.path, _log_ns(bag, 20))
    got, r, told = _read(bag.path)
    assert len(got) == len(intact) and got != intact
    assert not told and not r.damaged_chunks


def test_salvage_of_a_truncated_file_skips_a_bad_chunk_and_reads_on(tmp_path):
    bag = _bag(tmp_path / "rec")
    intact, _, _ = _read(bag.path)
    f = rewrite_with_crcs(bag.path)
    chunks = _chunk_indexes(bag.path)
    flip_in_message(bag.path, _log_ns(bag, 8))  # in an early chunk
    last = chunks[-2]
    f.write_bytes(f.read_bytes()[: last.chunk_start_offset + last.chunk_length + 50])
    got, r, told = _read(f)
    assert r.notes and "truncated" in r.notes[0]
    (d,) = r.damaged_chunks
    assert d.messages_lost > 0 and len(told) == 1 and "does not match its CRC" in told[0]
    upto = [m for m in intact if m[2] <= last.message_end_time]
    bad = chunks[d.index]
    assert got == [m for m in upto if not bad.message_start_time <= m[2] <= bad.message_end_time]
    assert d.messages_lost == len(upto) - len(got)
    assert set(d.lost) == {bag.config.rgb_topic, bag.config.thermal_topic}
