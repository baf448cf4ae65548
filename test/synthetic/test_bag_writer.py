"""write_synthetic_bag: rates, stamps, encodings, labels, malformed messages, thermal gap."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.bag.bag_io import BagReader, stamp_ns
from sccosf_ros.pipeline.image_codec import ImageDecodeError, decode_image, decode_rgb
from sccosf_ros.synthetic import (
    MALFORMED_KINDS,
    BagSettings,
    frame_times,
    render_scene,
    write_synthetic_bag,
)

SEC = 1_000_000_000


def test_frame_times():
    assert frame_times(10.0, 1.0) == pytest.approx([i / 10 for i in range(10)])
    assert len(frame_times(8.7, 2.0)) == 17
    assert frame_times(5.0, 1.0, 0.004)[1] == pytest.approx(0.204)
    with pytest.raises(ValueError):
        frame_times(0.0, 1.0)


def test_clean_bag_contents(tmp_path):
    bag = write_synthetic_bag(
        tmp_path / "b",
        storage="sqlite3",
        duration=1.0,
        rgb_rate=10.0,
        thermal_rate=5.0,
        thermal_offset=0.004,
        height=32,
        width=48,
        rgb_encoding="bgr8",
        show_progress=False,
    )
    start = bag.config.start_time_ns
    assert bag.rgb_stamps == [start + i * SEC // 10 for i in range(10)]
    assert bag.thermal_stamps == [start + round((0.004 + i / 5) * SEC) for i in range(5)]
    assert bag.label_stamps == bag.rgb_stamps
    assert bag.malformed == {}
    cfg = bag.config
    with BagReader(bag.path) as r:
        assert r.storage == "sqlite3"
        counts = {t: s.count for t, s in r.topics().items()}
        assert counts == {cfg.rgb_topic: 10, cfg.thermal_topic: 5, cfg.label_topic: 10}
        logs = []
        seen = {cfg.rgb_topic: [], cfg.thermal_topic: [], cfg.label_topic: []}
        for topic, ty, log, raw in r.messages():
            msg = r.deserialize(raw, ty)
            logs.append(log)
            seen[topic].append(msg)
            assert log > stamp_ns(msg)  # received after capture
    assert logs == sorted(logs)
    rgb0, th0, lab0 = (seen[t][0] for t in (cfg.rgb_topic, cfg.thermal_topic, cfg.label_topic))
    assert rgb0.encoding == "bgr8" and rgb0.header.frame_id == cfg.rgb_frame
    assert th0.encoding == "mono16" and th0.header.frame_id == cfg.thermal_frame
    assert lab0.encoding == "mono8" and lab0.header.frame_id == cfg.rgb_frame
    scene = render_scene(cfg.seed, height=32, width=48, layout="mfnet", night=False, t=0.0)
    np.testing.assert_array_equal(decode_rgb(rgb0), scene.rgb)  # bgr8 on the wire, RGB back
    np.testing.assert_array_equal(decode_image(lab0), scene.label)
    th_scene = render_scene(cfg.seed, height=32, width=48, layout="mfnet", night=False, t=0.004)
    thermal = decode_image(th0)
    assert thermal.dtype == np.uint16
    np.testing.assert_array_equal(thermal, th_scene.thermal16)


def test_malformed_messages_and_thermal_gap(tmp_path):
    bag = write_synthetic_bag(
        tmp_path / "b",
        storage="mcap",
        duration=2.0,
        rgb_rate=10.0,
        thermal_rate=10.0,
        height=24,
        width=32,
        malformed=4,
        thermal_gap=(0.5, 1.0),
        label_topic=None,
        show_progress=False,
    )
    cfg = bag.config
    th_times = [(s - cfg.start_time_ns) / SEC for s in bag.thermal_stamps]
    assert len(th_times) == 15 and not any(0.5 <= t < 1.0 for t in th_times)
    assert bag.malformed == {cfg.rgb_topic: 4, cfg.thermal_topic: 4}
    bad = {cfg.rgb_topic: 0, cfg.thermal_topic: 0}
    with BagReader(bag.path) as r:
        assert set(r.topics()) == {cfg.rgb_topic, cfg.thermal_topic}
        for topic, ty, _, raw in r.messages():
            try:
                decode_image(r.deserialize(raw, ty))
            except (ImageDecodeError, Exception):  # corrupt CDR fails in the deserializer
                bad[topic] += 1
    assert bad == {cfg.rgb_topic: 4, cfg.thermal_topic: 4}
    assert len(MALFORMED_KINDS) == 4


def test_settings_object_and_overrides(tmp_path):
    settings = BagSettings(
        storage="sqlite3",
        duration=0.3,
        height=16,
        width=24,
        seed=2,
        night=True,
        show_progress=False,
    )
    bag = write_synthetic_bag(tmp_path / "a", settings, rgb_rate=5.0)
    assert bag.config == BagSettings(
        storage="sqlite3",
        duration=0.3,
        rgb_rate=5.0,
        height=16,
        width=24,
        seed=2,
        night=True,
        show_progress=False,
    )
    assert settings.rgb_rate == 10.0  # the caller's settings are left as they were
    assert bag.storage == "sqlite3" and len(bag.rgb_stamps) == 1
    with BagReader(bag.path) as r:
        topic, ty, _, raw = next(iter(r.messages()))
        assert topic == settings.rgb_topic
        night = render_scene(2, 16, 24, night=True, t=0.0)
        np.testing.assert_array_equal(decode_rgb(r.deserialize(raw, ty)), night.rgb)


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="rgb_encoding"):
        write_synthetic_bag(tmp_path / "a", rgb_encoding="mono8", show_progress=False)
    with pytest.raises(TypeError, match="unknown synthetic bag option"):
        write_synthetic_bag(tmp_path / "b", colour="blue")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "camera,encoding,shape",
    [
        ("boson640_raw", "mono16", (514, 640)),
        ("boson640_agc", "mono8", (512, 640)),
        ("lepton35_radiometric", "16UC1", (120, 160)),
        ("generic_celsius_32fc1", "32FC1", (24, 32)),
    ],
)
def test_camera_bags_carry_the_cameras_format_and_ffc_bursts(tmp_path, camera, encoding, shape):
    bag = write_synthetic_bag(
        tmp_path / "b",
        duration=2.5,
        height=24,
        width=32,
        camera=camera,
        ffc_period=1.0,
        label_topic=None,
        show_progress=False,
    )
    cfg = bag.config
    assert len(bag.thermal_stamps) == 21  # 2.5 s at 8.7 Hz
    assert len(bag.ffc_stamps) == 7 and set(bag.ffc_stamps) <= set(bag.thermal_stamps)
    image_rows = shape[0] - (2 if camera == "boson640_raw" else 0)
    with BagReader(bag.path) as r:
        frames = {}
        for _, ty, _, raw in r.messages([cfg.thermal_topic]):
            msg = r.deserialize(raw, ty)
            assert msg.encoding == encoding
            frames[stamp_ns(msg)] = decode_image(msg)
    assert all(f.shape == shape for f in frames.values())
    # each burst starts with a frozen repeat of the frame before it (image rows only)
    stamps = bag.thermal_stamps
    for s in bag.ffc_stamps:
        before = stamps[stamps.index(s) - 1]
        if before not in bag.ffc_stamps:
            np.testing.assert_array_equal(frames[s][:image_rows], frames[before][:image_rows])
