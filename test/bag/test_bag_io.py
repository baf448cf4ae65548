"""bag_io: storage detection, typestore choice, write/read round trip, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.bag.bag_io import (
    IMAGE,
    BagError,
    BagReader,
    BagWriter,
    detect_storage,
    make_header,
    stamp_ns,
    typestore_for,
)
from sccosf_ros.pipeline.image_codec import decode_image, encode_image


def _write_small(path, storage):
    with BagWriter(path, storage=storage) as bag:
        cls = bag.types()[IMAGE]
        for i in range(3):
            t = 1_000_000_000 * (10 + i) + 123
            img = np.full((4, 5), i, np.uint16)
            msg = encode_image(
                img, "mono16", header=make_header(bag.typestore, t, "cam"), msg_type=cls
            )
            bag.write("/cam/image", t + 5, msg)
        bag.add_topic("/empty")
    return path


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_round_trip_and_storage_detection(tmp_path, storage):
    path = _write_small(tmp_path / "bag", storage)
    assert detect_storage(path) == storage
    suffix = ".db3" if storage == "sqlite3" else ".mcap"
    files = list(path.glob(f"*{suffix}"))
    assert len(files) == 1 and detect_storage(files[0]) == storage
    with BagReader(path) as r:
        assert r.storage == storage
        topics = r.topics()
        assert topics["/cam/image"].count == 3 and topics["/cam/image"].msgtype == IMAGE
        assert [t for t, s in topics.items() if s.msgtype == IMAGE] == ["/cam/image", "/empty"]
        got = [(t, log, r.deserialize(raw, ty)) for t, ty, log, raw in r.messages(["/cam/image"])]
    assert [log for _, log, _ in got] == [1_000_000_000 * (10 + i) + 128 for i in range(3)]
    for i, (_, _, msg) in enumerate(got):
        assert stamp_ns(msg) == 1_000_000_000 * (10 + i) + 123
        assert msg.header.frame_id == "cam" and msg.encoding == "mono16"
        np.testing.assert_array_equal(decode_image(msg), np.full((4, 5), i, np.uint16))


def test_bare_storage_file_is_readable(tmp_path):
    path = _write_small(tmp_path / "bag", "mcap")
    with BagReader(next(path.glob("*.mcap"))) as r:
        assert r.topics()["/cam/image"].count == 3


def test_missing_and_foreign_paths_give_clear_errors(tmp_path):
    with pytest.raises(BagError, match="does not exist"):
        BagReader(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(BagError, match="not a rosbag2"):
        detect_storage(tmp_path / "notes.txt")
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(BagError, match=r"no metadata\.yaml"):
        detect_storage(tmp_path / "emptydir")


def test_require_topic_lists_the_bag_topics(tmp_path):
    path = _write_small(tmp_path / "bag", "sqlite3")
    with BagReader(path) as r:
        r.require_topic("/cam/image")
        with pytest.raises(BagError) as e:
            r.require_topic("/thermal/image_raw", what="thermal")
        text = str(e.value)
        assert "/thermal/image_raw" in text and "/cam/image" in text and "3 msgs" in text
        with pytest.raises(BagError, match="expected"):
            r.require_topic("/cam/image", "std_msgs/msg/String")


def test_writer_refuses_to_overwrite(tmp_path):
    path = _write_small(tmp_path / "bag", "mcap")
    with pytest.raises(BagError, match="exists already"):
        BagWriter(path)
    with pytest.raises(BagError, match="unknown storage"):
        BagWriter(tmp_path / "other", storage="rosbag1")


def test_typestore_follows_the_distro():
    assert "sensor_msgs/msg/Image" in typestore_for("jazzy").types
    assert "sensor_msgs/msg/Image" in typestore_for("rosbags").types  # unknown → Humble
    assert "sensor_msgs/msg/Image" in typestore_for(None).types


def test_split_bag_without_metadata_reads_its_files_in_recording_order(tmp_path):
    """``ros2 bag record --max-bag-size`` splits into name_0, name_1, ...; killed, it leaves no
    metadata.yaml: the files are read in split order (name_2 before name_10), as one bag."""
    import shutil

    crashed = tmp_path / "rec"
    crashed.mkdir()
    for i in (0, 2, 10):
        with BagWriter(tmp_path / f"part{i}", storage="sqlite3") as bag:
            cls = bag.types()[IMAGE]
            t = (100 + i) * 1_000_000_000
            msg = encode_image(
                np.full((2, 2), i, np.uint16),
                "mono16",
                header=make_header(bag.typestore, t, "cam"),
                msg_type=cls,
            )
            bag.write("/cam/image", t, msg)
        shutil.move(next((tmp_path / f"part{i}").glob("*.db3")), crashed / f"rec_{i}.db3")
    with BagReader(crashed) as r:
        assert r.notes and "no metadata.yaml" in r.notes[0]
        assert "rec_0.db3, rec_2.db3, rec_10.db3" in r.notes[0]
        assert r.topics()["/cam/image"].count == 3 and r.message_count == 3
        logs = [log for _, _, log, _ in r.messages()]
    assert logs == [(100 + i) * 1_000_000_000 for i in (0, 2, 10)]
