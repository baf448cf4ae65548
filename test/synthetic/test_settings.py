"""Settings validation: every bad field fails early with a ValueError that names it."""

from __future__ import annotations

import pytest

from sccosf_ros.synthetic import BagSettings, DatasetSettings, SceneSettings
from sccosf_ros.synthetic.settings import MIN_IMAGES, check_seed


def test_scene_settings_defaults_and_validation():
    s = SceneSettings()
    assert (s.height, s.width, s.layout) == (480, 640, "mfnet")
    assert SceneSettings(16, 16, "fmb").layout == "fmb"
    with pytest.raises(ValueError, match="layout must be one of"):
        SceneSettings(layout="cityscapes")
    with pytest.raises(ValueError, match="at least 16x16, got 15x64"):
        SceneSettings(15, 64)
    with pytest.raises(ValueError, match="integers"):
        SceneSettings(48.0, 64)
    with pytest.raises(ValueError, match="integers"):
        SceneSettings(True, 64)


def test_check_seed():
    assert check_seed(3) == 3 and isinstance(check_seed(3), int)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        check_seed(-1)


def test_dataset_settings_validation():
    s = DatasetSettings(layout="fmb", n=2, height=32, width=48)
    assert s.scene == SceneSettings(32, 48, "fmb")
    assert MIN_IMAGES == {"mfnet": 3, "fmb": 2}
    with pytest.raises(ValueError, match="layout"):
        DatasetSettings(layout="kitti")
    with pytest.raises(ValueError, match="n must be at least 3 so that every mfnet split"):
        DatasetSettings(n=2)
    with pytest.raises(ValueError, match="n must be at least 2"):
        DatasetSettings(layout="fmb", n=1)
    with pytest.raises(ValueError, match="n must be an integer"):
        DatasetSettings(n=4.5)
    with pytest.raises(ValueError, match="seed"):
        DatasetSettings(seed=-2)
    for bad in (-0.1, 1.5, float("nan"), "half"):
        with pytest.raises(ValueError, match="night_fraction"):
            DatasetSettings(night_fraction=bad)
    with pytest.raises(ValueError, match="at least 16"):
        DatasetSettings(height=8)


def test_dataset_settings_are_frozen():
    with pytest.raises(AttributeError):
        DatasetSettings().n = 5


def test_bag_settings_defaults_match_the_old_config():
    s = BagSettings()
    assert (s.storage, s.duration, s.rgb_rate, s.thermal_rate) == ("mcap", 10.0, 10.0, 8.7)
    assert (s.height, s.width, s.seed, s.layout, s.night) == (240, 320, 0, "mfnet", False)
    assert s.start_time_ns == 1_700_000_000 * 1_000_000_000
    assert s.label_topic == "/camera/rgb/labels" and s.thermal_gap is None
    # positional order is the former SyntheticBagConfig's
    assert BagSettings("sqlite3", 2.0).duration == 2.0


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("storage", "rosbag1", "storage must be one of"),
        ("rgb_encoding", "mono8", "rgb_encoding must be rgb8 or bgr8"),
        ("duration", 0.0, "duration must be a positive number"),
        ("rgb_rate", -1.0, "rgb_rate must be a positive number"),
        ("thermal_rate", float("inf"), "thermal_rate must be a positive number"),
        ("transport_delay", -0.001, "transport_delay must be >= 0"),
        ("seed", -1, "seed must be >= 0"),
        ("start_time_ns", 1.5, "start_time_ns must be an integer"),
        ("malformed", -1, "malformed must be >= 0"),
        ("thermal_gap", (1.0, 0.5), "thermal_gap must be"),
        ("rgb_topic", "", "topics must be non-empty"),
        ("label_topic", "/camera/thermal/image_raw", "must differ"),
        ("layout", "kitti", "layout"),
        ("width", 8, "at least 16"),
        ("camera", "boson320", "camera must be one of boson640_raw"),
        ("ffc_period", -1.0, "ffc_period must be >= 0"),
    ],
)
def test_bag_settings_validation(field, value, message):
    with pytest.raises(ValueError, match=message):
        BagSettings(**{field: value})


def test_bag_settings_allow_no_labels_and_a_gap():
    s = BagSettings(label_topic=None, thermal_gap=(0.5, 1.0), thermal_offset=-0.01)
    assert s.label_topic is None and s.thermal_gap == (0.5, 1.0)


def test_bag_settings_camera_and_ffc():
    s = BagSettings(camera="lepton35_radiometric", ffc_period=2.0)
    assert s.thermal_camera.size == (120, 160) and s.thermal_camera.units == "centikelvin"
    assert BagSettings().camera is None and BagSettings().ffc_period == 0.0  # default: no FFC
    with pytest.raises(ValueError, match="ffc_duration must be shorter than ffc_period"):
        BagSettings(ffc_period=0.3, ffc_duration=0.4)
