"""Class tables, colouring and overlays."""

import numpy as np
import pytest

from sccosf_ros.classes import (
    FMB_CLASSES,
    FMB_PALETTE,
    MFNET_CLASSES,
    MFNET_PALETTE,
    colorize,
    default_palette,
    overlay,
)


def test_tables_match_the_datasets():
    assert len(MFNET_CLASSES) == len(MFNET_PALETTE) == 9
    assert len(FMB_CLASSES) == len(FMB_PALETTE) == 15
    assert MFNET_CLASSES[2] == "person" and FMB_CLASSES[8] == "Person"
    assert len(set(MFNET_PALETTE)) == 9 and len(set(FMB_PALETTE)) == 15


def test_colorize_maps_ids_and_leaves_unlabeled_black():
    labels = np.array([[0, 1], [2, 255]], np.uint8)
    color = colorize(labels, MFNET_PALETTE)
    assert color.shape == (2, 2, 3) and color.dtype == np.uint8
    assert tuple(color[0, 1]) == MFNET_PALETTE[1]
    assert tuple(color[1, 0]) == MFNET_PALETTE[2]
    assert tuple(color[1, 1]) == (0, 0, 0)
    with pytest.raises(TypeError):
        colorize(labels.astype(np.int64), MFNET_PALETTE)


def test_overlay_blends_only_labelled_pixels():
    rgb = np.full((2, 2, 3), 200, np.uint8)
    labels = np.array([[0, 1], [255, 2]], np.uint8)
    out = overlay(rgb, labels, MFNET_PALETTE, alpha=0.5)
    assert (out[0, 0] == 200).all() and (out[1, 0] == 200).all()
    expected = np.round(0.5 * 200 + 0.5 * np.array(MFNET_PALETTE[1]))
    np.testing.assert_array_equal(out[0, 1], expected)
    with pytest.raises(ValueError):
        overlay(rgb, labels[:1], MFNET_PALETTE)


def test_default_palette_is_deterministic_distinct_and_visible():
    np.random.seed(1)  # the global RNG's state must not matter
    first = default_palette(40)
    np.random.seed(2)
    random_state_changed = default_palette(40)
    assert first == random_state_changed
    assert len(first) == 40 and first[0] == (0, 0, 0)
    assert len(set(first)) == 40  # distinct: no two classes share a colour
    for color in first[1:]:  # visible on a black mask: every channel well above black
        assert len(color) == 3 and all(isinstance(v, int) and 40 <= v <= 255 for v in color)
    # a class keeps its colour when classes are added
    assert all(default_palette(k) == first[:k] for k in (0, 1, 5, 9, 15))


@pytest.mark.parametrize("palette", [MFNET_PALETTE, FMB_PALETTE])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.65, 1.0])
def test_overlay_matches_the_blend_formula(palette, alpha):
    """The OpenCV overlay equals (1-α)·rgb + α·colour on labelled pixels (±1 rounding)."""
    rng = np.random.default_rng(int(alpha * 100))
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    labels = rng.integers(0, len(palette), (37, 53), dtype=np.uint8)
    labels[:3] = 255
    color = np.asarray(palette, np.float64)[np.minimum(labels, len(palette) - 1)]
    want = (1 - alpha) * rgb + alpha * color
    keep = (labels == 0) | (labels == 255)
    want[keep] = rgb[keep]
    got = overlay(rgb, labels, palette, alpha)
    assert np.abs(got.astype(float) - want).max() <= 1.0
    np.testing.assert_array_equal(got[keep], rgb[keep])
    np.testing.assert_array_equal(
        overlay(rgb, labels, palette, alpha, color=colorize(labels, palette)), got
    )
