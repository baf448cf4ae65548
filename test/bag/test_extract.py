"""``sccosf extract`` on generated rosbag2 files: the folder layout, 16-bit thermal kept,
labels, time-block splits, near-duplicates, CompressedImage, a damaged bag."""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from sccosf_ros.bag.bag_io import BagReader, BagWriter, stamp_ns
from sccosf_ros.bag.extract import ExtractConfig, ExtractError, assign_splits, extract
from sccosf_ros.class_set import ClassSet, read_class_set
from sccosf_ros.pipeline.compressed import COMPRESSED_IMAGE, encode_compressed
from sccosf_ros.pipeline.image_codec import decode_image
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.synthetic import THERMAL_COUNTS, write_synthetic_bag

sys.path.insert(0, str(Path(__file__).resolve().parent))  # mcap_crc
from mcap_crc import flip_in_message, rewrite_with_crcs

SEC = 1_000_000_000
H, W = 32, 40
NAME = re.compile(r"^(\d{6})_(\d+)$")


def _params(**values) -> NodeParams:
    """The node's parameters: the synthetic data's fixed thermal range (no checkpoint read)."""
    return NodeParams.from_dict(
        {
            "thermal.normalization": "fixed",
            "thermal.low": float(THERMAL_COUNTS[0]),
            "thermal.high": float(THERMAL_COUNTS[1]),
            **values,
        }
    )


def _bag(path: Path, **kw):
    settings = dict(duration=3.0, rgb_rate=10.0, thermal_rate=10.0, thermal_offset=0.004)
    settings.update(height=H, width=W, show_progress=False)
    settings.update(kw)
    return write_synthetic_bag(path, **settings)


def _config(bag, out: Path, **kw) -> ExtractConfig:
    c = bag.config
    settings = dict(
        bag=bag.path,
        rgb_topic=c.rgb_topic,
        thermal_topic=c.thermal_topic,
        label_topic=c.label_topic,
        out=out,
        params=_params(),
        every_s=0.0,
        duplicate_threshold=0.0,
        progress=False,
        warn=lambda m: None,
    )
    settings.update(kw)
    return ExtractConfig(**settings)


def _messages(bag_path: Path, topic: str) -> dict[int, np.ndarray]:
    """stamp → decoded image of every message on ``topic``."""
    with BagReader(bag_path) as r:
        out = {}
        for _, msgtype, _, raw in r.messages([topic]):
            msg = r.deserialize(raw, msgtype)
            out[stamp_ns(msg)] = decode_image(msg)
        return out


def _names(out: Path) -> list[str]:
    return sorted(p.stem for p in (out / "rgb").glob("*.png"))


def _splits(out: Path) -> dict[str, list[str]]:
    return {s: (out / "splits" / f"{s}.txt").read_text().split() for s in ("train", "val", "test")}


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return _bag(tmp_path_factory.mktemp("rec") / "bag")


def test_extract_writes_the_layout_with_raw_thermal_and_labels(recording, tmp_path):
    out = tmp_path / "ds"
    s = extract(_config(recording, out))
    assert s["complete"] and s["error"] is None
    c = s["counts"]
    assert c["pairs"] == 30 and c["kept"] == 30 and c["duplicates"] == 0 and c["labels"] == 30
    names = _names(out)
    assert len(names) == 30
    assert [int(NAME.match(n).group(1)) for n in names] == list(range(30))
    assert [int(NAME.match(n).group(2)) for n in names] == recording.rgb_stamps
    rgb = _messages(recording.path, recording.config.rgb_topic)
    thermal = _messages(recording.path, recording.config.thermal_topic)
    labels = _messages(recording.path, recording.config.label_topic)
    for n in (names[0], names[17]):
        stamp = int(NAME.match(n).group(2))
        got_rgb = cv2.imread(str(out / "rgb" / f"{n}.png"))[..., ::-1]
        np.testing.assert_array_equal(got_rgb, rgb[stamp])
        got_th = cv2.imread(str(out / "thermal" / f"{n}.png"), cv2.IMREAD_UNCHANGED)
        assert got_th.dtype == np.uint16  # raw counts, not an 8-bit picture of them
        np.testing.assert_array_equal(got_th, thermal[stamp + 4_000_000])
        got_lb = cv2.imread(str(out / "labels" / f"{n}.png"), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(got_lb, labels[stamp])
    assert read_class_set(out) == ClassSet.of_dataset("mfnet")
    meta = yaml.safe_load((out / "dataset.yaml").read_text())
    assert meta["thermal_norm"] == _params().thermal_norm().to_dict()
    assert meta["topics"]["thermal"] == recording.config.thermal_topic
    assert meta["thermal_png"] == {"float_source": False, "scale": 1.0, "offset": 0.0}
    assert cv2.imread(str(out / "contact_sheet.png")) is not None


def test_splits_are_time_blocks_and_adjacent_frames_never_straddle_them(recording, tmp_path):
    out = tmp_path / "ds"
    s = extract(_config(recording, out, block=3, label_topic=None))
    names = _names(out)
    splits = _splits(out)
    where = {n: k for k, ns in splits.items() for n in ns}
    assert len(where) == sum(len(v) for v in splits.values())  # no name in two splits
    assert all(splits.values())  # 30 frames in blocks of 3: every split gets some
    guards = yaml.safe_load((out / "dataset.yaml").read_text())["splits"]["guard_frames"]
    assert sorted(list(where) + guards) == names
    for a, b in itertools.pairwise(names):
        if a in where and b in where:
            assert where[a] == where[b], f"adjacent frames {a} and {b} in two splits"
    assert s["splits"] == {k: len(v) for k, v in splits.items()}
    assert not (out / "labels").exists()


def test_assign_splits_follows_the_fractions_block_by_block():
    names = [f"{i:06d}_0" for i in range(100)]
    splits, guards = assign_splits(names, (0.6, 0.2, 0.2), 10)
    assert sum(len(v) for v in splits.values()) + len(guards) == 100
    # 10 blocks: 6 train, 2 val, 2 test, each change of split costing one guard frame
    assert len(splits["train"]) > 50 and 18 <= len(splits["val"]) <= 20
    assert 18 <= len(splits["test"]) <= 20
    only_train, no_guard = assign_splits(names, (1.0, 0.0, 0.0), 10)
    assert only_train["train"] == names and not no_guard


def test_every_keeps_at_most_one_pair_per_interval(recording, tmp_path):
    out = tmp_path / "ds"
    s = extract(_config(recording, out, every_s=0.45, label_topic=None))
    stamps = [int(NAME.match(n).group(2)) for n in _names(out)]
    assert len(stamps) == 6 and s["counts"]["thinned"] == 24  # 0, 0.5, ... 2.5 s
    assert min(np.diff(stamps)) >= 0.45 * SEC


def _repeat_twin(bag, path: Path, t0: float, t1: float) -> int:
    """A copy of ``bag`` whose RGB and thermal frames stamped in [t0, t1) s all show the
    frame at t0 (a robot standing still); returns how many pairs that freezes."""
    start = bag.config.start_time_ns
    lo, hi = start + round(t0 * SEC), start + round(t1 * SEC)
    frozen: dict[str, bytes] = {}
    n = 0
    with BagReader(bag.path) as r, BagWriter(path, storage="mcap") as w:
        for topic, msgtype, log_ns, raw in r.messages(list(r.topics())):
            msg = r.deserialize(raw, msgtype)
            if lo <= stamp_ns(msg) < hi and topic != bag.config.label_topic:
                msg.data = frozen.setdefault(topic, msg.data)
                n += topic == bag.config.rgb_topic
            w.write_raw(topic, log_ns, bytes(r.typestore.serialize_cdr(msg, msgtype)), msgtype)
    return n - 1


def test_near_duplicate_frames_are_skipped_and_counted(recording, tmp_path):
    frozen = _repeat_twin(recording, tmp_path / "still", 1.0, 2.0)
    assert frozen == 9
    twin = type(recording)(tmp_path / "still", "mcap", recording.config)
    # frames 0.1 s apart of the moving scene differ by 0.003 or more; frozen ones by 0
    s = extract(_config(twin, tmp_path / "ds", duplicate_threshold=0.002))
    assert s["counts"]["duplicates"] == frozen
    assert s["counts"]["kept"] == 30 - frozen
    kept = {int(NAME.match(n).group(2)) for n in _names(tmp_path / "ds")}
    start = recording.config.start_time_ns
    assert [t for t in kept if start + SEC <= t < start + 2 * SEC] == [start + SEC]


def _compressed_twin(bag, path: Path) -> None:
    """The bag with RGB as PNG and thermal as 16-bit PNG ``CompressedImage`` on
    ``<topic>/compressed``, as image_transport's compressed plugin records them."""
    c = bag.config
    with BagReader(bag.path) as r, BagWriter(path, storage="sqlite3") as w:
        cls = w.types()[COMPRESSED_IMAGE]
        for topic, msgtype, log_ns, raw in r.messages([c.rgb_topic, c.thermal_topic]):
            msg = r.deserialize(raw, msgtype)
            arr = decode_image(msg)
            png = encode_compressed(arr, msg.encoding, "png", header=msg.header, msg_type=cls)
            w.write(f"{topic}/compressed", log_ns, png)


def test_compressed_images_extract_like_raw_ones(recording, tmp_path):
    _compressed_twin(recording, tmp_path / "png")
    twin = type(recording)(tmp_path / "png", "sqlite3", recording.config)
    s = extract(_config(twin, tmp_path / "ds", label_topic=None))  # base topic names
    assert s["counts"]["kept"] == 30
    raw = tmp_path / "raw"
    extract(_config(recording, raw, label_topic=None))
    assert _names(tmp_path / "ds") == _names(raw)
    for n in _names(raw)[::7]:
        for sub in ("rgb", "thermal"):
            a = cv2.imread(str(tmp_path / "ds" / sub / f"{n}.png"), cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(a, cv2.imread(str(raw / sub / f"{n}.png"), -1))
    meta = yaml.safe_load((tmp_path / "ds" / "dataset.yaml").read_text())
    assert meta["topics"]["rgb"] == f"{recording.config.rgb_topic}/compressed"


def test_a_damaged_bag_is_extracted_as_far_as_it_goes(tmp_path):
    bag = _bag(tmp_path / "rec", duration=5.2, height=64, width=80, label_topic=None)
    rewrite_with_crcs(bag.path)
    flip_in_message(bag.path, bag.rgb_stamps[25] + round(bag.config.transport_delay * SEC))
    said: list[str] = []
    s = extract(_config(bag, tmp_path / "ds", label_topic=None, warn=said.append))
    assert not s["complete"] and "CRC" in s["error"]
    assert s["counts"]["messages_lost"] > 0
    assert 0 < s["counts"]["kept"] < 52
    assert any("CRC" in m for m in said)
    meta = yaml.safe_load((tmp_path / "ds" / "dataset.yaml").read_text())
    assert meta["source"]["complete"] is False
    assert (
        sum(meta["splits"]["frames"].values()) + len(meta["splits"]["guard_frames"])
        == (s["counts"]["kept"])
    )


def test_float_thermal_is_stored_as_16_bit_with_its_code(tmp_path):
    bag = _bag(tmp_path / "rec", duration=1.0, camera="generic_celsius_32fc1", label_topic=None)
    out = tmp_path / "ds"
    extract(_config(bag, out, label_topic=None, params=_params(**{"thermal.units": "celsius"})))
    meta = yaml.safe_load((out / "dataset.yaml").read_text())
    assert meta["thermal_dtype"] == "float32"
    assert meta["thermal_png"] == {"float_source": True, "scale": 0.01, "offset": -273.15}
    n = _names(out)[0]
    png = cv2.imread(str(out / "thermal" / f"{n}.png"), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16
    thermal = _messages(bag.path, bag.config.thermal_topic)
    src = thermal[int(NAME.match(n).group(2)) + 4_000_000]
    np.testing.assert_allclose(png * 0.01 - 273.15, src, atol=0.006)


def test_a_bag_without_pairs_is_one_line_and_leaves_nothing(tmp_path):
    bag = _bag(tmp_path / "rec", duration=1.0, thermal_gap=(0.0, 2.0), label_topic=None)
    with pytest.raises(ExtractError, match=r"no RGB/thermal pair formed \(RGB .*: 10 messages"):
        extract(_config(bag, tmp_path / "ds", label_topic=None))
    assert not (tmp_path / "ds").exists()


def _mono8_twin(bag, path: Path) -> None:
    """The bag with its thermal frames as mono8 (an AGC camera's 8-bit picture)."""
    from sccosf_ros.pipeline.image_codec import encode_image

    th = bag.config.thermal_topic
    with BagReader(bag.path) as r, BagWriter(path, storage="mcap") as w:
        for topic, msgtype, log_ns, raw in r.messages(list(r.topics())):
            msg = r.deserialize(raw, msgtype)
            if topic == th:
                eight = np.clip((decode_image(msg).astype(np.int32) - 7000) // 8, 0, 255)
                msg = encode_image(eight.astype(np.uint8), "mono8", msg.header, msg_type=type(msg))
            w.write_raw(topic, log_ns, bytes(r.typestore.serialize_cdr(msg, msgtype)), msgtype)


def test_mono8_thermal_is_stored_as_8_bit(recording, tmp_path):
    _mono8_twin(recording, tmp_path / "agc")
    twin = type(recording)(tmp_path / "agc", "mcap", recording.config)
    out = tmp_path / "ds"
    extract(_config(twin, out, label_topic=None, every_s=1.0))
    meta = yaml.safe_load((out / "dataset.yaml").read_text())
    assert meta["thermal_dtype"] == "uint8" and meta["counts"]["kept"] == 3
    th = _messages(twin.path, recording.config.thermal_topic)
    for n in _names(out):
        png = cv2.imread(str(out / "thermal" / f"{n}.png"), cv2.IMREAD_UNCHANGED)
        assert png.dtype == np.uint8
        np.testing.assert_array_equal(png, th[int(NAME.match(n).group(2)) + 4_000_000])
