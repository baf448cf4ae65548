"""Joint transforms keep RGB, thermal and label aligned and pad labels with 255."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.data.transforms import TrainTransform, TrainTransformConfig, resize_joint

COLOURS = np.array(
    [[0, 0, 0], [200, 30, 30], [30, 200, 30], [30, 30, 200], [220, 220, 40]], np.uint8
)


def _pattern(h: int = 60, w: int = 80):
    """Blocks of classes 1..4 (asymmetric, so a flip shows); RGB and thermal encode the id."""
    label = np.ones((h, w), np.uint8)
    label[: h // 2, w // 4 :] = 2
    label[h // 2 :, : w // 3] = 3
    label[h // 3 : 2 * h // 3, w // 2 : 3 * w // 4] = 4
    return COLOURS[label], (label * 50).astype(np.uint8), label


def _decode_rgb(rgb: np.ndarray) -> np.ndarray:
    d = ((rgb[..., None, :].astype(int) - COLOURS[None, None].astype(int)) ** 2).sum(-1)
    return d.argmin(-1)


def test_scale_one_is_exact_flip_and_crop():
    rgb, th, lb = _pattern()
    tf = TrainTransform(crop=(40, 50), scale_range=(1.0, 1.0), seed=0)
    flipped = 0
    for _ in range(10):
        r, t, l, v = tf(rgb, th, lb)
        assert v.all()  # no padding at scale 1 with a crop inside the image
        assert r.shape == (40, 50, 3) and t.shape == (40, 50) and l.shape == (40, 50)
        np.testing.assert_array_equal(r, COLOURS[l])
        np.testing.assert_array_equal(t, l * 50)
        # the crop is a window of the (possibly flipped) input
        for src in (lb, lb[:, ::-1]):
            hits = [
                (y, x)
                for y in range(21)
                for x in range(31)
                if np.array_equal(src[y : y + 40, x : x + 50], l)
            ]
            if hits:
                flipped += src is not lb
                break
        else:
            pytest.fail("output is not a crop of the input or of its mirror")
    assert 0 < flipped < 10  # flip_prob 0.5 over 10 draws (fixed seed)


def test_random_scale_keeps_modalities_aligned():
    rgb, th, lb = _pattern(120, 160)
    tf = TrainTransform(crop=(96, 128), seed=1)
    for _ in range(12):
        r, t, l, _ = tf(rgb, th, lb)
        valid = l != 255
        assert valid.mean() > 0.2
        # bilinear images vs nearest labels differ only on block borders
        assert (_decode_rgb(r)[valid] == l[valid]).mean() > 0.95
        assert (np.rint(t[valid] / 50.0) == l[valid]).mean() > 0.95


def test_padding_uses_255_for_labels_and_0_for_images():
    rgb, th, lb = _pattern(20, 30)
    tf = TrainTransform(crop=(50, 60), scale_range=(1.0, 1.0), flip_prob=0.0, seed=0)
    r, t, l, v = tf(rgb, th, lb)
    assert l.shape == (50, 60) and v.shape == (50, 60) and v.dtype == bool
    np.testing.assert_array_equal(l[:20, :30], lb)
    assert (l[20:] == 255).all() and (l[:, 30:] == 255).all()
    assert (r[20:] == 0).all() and (t[:, 30:] == 0).all()
    # the valid mask is exactly the image part, whatever the labels say
    assert v[:20, :30].all() and not v[20:].any() and not v[:, 30:].any()


def test_scales_are_drawn_from_the_given_set():
    rgb, th, lb = _pattern(40, 40)
    scales = (0.5, 1.0, 1.5)
    tf = TrainTransform(crop=(80, 80), scales=scales, flip_prob=0.0, seed=3)
    seen = set()
    for _ in range(40):
        v = tf(rgb, th, lb)[3]
        side = int(v[:, 0].sum())  # rows of image in the crop = the rescaled height
        assert v[:side, :side].all() and not v[side:].any()
        seen.add(side)
    assert seen == {round(40 * s) for s in scales}


def test_scale_range_is_respected():
    rgb, th, lb = _pattern(40, 40)
    for scale in (0.5, 1.75):
        tf = TrainTransform(crop=(100, 100), scale_range=(scale, scale), flip_prob=0.0, seed=0)
        _, _, l, _ = tf(rgb, th, lb)
        side = round(40 * scale)
        assert (l[:side, :side] != 255).all() and (l[side:] == 255).all()


def test_reproducible_with_a_seed_or_the_global_rng():
    rgb, th, lb = _pattern()
    a = [TrainTransform(crop=(30, 30), seed=7)(rgb, th, lb)[2] for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])
    outs = []
    for _ in range(2):
        np.random.seed(123)  # what the trainer does per (seed, epoch, index)
        tf = TrainTransform(crop=(30, 30))
        outs.append([tf(rgb, th, lb)[2] for _ in range(3)])
    for x, y in zip(outs[0], outs[1]):
        np.testing.assert_array_equal(x, y)
    rng = np.random.default_rng(5)
    explicit = TrainTransform(crop=(30, 30), seed=0)(rgb, th, lb, rng=rng)[2]
    again = TrainTransform(crop=(30, 30), seed=99)(rgb, th, lb, rng=np.random.default_rng(5))[2]
    np.testing.assert_array_equal(explicit, again)


def test_resize_joint():
    rgb, th, lb = _pattern()
    r, t, l = resize_joint(rgb, th, lb, lb.shape)
    assert r is rgb and t is th and l is lb
    r, t, l = resize_joint(rgb, th, lb, (30, 40))
    assert r.shape == (30, 40, 3) and t.shape == (30, 40) and l.shape == (30, 40)
    assert set(np.unique(l)) <= set(np.unique(lb))  # nearest: no blended ids


def test_config_validation():
    with pytest.raises(ValueError, match="scale_range"):
        TrainTransformConfig(scale_range=(1.5, 0.5))
    with pytest.raises(ValueError, match="crop"):
        TrainTransform(crop=(0, 10))
    with pytest.raises(TypeError, match="unknown TrainTransform option"):
        TrainTransform(rotate=10)
    rgb, th, lb = _pattern()
    with pytest.raises(ValueError, match="same size"):
        TrainTransform(crop=(10, 10))(rgb, th[:-1], lb)


def test_camera_augmentation_changes_pixels_not_geometry():
    rgb, th, lb = _pattern(60, 80)
    th16 = th.astype(np.uint16) * 200
    plain = TrainTransform(crop=(64, 96), seed=3)(rgb, th16, lb)
    cam = TrainTransform(crop=(64, 96), camera=True, seed=3)(rgb, th16, lb)
    assert cam[0].dtype == np.uint8 and cam[1].dtype == np.uint16
    np.testing.assert_array_equal(cam[2], plain[2])  # same flip, scale and crop
    np.testing.assert_array_equal(cam[3], plain[3])
    assert not np.array_equal(cam[0], plain[0]) or not np.array_equal(cam[1], plain[1])
    assert (cam[0][~cam[3]] == 0).all() and (cam[1][~cam[3]] == 0).all()  # padding stays 0
    # without geometry (scale 1, no flip, full-size crop) some draw changes each modality
    ident = {"crop": (60, 80), "scale_range": (1.0, 1.0), "flip_prob": 0.0, "camera": True}
    draws = [TrainTransform(seed=s, **ident)(rgb, th, lb) for s in range(8)]
    assert any(np.abs(d[0].astype(int) - rgb).mean() > 1 for d in draws)
    assert any(np.abs(d[1].astype(int) - th).mean() > 1 for d in draws)
    np.random.seed(0)  # without a seed (as the trainer runs it): numpy's global RNG
    for _ in range(4):
        assert TrainTransform(**ident)(rgb, th, lb)[0].shape == rgb.shape
