"""``sccosf bag-eval --slop --queue-size`` on a bag whose thermal frames arrive 0.5 s late:
the pair count of each setting is what message_filters' rule gives on the bag's arrival order
(the brute-force reference in test/pipeline/approx_time_reference.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipeline"))  # reference

from approx_time_reference import reference_count

from sccosf_ros.bag.bag_io import IMAGE, BagReader, BagWriter, stamp_ns
from sccosf_ros.cli import main
from sccosf_ros.synthetic import write_synthetic_bag

RGB, THERMAL = "/camera/rgb/image_raw", "/camera/thermal/image_raw"
LATE_NS = 500_000_000  # thermal arrives (log time) 0.5 s after its stamp


@pytest.fixture(scope="module")
def late_bag(tmp_path_factory):
    """RGB 10 Hz, thermal 5 Hz stamped 30 ms after RGB and logged 0.5 s late; the arrival
    order (input, stamp) as bag-eval reads it."""
    tmp = tmp_path_factory.mktemp("late")
    src = write_synthetic_bag(
        tmp / "src",
        duration=2.0,
        rgb_rate=10.0,
        thermal_rate=5.0,
        thermal_offset=0.03,
        height=32,
        width=32,
        label_topic=None,
        show_progress=False,
    )
    out = tmp / "late"
    with BagReader(src.path) as r, BagWriter(out, storage="mcap") as w:
        for topic in r.topics():
            w.add_topic(topic)
        for topic, msgtype, log_ns, raw in r.messages(list(r.topics())):
            w.write_raw(topic, log_ns + (LATE_NS if topic == THERMAL else 0), raw, msgtype)
    with BagReader(out) as r:
        arrivals = [
            (0 if topic == RGB else 1, stamp_ns(r.deserialize(raw, msgtype)))
            for topic, msgtype, _, raw in r.messages(list(r.topics()))
        ]
    return out, arrivals


def _bag_eval(bag: Path, out: Path, ckpt: Path, *flags: str) -> dict:
    args = ["bag-eval", str(bag), "--rgb-topic", RGB, "--thermal-topic", THERMAL,
            "--out", str(out), "--checkpoint", str(ckpt), "--device", "cpu", "--threads", "1",
            "--input-size", "32", "32", "--no-bag", "--quiet", *flags]  # fmt: skip
    assert main(args) == 0
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.parametrize(
    ("flags", "queue_size", "slop"),
    [
        ([], 10, 0.05),  # the defaults: a 10-deep RGB queue still holds the late stamps
        (["--queue-size", "2"], 2, 0.05),  # only the 2 newest RGB stamps: most lost
        (["--slop", "0.1", "--queue-size", "3"], 3, 0.1),
    ],
)
def test_slop_and_queue_size_pair_as_message_filters(
    late_bag, nano_checkpoint, tmp_path, flags, queue_size, slop
):
    bag, arrivals = late_bag
    m = _bag_eval(bag, tmp_path / "e", nano_checkpoint, *flags)
    assert (m["sync"]["queue_size"], m["sync"]["slop"]) == (queue_size, slop)
    assert m["pairs"] == reference_count(arrivals, 2, queue_size, slop)


def test_a_slop_below_the_offset_pairs_nothing_and_says_so(
    late_bag, nano_checkpoint, tmp_path, capsys
):
    bag, arrivals = late_bag
    assert reference_count(arrivals, 2, 10, 0.02) == 0  # 30 ms apart: never within 20 ms
    args = ["bag-eval", str(bag), "--rgb-topic", RGB, "--thermal-topic", THERMAL,
            "--out", str(tmp_path / "e"), "--checkpoint", str(nano_checkpoint),
            "--device", "cpu", "--no-bag", "--quiet", "--slop", "0.02"]  # fmt: skip
    assert main(args) != 0  # a failed run (the exit status is the CLI's business)
    err = capsys.readouterr().err
    assert "no RGB/thermal pair formed" in err and "sync.slop = 0.02 s" in err


def test_the_settings_make_a_difference(late_bag):
    _, arrivals = late_bag
    counts = [reference_count(arrivals, 2, q, s) for q, s in ((10, 0.05), (2, 0.05), (10, 0.02))]
    assert counts[0] == 10 and 0 < counts[1] < 5 and counts[2] == 0, counts


def _reencoded(src: Path, dst: Path, units: str, telemetry: bool = False) -> Path:
    """``src`` with its thermal counts (7000-9000) turned into temperatures on a 0.1 K grid
    (280-300 K) published as ``units``, optionally with 2 garbage telemetry rows below."""
    from sccosf_ros.pipeline.image_codec import decode_image, encode_image

    rng = np.random.default_rng(3)
    with BagReader(src) as r, BagWriter(dst, storage="mcap") as w:
        for topic, msgtype, log_ns, raw in r.messages(list(r.topics())):
            if topic != THERMAL:
                w.write_raw(topic, log_ns, raw, msgtype)
                continue
            msg = r.deserialize(raw, msgtype)
            kelvin = 280.0 + 0.1 * np.round((decode_image(msg).astype(np.float64) - 7000) / 10)
            if units == "centikelvin":
                t, enc = np.round(kelvin * 100).astype(np.uint16), "mono16"
            elif units == "decikelvin":
                t, enc = np.round(kelvin * 10).astype(np.uint16), "16UC1"
            else:
                t, enc = (kelvin - 273.15).astype(np.float32), "32FC1"
            if telemetry:
                rows = rng.integers(0, 65536, (2, t.shape[1])).astype(t.dtype)
                t = np.vstack([t, rows])
            w.write(topic, log_ns, encode_image(t, enc, msg.header, msg_type=w.types()[IMAGE]))
    return dst


def test_units_and_the_telemetry_crop_give_the_same_labels(tmp_path, nano_checkpoint):
    """The same temperatures as centikelvin (uint16), decikelvin (uint16), °C (32FC1) and as
    a Boson-style raw frame with 2 telemetry rows (cropped): the same segmentation."""
    src = write_synthetic_bag(
        tmp_path / "src", duration=1.0, rgb_rate=5.0, thermal_rate=5.0, height=32, width=32,
        show_progress=False,
    )  # fmt: skip
    runs = {
        "celsius": ("celsius", False, []),
        "centikelvin": ("centikelvin", False, []),
        "decikelvin": ("decikelvin", False, []),
        "boson": ("centikelvin", True, ["--thermal-crop", "0", "2", "0", "0"]),
    }
    seen = {}
    for name, (units, telemetry, flags) in runs.items():
        bag = _reencoded(src.path, tmp_path / name, units, telemetry)
        seen[name] = _bag_eval(
            bag, tmp_path / f"out_{name}", nano_checkpoint, "--thermal-norm", "temperature",
            "--thermal-units", units, "--thermal-window", "0", "30", "--label-topic",
            "/camera/rgb/labels", *flags,
        )  # fmt: skip
    ref = seen["celsius"]
    assert ref["pairs"] == 5 and ref["labelled_pairs"] == 5
    for name, m in seen.items():
        assert m["pairs"] == 5 and m["malformed"][THERMAL] == 0, name
        assert m["iou"] == ref["iou"] and m["fusion"] == pytest.approx(ref["fusion"]), name
    assert seen["boson"]["params"]["thermal.crop"] == [0, 2, 0, 0]
