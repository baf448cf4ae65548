"""registration.homography through PairProcessor with a textured thermal image: the thermal
the model receives is checked pixel by pixel against the known homography (a constant image,
as the node test sends, would pass any warp)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from sccosf_ros.bag.bag_io import IMAGE, make_header
from sccosf_ros.pipeline.image_codec import encode_image
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.processor import PairProcessor

STORE = get_typestore(Stores.ROS2_HUMBLE)
TH_H, TH_W = 24, 32  # thermal camera
RGB_H, RGB_W = 48, 64
# thermal pixel (u, v) → RGB pixel (2u + 3, 2v + 1)
SCALE_SHIFT = [2.0, 0.0, 3.0, 0.0, 2.0, 1.0, 0.0, 0.0, 1.0]


class RecordingPredictor:
    """PredictorLike: remembers the thermal image it was given; trivial outputs."""

    def __init__(self) -> None:
        self.class_names = ["a", "b"]
        self.palette = [(0, 0, 0), (255, 0, 0)]
        self.seen: list[np.ndarray] = []
        self.input_size = None

    def predict(self, rgb: np.ndarray, thermal: np.ndarray) -> SimpleNamespace:
        self.seen.append(thermal.copy())
        h, w = rgb.shape[:2]
        return SimpleNamespace(fused=rgb.copy(), labels=np.zeros((h, w), np.uint8))


def _textured_thermal() -> np.ndarray:
    """Raw counts 7000-9000 with structure in both directions and no two rows alike."""
    v, u = np.mgrid[0:TH_H, 0:TH_W]
    rng = np.random.default_rng(5)
    img = 7000 + 40 * u + 25 * v + (v * u % 7) * 30 + rng.integers(0, 50, (TH_H, TH_W))
    return img.astype(np.uint16)


def _process(homography: list[float], thermal: np.ndarray):
    pred = RecordingPredictor()
    params = NodeParams.from_dict({"registration.homography": homography})
    proc = PairProcessor(params, pred)
    header = make_header(STORE, 1_000_000_000, "cam")
    cls = STORE.types[IMAGE]
    rgb = np.random.default_rng(0).integers(0, 256, (RGB_H, RGB_W, 3), dtype=np.uint8)
    out = proc.process(
        encode_image(rgb, "rgb8", header=header, msg_type=cls),
        encode_image(thermal, "mono16", header=header, msg_type=cls),
    )
    assert out is not None and len(pred.seen) == 1
    np.testing.assert_array_equal(out.thermal, pred.seen[0])  # what the model got is reported
    return pred.seen[0]


def _bilinear(img: np.ndarray, u: float, v: float) -> float | None:
    """Written-out bilinear sample at (u, v); None outside the frame (there the border value
    is blended in)."""
    h, w = img.shape
    if not (0 <= u <= w - 1 and 0 <= v <= h - 1):
        return None
    u0, v0 = min(int(u), w - 2), min(int(v), h - 2)
    fu, fv = u - u0, v - v0
    p = img[v0 : v0 + 2, u0 : u0 + 2].astype(float)
    top = (1 - fu) * p[0, 0] + fu * p[0, 1]
    bottom = (1 - fu) * p[1, 0] + fu * p[1, 1]
    return (1 - fv) * top + fv * bottom


def test_scale_and_shift_put_every_thermal_pixel_where_the_homography_says():
    thermal = _textured_thermal()
    seen = _process(SCALE_SHIFT, thermal)
    assert seen.shape == (RGB_H, RGB_W) and seen.dtype == np.uint16
    # thermal (u, v) lands exactly on RGB (2u + 3, 2v + 1): the same count, pixel for pixel
    for v in range(TH_H):
        for u in range(TH_W):
            x, y = 2 * u + 3, 2 * v + 1
            if x < RGB_W and y < RGB_H:
                assert seen[y, x] == thermal[v, u], (u, v)
    # between them, the mean of the neighbours (bilinear at half-pixel positions)
    for y in range(1, RGB_H - 2, 2):
        for x in range(4, RGB_W - 2, 2):
            u, v = (x - 3) // 2, (y - 1) // 2  # x sits halfway between u and u + 1
            want = (int(thermal[v, u]) + int(thermal[v, u + 1])) / 2
            assert abs(int(seen[y, x]) - want) <= 1, (x, y)
    # left of x = 3 - 2 lies outside the thermal frame: the frame's minimum count
    assert (seen[:, :2] == thermal.min()).all()


def test_a_perspective_homography_matches_a_written_out_inverse_warp():
    thermal = _textured_thermal()
    H = np.array([[1.9, 0.15, 2.0], [-0.1, 2.1, 1.5], [0.002, -0.001, 1.0]])
    seen = _process(H.ravel().tolist(), thermal)
    inv = np.linalg.inv(H)
    checked = 0
    for y in range(RGB_H):
        for x in range(RGB_W):
            p = inv @ np.array([x, y, 1.0])
            u, v = p[0] / p[2], p[1] / p[2]
            want = _bilinear(thermal, u, v)
            if want is None:
                continue
            # OpenCV quantises source positions to 1/32 pixel: allow that much of the slope
            u0, v0 = min(int(u), TH_W - 2), min(int(v), TH_H - 2)
            patch = thermal[v0 : v0 + 2, u0 : u0 + 2].astype(float)
            tolerance = 1.5 + (patch.max() - patch.min()) / 16
            assert abs(float(seen[y, x]) - want) <= tolerance, (x, y, seen[y, x], want)
            checked += 1
    assert checked > 0.6 * RGB_H * RGB_W
    # and the transposed matrix (a typical mistake) would not have passed
    wrong = _process(H.T.ravel().tolist(), thermal)
    assert np.abs(wrong.astype(float) - seen.astype(float)).max() > 200


@pytest.mark.parametrize("homography", [[], [1, 0, 0, 0, 1, 0, 0, 0, 1]])
def test_no_or_identity_homography_on_equal_sizes_passes_the_thermal_through(homography):
    thermal = np.resize(_textured_thermal(), (RGB_H, RGB_W)).astype(np.uint16)
    np.testing.assert_array_equal(_process(homography, thermal), thermal)
