"""render_scene: arrays, determinism, class coverage, day/night contrast, a pinned frame."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from sccosf_ros.classes import FMB_CLASSES, MFNET_CLASSES
from sccosf_ros.synthetic import render_scene

H, W = 96, 128


def test_scene_arrays_and_determinism():
    a = render_scene(5, H, W)
    b = render_scene(5, H, W)
    assert a.rgb.shape == (H, W, 3) and a.rgb.dtype == np.uint8
    assert a.thermal16.shape == (H, W) and a.thermal16.dtype == np.uint16
    assert a.thermal8.shape == (H, W) and a.thermal8.dtype == np.uint8
    assert a.label.shape == (H, W) and a.label.dtype == np.uint8
    for k in ("rgb", "thermal16", "thermal8", "label"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.night == b.night
    c = render_scene(6, H, W)
    assert not np.array_equal(a.rgb, c.rgb)
    assert not np.array_equal(a.label, c.label)


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


# The shipped demo checkpoint and its published figures were made from this generator's data:
# a refactor must leave these frames bit for bit as they are. A failure after an OpenCV or numpy
# upgrade (not a code change) means the data changed too: re-pin only knowingly.
PINNED = [
    (
        (11, "mfnet", False, 0.0),
        False,
        {"rgb": "5ee1af07c51bd709", "thermal16": "6f03c997b489dfaa", "label": "24aa7e8eb22c35d0"},
    ),
    (
        (11, "mfnet", True, 1.5),
        True,
        {"rgb": "5ce7ad86d74f4b11", "thermal16": "817f1716075831ea", "label": "8fae577412eb6b6f"},
    ),
    (
        (4, "fmb", None, 0.25),
        False,
        {"rgb": "e32e202f9761d0a7", "thermal16": "014940ca3f9daadd", "label": "b748088bd20c6995"},
    ),
]


@pytest.mark.parametrize("args,night,hashes", PINNED)
def test_pinned_frames_are_unchanged(args, night, hashes):
    seed, layout, want_night, t = args
    scene = render_scene(seed, 60, 80, layout, night=want_night, t=t)
    assert scene.night is night
    assert {k: _sha(getattr(scene, k)) for k in hashes} == hashes


@pytest.mark.parametrize("layout,names", [("mfnet", MFNET_CLASSES), ("fmb", FMB_CLASSES)])
def test_labels_cover_the_dataset_classes(layout, names):
    seen: set[int] = set()
    with_people = 0
    for seed in range(12):
        scene = render_scene(seed, 120, 160, layout=layout)
        ids = set(np.unique(scene.label).tolist())
        assert ids <= set(range(len(names))), f"ids outside the {layout} classes: {ids}"
        assert names.index("car" if layout == "mfnet" else "Car") in ids
        with_people += names.index("person" if layout == "mfnet" else "Person") in ids
        seen |= ids
    assert seen == set(range(len(names))), f"never drawn: {set(range(len(names))) - seen}"
    # every street has people, though a nearer car may hide them
    assert with_people >= 10


def test_night_is_dark_in_rgb_while_thermal_keeps_warm_objects():
    checked = 0
    for seed in range(6):
        day = render_scene(seed, 120, 160, night=False)
        night = render_scene(seed, 120, 160, night=True)
        assert night.rgb.mean() < 0.45 * day.rgb.mean()
        lab = night.label
        bg = lab == 0
        person = lab == MFNET_CLASSES.index("person")
        car = lab == MFNET_CLASSES.index("car")
        if not person.any():  # hidden behind a car in this street
            continue
        checked += 1
        th = night.thermal8.astype(np.float32)
        gray = night.rgb.astype(np.float32).mean(axis=2)
        # warm bodies and engines stand out in thermal at night...
        assert th[person].mean() > th[bg].mean() + 30
        assert th[car].mean() > th[bg].mean() + 5
        # ...while people are nearly invisible in the dark RGB image
        rgb_contrast = abs(gray[person].mean() - gray[bg].mean())
        assert rgb_contrast < 0.5 * (th[person].mean() - th[bg].mean())
        # by day people are warmer than their surroundings too
        assert day.thermal8[day.label == 2].mean() > day.thermal8[day.label == 0].mean()
    assert checked >= 4


def test_odd_sizes_render():
    for h, w in ((16, 16), (33, 47), (16, 120), (120, 20)):
        for layout in ("mfnet", "fmb"):
            scene = render_scene(1, h, w, layout=layout, t=0.7)
            assert scene.rgb.shape == (h, w, 3) and scene.label.shape == (h, w)


def test_render_scene_rejects_bad_arguments():
    with pytest.raises(ValueError, match="layout"):
        render_scene(0, H, W, layout="cityscapes")
    with pytest.raises(ValueError, match="at least 16"):
        render_scene(0, 8, 8)
    with pytest.raises(ValueError, match="seed"):
        render_scene(-1, H, W)
