"""Thermal → RGB registration: homography parsing and warping."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.registration import is_identity, parse_homography, warp_thermal

SHIFT = [1, 0, 5, 0, 1, 3, 0, 0, 1]  # thermal (u, v) → RGB (u + 5, v + 3)


def test_parse_accepts_flat_nested_and_arrays():
    H = parse_homography(SHIFT)
    assert H.shape == (3, 3) and H.dtype == np.float64
    assert H[0, 2] == 5 and H[1, 2] == 3
    np.testing.assert_array_equal(parse_homography(np.reshape(SHIFT, (3, 3))), H)
    np.testing.assert_array_equal(parse_homography(tuple(float(v) for v in SHIFT)), H)
    assert parse_homography([]) is None and parse_homography(None) is None


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ([1, 0, 0, 0, 1, 0, 0, 0], ["9 numbers, row-major", "got 8 values"]),
        ([1] * 10, ["9 numbers", "got 10 values"]),
        ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], ["got 12 values"]),
        ([1, 0, 0, 0, 1, 0, 0, 0, float("nan")], ["NaN or infinite"]),
        ([1, 0, float("inf"), 0, 1, 0, 0, 0, 1], ["NaN or infinite"]),
        ([0] * 9, ["singular"]),
        ([1, 2, 3, 2, 4, 6, 0, 0, 1], ["singular"]),  # rank 2
        (["a"] * 9, ["non-numeric"]),
    ],
)
def test_parse_rejects_bad_homographies(values, words):
    with pytest.raises(ValueError) as info:
        parse_homography(values)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_is_identity_up_to_scale():
    assert is_identity(None) and is_identity(np.eye(3) * 2.0)
    assert not is_identity(parse_homography(SHIFT))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_identity_returns_an_equal_copy(dtype):
    img = (np.arange(48).reshape(6, 8) * 5).astype(dtype)
    out = warp_thermal(img, np.eye(3), (6, 8))
    assert out.dtype == dtype and out is not img and not np.shares_memory(out, img)
    np.testing.assert_array_equal(out, img)
    nan_img = np.full((4, 4), np.nan, np.float32)
    assert np.isnan(warp_thermal(nan_img, None, (4, 4))).all()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_integer_translation_moves_pixels_exactly(dtype):
    rng = np.random.default_rng(0)
    hi = 255 if dtype == np.uint8 else 9000
    img = rng.integers(100, hi, (20, 30)).astype(dtype)
    out = warp_thermal(img, SHIFT, (20, 30))
    assert out.shape == (20, 30) and out.dtype == dtype
    np.testing.assert_array_equal(out[3:, 5:], img[:-3, :-5])
    # Uncovered pixels take the frame minimum, so min–max normalisation is not stretched.
    assert (out[:3, :] == img.min()).all() and (out[:, :5] == img.min()).all()
    out0 = warp_thermal(img, SHIFT, (20, 30), border_value=0)
    assert (out0[:3, :] == 0).all()


def test_scale_homography_registers_a_low_resolution_thermal_camera():
    # A 32×24 thermal frame with a hot square, onto a 128×96 RGB grid (4× scale, no offset).
    thermal = np.full((24, 32), 7000, np.uint16)
    thermal[8:12, 16:20] = 9000
    out = warp_thermal(thermal, [4, 0, 0, 0, 4, 0, 0, 0, 1], (96, 128))
    assert out.shape == (96, 128) and out.dtype == np.uint16
    hot = np.argwhere(out == 9000)
    # H acts on pixel indices: the square's centre index (9.5, 17.5) lands on 4× that.
    np.testing.assert_allclose(hot.mean(axis=0), [4 * 9.5, 4 * 17.5], atol=0.5)
    assert out.min() == 7000 and out.max() == 9000


def test_point_mapping_follows_the_find_homography_convention():
    import cv2

    src = np.float32([[0, 0], [40, 0], [40, 30], [0, 30]])  # thermal pixels
    dst = np.float32([[10, 5], [52, 8], [50, 41], [8, 36]])  # where they are in RGB
    H, _ = cv2.findHomography(src, dst)
    thermal = np.zeros((31, 41), np.float32)
    thermal[15, 20] = 1000.0
    out = warp_thermal(thermal, H.ravel().tolist(), (60, 80), border_value=0)
    expected = H @ [20, 15, 1]
    expected = expected[:2] / expected[2]
    peak = np.unravel_index(np.argmax(out), out.shape)
    assert abs(peak[1] - expected[0]) <= 1 and abs(peak[0] - expected[1]) <= 1


def test_three_channel_and_single_channel_3d_inputs_keep_their_shape():
    img = np.random.default_rng(1).integers(0, 255, (10, 12, 3)).astype(np.uint8)
    out = warp_thermal(img, SHIFT, (10, 12))
    assert out.shape == (10, 12, 3)
    np.testing.assert_array_equal(out[3:, 5:], img[:-3, :-5])
    out = warp_thermal(img[..., :1], SHIFT, (10, 12))
    assert out.shape == (10, 12, 1)


@pytest.mark.parametrize(
    ("img", "H", "size", "words"),
    [
        (np.zeros((4,), np.uint8), None, (4, 4), "(H, W)"),
        (np.zeros((0, 4), np.uint8), None, (4, 4), "(H, W)"),
        (np.zeros((4, 4), np.int32), None, (4, 4), "dtype"),
        (np.zeros((4, 4), np.uint8), None, (0, 4), "out_size"),
        (np.zeros((4, 4), np.uint8), [1, 2, 3], (4, 4), "9 numbers"),
        (np.zeros((4, 4), np.uint8), np.zeros((3, 3)), (4, 4), "singular"),
    ],
)
def test_warp_rejects_bad_input(img, H, size, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        warp_thermal(img, H, size)
