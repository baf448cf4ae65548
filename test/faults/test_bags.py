"""Damaged bags through the real commands: one clear line, no traceback, nothing lost.

What a crashed ``ros2 bag record`` leaves (no metadata.yaml, a truncated MCAP), a read error
part-way through a bag, a topic with no messages, and the bad input every bag command must turn
into one ``sccosf <cmd>: error: ...`` line: ``sccosf bag-eval``, ``sccosf extract``, ``sccosf
replay`` and ``sccosf calibrate``, run as a user types them (``sccosf_ros.cli.main``).
"""

from __future__ import annotations

import json
import shutil
import struct
import sys
from pathlib import Path

import pytest
import yaml

from sccosf_ros.bag.bag_io import BagReader
from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.synthetic import THERMAL_COUNTS, write_synthetic_bag

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bag"))  # mcap_crc
from mcap_crc import flip_in_message, rewrite_with_crcs

SEC = 1_000_000_000


def _bag(path: Path, storage: str = "mcap", **kw):
    settings = dict(
        storage=storage,
        duration=1.0,
        rgb_rate=10.0,
        thermal_rate=10.0,
        thermal_offset=0.004,
        height=40,
        width=56,
        label_topic=None,
        show_progress=False,
    )
    settings.update(kw)
    return write_synthetic_bag(path, **settings)


def _big_bag(path: Path):
    """An MCAP bag of 2 chunks (rosbags closes a chunk at 1 MiB): 30 RGB + 30 thermal."""
    return _bag(path, duration=3.0, height=96, width=128)


def _eval_args(bag, ckpt, out: Path, *extra: str) -> list[str]:
    c = bag.config
    return [
        "bag-eval",
        "--backend",
        "torch",
        str(bag.path),
        "--checkpoint",
        str(ckpt),
        "--rgb-topic",
        c.rgb_topic,
        "--thermal-topic",
        c.thermal_topic,
        "--out",
        str(out),
        "--device",
        "cpu",
        "--input-size",
        "32",
        "48",
        "--thermal-norm",
        "fixed",
        "--thermal-range",
        str(THERMAL_COUNTS[0]),
        str(THERMAL_COUNTS[1]),
        "--quiet",
        *extra,
    ]


def _one_error_line(err: str, cmd: str) -> str:
    """The stderr of a failed command: no traceback, exactly one error line (plus warnings)."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith(f"sccosf {cmd}: error:")]
    assert len(errors) == 1, err
    others = [ln for ln in err.splitlines() if ln.strip() and "warning:" not in ln]
    assert others == errors, err
    return errors[0]


def _storage_file(path: Path) -> Path:
    return next(f for f in path.iterdir() if f.suffix in (".mcap", ".db3"))


def _chunks(bag_path: Path) -> list:
    """The MCAP file's chunk index (the mcap library's reading of its summary)."""
    from mcap.reader import make_reader

    with _storage_file(bag_path).open("rb") as f:
        return sorted(
            make_reader(f).get_summary().chunk_indexes, key=lambda c: c.chunk_start_offset
        )


def _corrupt_message(bag_path: Path, log_ns: int) -> None:
    """Break the record of the message logged at ``log_ns``: its length field says 2^40
    bytes, so reading the chunk that holds it fails (what a bad disk sector looks like)."""
    f = _storage_file(bag_path)
    data = bytearray(f.read_bytes())
    # MCAP message record: op 0x05, u64 length, u16 channel, u32 sequence, u64 log time, ...
    at = data.find(struct.pack("<Q", log_ns) * 2) - 15
    assert at > 0 and data[at] == 0x05
    data[at + 1 : at + 9] = struct.pack("<Q", 1 << 40)
    f.write_bytes(bytes(data))


# --------------------------------------------------------------------------- no metadata.yaml
@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_bag_without_metadata_is_read_with_a_warning(
    tmp_path, nano_checkpoint, one_thread, capsys, storage
):
    bag = _bag(tmp_path / "rec", storage)
    (bag.path / "metadata.yaml").unlink()  # what `ros2 bag record` leaves when killed
    assert sccosf_main(_eval_args(bag, nano_checkpoint, tmp_path / "o")) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "no metadata.yaml" in captured.err and "index rebuilt" in captured.err
    assert "ros2 bag reindex" in captured.err
    assert "pairs: 10" in captured.out
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["complete"] is True and m["pairs"] == 10
    assert any("no metadata.yaml" in w for w in m["bag_warnings"])


# --------------------------------------------------------------------------- read error
def test_read_error_mid_bag_stops_cleanly_and_keeps_partial_results(
    tmp_path, nano_checkpoint, one_thread, capsys
):
    good = _big_bag(tmp_path / "good" / "rec")
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    shutil.copytree(good.path, bad_dir / "rec")
    assert len(_chunks(good.path)) == 2  # the damage goes into the 2nd chunk
    victim = good.rgb_stamps[25] + round(good.config.transport_delay * SEC)
    _corrupt_message(bad_dir / "rec", victim)
    bad = type(good)(**{**good.__dict__, "path": bad_dir / "rec"})

    out = tmp_path / "o"
    assert sccosf_main(_eval_args(bad, nano_checkpoint, out)) == 1
    line = _one_error_line(capsys.readouterr().err, "bag-eval")
    assert "failed after" in line and "partial results" in line and "metrics.json" in line
    m = json.loads((out / "metrics.json").read_text())
    assert m["complete"] is False and "failed after" in m["error"]
    assert 0 < m["pairs"] < 30
    # The output bag was flushed: a valid bag with the pairs before the error, marked.
    with BagReader(out / "rec_sccosf") as r:
        assert r.topics()["/sccosf/fused"].count == m["pairs"]
    assert (out / "rec_sccosf.incomplete").exists()

    # The same command again: the incomplete output is replaced, no --overwrite needed.
    assert sccosf_main(_eval_args(bad, nano_checkpoint, out)) == 1
    err = capsys.readouterr().err
    assert "exists already" not in err and "left incomplete by an earlier run" in err
    # The intact recording into the same folder: complete, marker gone.
    assert sccosf_main(_eval_args(good, nano_checkpoint, out)) == 0
    capsys.readouterr()
    assert json.loads((out / "metrics.json").read_text())["complete"] is True
    assert not (out / "rec_sccosf.incomplete").exists()
    # A finished output bag is still never replaced silently.
    assert sccosf_main(_eval_args(good, nano_checkpoint, out)) == 2
    assert "--overwrite" in _one_error_line(capsys.readouterr().err, "bag-eval")


# --------------------------------------------------------------------------- chunk CRC
def _crc_bag(path: Path):
    """52 pairs in an MCAP file with chunk CRCs, as ``ros2 bag record`` writes it (about 6
    pairs per chunk)."""
    bag = _bag(path, duration=5.2)
    rewrite_with_crcs(bag.path)
    return bag


def test_a_chunk_failing_its_crc_is_skipped_and_every_other_pair_evaluated(
    tmp_path, nano_checkpoint, one_thread, capsys
):
    bag = _crc_bag(tmp_path / "bad" / "rec")
    good = _crc_bag(tmp_path / "good" / "rec")
    c = bag.config
    flip_in_message(bag.path, bag.rgb_stamps[30] + round(c.transport_delay * SEC))  # 64 bytes
    out = tmp_path / "o"
    assert sccosf_main(_eval_args(good, nano_checkpoint, out)) == 0
    capsys.readouterr()
    intact = json.loads((out / "metrics.json").read_text())
    assert intact["complete"] is True and intact["pairs"] == 52 and not intact["damaged_chunks"]

    assert sccosf_main(_eval_args(bag, nano_checkpoint, out, "--overwrite")) == 1
    err = capsys.readouterr().err
    line = _one_error_line(err, "bag-eval")
    (warning,) = [ln for ln in err.splitlines() if "does not match its CRC" in ln]
    m = json.loads((out / "metrics.json").read_text())
    (d,) = m["damaged_chunks"]
    assert f"rec.mcap: chunk {d['index']} at byte {d['offset']}" in warning
    assert f"{d['start_ns'] / SEC:.3f} .. {d['end_ns'] / SEC:.3f} s" in warning
    lost = d["lost"]
    assert lost[c.rgb_topic] > 0 and lost[c.thermal_topic] > 0
    assert m["messages_lost"] == sum(lost.values())
    assert f"{m['messages_lost']} messages lost" in line
    assert m["complete"] is False and "failed their CRC check" in m["error"]
    assert "partial results" in line
    # The rest of the bag was read: every message outside the chunk, every pair they form.
    for topic in (c.rgb_topic, c.thermal_topic):
        assert m["messages"][topic] == 52 - lost[topic]
    assert 52 - max(lost.values()) - 1 <= m["pairs"] < 52
    assert m["pairs"] == 52 - m["unmatched"][c.rgb_topic] - lost[c.rgb_topic]
    assert (out / "rec_sccosf.incomplete").exists()  # replaced by the next run


# --------------------------------------------------------------------------- truncated MCAP
@pytest.mark.parametrize("keep_metadata", [False, True])
def test_truncated_mcap_is_salvaged_with_the_repair_command(
    tmp_path, nano_checkpoint, one_thread, capsys, keep_metadata
):
    bag = _big_bag(tmp_path / "rec")
    f = _storage_file(bag.path)
    data = f.read_bytes()
    f.write_bytes(data[: int(len(data) * 0.8)])  # cut inside the 2nd chunk: no footer
    if not keep_metadata:
        (bag.path / "metadata.yaml").unlink()
    out = tmp_path / "o"
    assert sccosf_main(_eval_args(bag, nano_checkpoint, out)) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "is truncated" in captured.err and "salvaged" in captured.err
    assert f"mcap recover {f}" in captured.err
    m = json.loads((out / "metrics.json").read_text())
    # Everything in the complete first chunk is read; the cut chunk is lost.
    assert m["complete"] is True and 5 < m["pairs"] < 30
    assert m["messages"][bag.config.rgb_topic] == m["messages"][bag.config.thermal_topic]


def test_salvage_reads_exactly_the_complete_chunks(tmp_path):
    bag = _big_bag(tmp_path / "rec")
    f = _storage_file(bag.path)
    first_chunk = _chunks(bag.path)[0]
    with BagReader(bag.path) as r:
        in_first = sum(1 for _, _, t, _ in r.messages() if t <= first_chunk.message_end_time)
    end_of_first = first_chunk.chunk_start_offset + first_chunk.chunk_length
    f.write_bytes(f.read_bytes()[: end_of_first + 100])
    with BagReader(f) as r:
        assert r.message_count == in_first
        got = list(r.messages())
        assert len(got) == in_first and r.notes and "truncated" in r.notes[0]


# --------------------------------------------------------------------------- 0 pairs
def test_thermal_topic_without_messages_exits_1_with_the_stamp_ranges(
    tmp_path, nano_checkpoint, one_thread, capsys
):
    bag = _bag(tmp_path / "rec", thermal_gap=(-1.0, 10.0))
    with BagReader(bag.path) as r:
        assert r.topics()[bag.config.thermal_topic].count == 0
    assert sccosf_main(_eval_args(bag, nano_checkpoint, tmp_path / "o")) == 1
    line = _one_error_line(capsys.readouterr().err, "bag-eval")
    c = bag.config
    first, last = bag.rgb_stamps[0] / SEC, bag.rgb_stamps[-1] / SEC
    assert f"RGB {c.rgb_topic}: 10 messages, stamps {first:.3f} .. {last:.3f} s" in line
    assert f"thermal {c.thermal_topic}: 0 messages" in line and "sync.slop" in line
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["pairs"] == 0 and m["stamp_range_s"][c.thermal_topic] is None
    # Nothing useful was written: the output stays marked, so a rerun needs no --overwrite.
    assert (tmp_path / "o" / "rec_sccosf.incomplete").exists()
    good = _bag(tmp_path / "good" / "rec")
    assert sccosf_main(_eval_args(good, nano_checkpoint, tmp_path / "o")) == 0
    captured = capsys.readouterr()
    assert "exists already" not in captured.err and "pairs: 10" in captured.out
    assert not (tmp_path / "o" / "rec_sccosf.incomplete").exists()
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["pairs"] == 10


def test_streams_that_never_overlap_in_time_show_both_ranges(
    tmp_path, nano_checkpoint, one_thread, capsys
):
    bag = _bag(tmp_path / "rec", thermal_offset=3.0)  # thermal clock 3 s ahead of RGB
    assert sccosf_main(_eval_args(bag, nano_checkpoint, tmp_path / "o")) == 1
    line = _one_error_line(capsys.readouterr().err, "bag-eval")
    for what, topic, stamps in (
        ("RGB", bag.config.rgb_topic, bag.rgb_stamps),
        ("thermal", bag.config.thermal_topic, bag.thermal_stamps),
    ):
        span = f"{stamps[0] / SEC:.3f} .. {stamps[-1] / SEC:.3f} s"
        assert f"{what} {topic}: 10 messages, stamps {span}" in line


# --------------------------------------------------------------------------- replay
@pytest.mark.ros
def test_replay_plays_damaged_bags_as_far_as_they_go(tmp_path, capsys):
    bag = _bag(tmp_path / "nometa")
    (bag.path / "metadata.yaml").unlink()
    assert sccosf_main(["replay", str(bag.path), "--rate", "50", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "sccosf replay: warning:" in captured.err and "no metadata.yaml" in captured.err
    assert "published 20 messages" in captured.out

    big = _big_bag(tmp_path / "bad")
    _corrupt_message(big.path, big.rgb_stamps[25] + round(big.config.transport_delay * SEC))
    assert sccosf_main(["replay", str(big.path), "--rate", "100", "--quiet"]) == 1
    line = _one_error_line(capsys.readouterr().err, "replay")
    assert "failed after" in line and "published" in line

    crc = _crc_bag(tmp_path / "crc")
    flip_in_message(crc.path, crc.rgb_stamps[30] + round(crc.config.transport_delay * SEC))
    assert sccosf_main(["replay", str(crc.path), "--rate", "100", "--quiet"]) == 1
    err = capsys.readouterr().err
    line = _one_error_line(err, "replay")
    assert "sccosf replay: warning:" in err and "does not match its CRC" in err
    with BagReader(crc.path) as r:
        played = len(list(r.messages()))
        lost = r.damaged_chunks[0].messages_lost
    assert played == 104 - lost and f"{lost} messages lost" in line
    assert f"published the other {played} messages" in line

    cut = _big_bag(tmp_path / "cut")
    f = _storage_file(cut.path)
    f.write_bytes(f.read_bytes()[: int(f.stat().st_size * 0.8)])
    assert sccosf_main(["replay", str(cut.path), "--rate", "100", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "is truncated" in captured.err and "mcap recover" in captured.err


# --------------------------------------------------------------------------- bad input
def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "notes.txt"
    text.write_text("not a bag")
    empty = tmp_path / "empty"
    empty.mkdir()
    bad_meta = tmp_path / "badmeta"
    bag = _bag(bad_meta)
    (bag.path / "metadata.yaml").write_text("rosbag2_bagfile_information: [1, 2")
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "garbage_0.mcap").write_bytes(b"this is not an mcap file at all")
    zero = tmp_path / "zero"
    zero.mkdir()
    (zero / "zero_0.db3").write_bytes(b"")
    return {
        "missing": tmp_path / "nothing_here",
        "text_file": text,
        "empty_dir": empty,
        "bad_metadata": bad_meta,
        "garbage_mcap": garbage,
        "empty_db3": zero,
    }


@pytest.mark.parametrize(
    "case", ["missing", "text_file", "empty_dir", "bad_metadata", "garbage_mcap", "empty_db3"]
)
def test_bad_bags_give_one_line_in_every_bag_command(tmp_path, nano_checkpoint, capsys, case):
    path = _bad_inputs(tmp_path)[case]
    cmds = {
        "bag-eval": [
            "bag-eval",
            "--backend",
            "torch",
            str(path),
            "--checkpoint",
            str(nano_checkpoint),
            "--rgb-topic",
            "/camera/rgb/image_raw",
            "--thermal-topic",
            "/camera/thermal/image_raw",
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ],
        "replay": ["replay", str(path), "--quiet"],
        "calibrate": [
            "calibrate",
            "--bag",
            str(path),
            "--rgb-topic",
            "/camera/rgb/image_raw",
            "--thermal-topic",
            "/camera/thermal/image_raw",
            "--pattern",
            "9x6",
            "--out",
            str(tmp_path / "rig.yaml"),
            "--quiet",
        ],
    }
    for cmd, args in cmds.items():
        if cmd == "replay":
            pytest.importorskip("rclpy")
        assert sccosf_main(args) == 2, cmd
        _one_error_line(capsys.readouterr().err, cmd)


# --------------------------------------------------------------------------- sccosf extract
def _extract_args(bag, out: Path) -> list[str]:
    c = bag.config
    return ["extract", str(bag.path), "--rgb-topic", c.rgb_topic, "--thermal-topic",
            c.thermal_topic, "--every", "0", "--duplicate-threshold", "0", "--out", str(out),
            "--quiet", "--thermal-norm", "fixed", "--thermal-range", str(THERMAL_COUNTS[0]),
            str(THERMAL_COUNTS[1])]  # fmt: skip


def _written(out: Path) -> int:
    """Frames on disk, each with its RGB and thermal PNG, all of them in dataset.yaml."""
    rgb, thermal = sorted((out / "rgb").glob("*.png")), sorted((out / "thermal").glob("*.png"))
    assert [p.name for p in rgb] == [p.name for p in thermal]
    meta = yaml.safe_load((out / "dataset.yaml").read_text())
    assert meta["counts"]["kept"] == len(rgb)
    assert sum(meta["splits"]["frames"].values()) + len(meta["splits"]["guard_frames"]) == len(rgb)
    return len(rgb)


@pytest.mark.parametrize("damage", ["read_error", "crc"])
def test_extract_keeps_what_a_damaged_bag_gave_and_exits_1_like_bag_eval(tmp_path, capsys, damage):
    if damage == "read_error":  # a record whose length field is garbage: reading stops there
        bag = _big_bag(tmp_path / "rec")
        _corrupt_message(bag.path, bag.rgb_stamps[25] + round(bag.config.transport_delay * SEC))
        total, said = 30, "failed after"
    else:  # a chunk failing its CRC: skipped, the rest of the bag read
        bag = _crc_bag(tmp_path / "rec")
        flip_in_message(bag.path, bag.rgb_stamps[30] + round(bag.config.transport_delay * SEC))
        total, said = 52, "failed their CRC check"
    out = tmp_path / "ds"
    assert sccosf_main(_extract_args(bag, out)) == 1
    captured = capsys.readouterr()
    line = _one_error_line(captured.err, "extract")
    kept = _written(out)
    assert 0 < kept < total
    assert line.startswith("sccosf extract: error: incomplete bag: ") and said in line
    assert line.endswith(f"; the {kept} frames extracted are in {out}")
    assert f"/ kept {kept} /" in captured.out and "incomplete" not in captured.out
    meta = yaml.safe_load((out / "dataset.yaml").read_text())
    assert meta["source"]["complete"] is False and said in meta["source"]["error"]


def test_extract_salvages_a_truncated_mcap_and_exits_0_like_bag_eval(tmp_path, capsys):
    bag = _big_bag(tmp_path / "rec")
    f = _storage_file(bag.path)
    data = f.read_bytes()
    f.write_bytes(data[: int(len(data) * 0.8)])  # cut inside the 2nd chunk: no footer
    out = tmp_path / "ds"
    assert sccosf_main(_extract_args(bag, out)) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "error:" not in captured.err
    assert "is truncated" in captured.err and "salvaged" in captured.err
    assert 0 < _written(out) < 30
