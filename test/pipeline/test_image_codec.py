"""Image codec: known pixel values per encoding, padding, endianness, malformed input, round trips.

Messages come in three flavours: a real rclpy ``sensor_msgs/msg/Image``, a rosbags
``sensor_msgs/msg/Image`` object (what the bag tools read), and a plain object with the same
fields (the duck-typing contract).
"""

from __future__ import annotations

import array
import struct
import subprocess
import sys
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from sccosf_ros.pipeline.image_codec import (
    ImageDecodeError,
    check_rgb,
    check_thermal,
    decode_image,
    decode_rgb,
    decode_thermal,
    encode_image,
    encoding_info,
)


def _rosbags_store():
    from rosbags.typesys import Stores, get_typestore

    store = getattr(Stores, "ROS2_KILTED", Stores.ROS2_HUMBLE)
    return get_typestore(store)


STORE = _rosbags_store()
RosbagsImage = STORE.types["sensor_msgs/msg/Image"]
RosbagsHeader = STORE.types["std_msgs/msg/Header"]
RosbagsTime = STORE.types["builtin_interfaces/msg/Time"]

FLAVOURS = ("rclpy", "rosbags", "plain")


def make_msg(flavour, encoding, width, height, data, step=None, big=False):
    """An Image message of the given flavour from raw bytes (no codec involved)."""
    data = bytes(data)
    if step is None:
        step = len(data) // height
    if flavour == "rclpy":
        from sensor_msgs.msg import Image

        msg = Image()
        msg.height, msg.width, msg.encoding = height, width, encoding
        msg.is_bigendian, msg.step = int(big), step
        msg.data = data
        return msg
    if flavour == "rosbags":
        return RosbagsImage(
            header=RosbagsHeader(stamp=RosbagsTime(sec=1, nanosec=2), frame_id="cam"),
            height=height,
            width=width,
            encoding=encoding,
            is_bigendian=int(big),
            step=step,
            data=np.frombuffer(data, dtype=np.uint8).copy(),
        )
    return SimpleNamespace(
        height=height, width=width, encoding=encoding, is_bigendian=int(big), step=step, data=data
    )


RGB = np.array(
    [[[255, 0, 0], [0, 255, 0], [0, 0, 255]], [[10, 20, 30], [40, 50, 60], [70, 80, 90]]],
    dtype=np.uint8,
)  # (2, 3, 3) RGB


def _pad_rows(rows: list[bytes], pad: int) -> bytes:
    return b"".join(r + bytes([0xEE] * pad) for r in rows)


# --------------------------------------------------------------------------- known values
@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("pad", [0, 3])
def test_colour_encodings_decode_to_rgb(flavour, pad):
    h, w = RGB.shape[:2]
    alpha = np.full((h, w, 1), 77, np.uint8)
    layouts = {
        "rgb8": RGB,
        "bgr8": RGB[..., ::-1],
        "rgba8": np.concatenate([RGB, alpha], axis=2),
        "bgra8": np.concatenate([RGB[..., ::-1], alpha], axis=2),
    }
    for enc, wire in layouts.items():
        rows = [np.ascontiguousarray(wire[r]).tobytes() for r in range(h)]
        step = len(rows[0]) + pad
        msg = make_msg(flavour, enc, w, h, _pad_rows(rows, pad), step=step)
        out = decode_image(msg)
        assert out.dtype == np.uint8 and out.shape == (h, w, 3), enc
        np.testing.assert_array_equal(out, RGB, err_msg=enc)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_mono8_and_8uc1(flavour):
    values = np.array([[0, 1, 2, 3], [250, 251, 254, 255]], np.uint8)
    for enc in ("mono8", "8UC1"):
        out = decode_image(make_msg(flavour, enc, 4, 2, values.tobytes()))
        assert out.dtype == np.uint8 and out.shape == (2, 4)
        np.testing.assert_array_equal(out, values)


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("pad", [0, 1, 4])  # 1: rows start at odd addresses
def test_16bit_mono_endianness_and_padding(flavour, big, pad):
    values = [[0x0102, 0xFFFF, 7000], [0, 0x8000, 9123]]
    fmt = ">H" if big else "<H"
    rows = [b"".join(struct.pack(fmt, v) for v in row) for row in values]
    for enc in ("mono16", "16UC1"):
        msg = make_msg(flavour, enc, 3, 2, _pad_rows(rows, pad), step=6 + pad, big=big)
        out = decode_image(msg)
        assert out.dtype == np.uint16 and out.dtype.isnative and out.shape == (2, 3)
        np.testing.assert_array_equal(out, np.array(values, np.uint16))


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("pad", [0, 2])
def test_32fc1_endianness_padding_and_nan(flavour, big, pad):
    values = [[0.5, -1.25, 300.0], [float("nan"), 1e-3, 27.5]]
    fmt = ">f" if big else "<f"
    rows = [b"".join(struct.pack(fmt, v) for v in row) for row in values]
    msg = make_msg(flavour, "32FC1", 3, 2, _pad_rows(rows, pad), step=12 + pad, big=big)
    out = decode_image(msg)
    assert out.dtype == np.float32 and out.dtype.isnative and out.shape == (2, 3)
    np.testing.assert_array_equal(out, np.array(values, np.float32))  # NaN == NaN here
    assert np.isnan(out[1, 0]) and np.isnan(out).sum() == 1


@pytest.mark.parametrize("big", [False, True])
def test_16bit_colour_and_generic_multichannel(big):
    rgb16 = RGB.astype(np.uint16) * 257
    dt = ">u2" if big else "<u2"
    msg = make_msg("plain", "bgr16", 3, 2, rgb16[..., ::-1].astype(dt).tobytes(), big=big)
    out = decode_image(msg)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, rgb16)
    np.testing.assert_array_equal(decode_rgb(msg), RGB)  # 16 → 8 bit: x · 255/65535

    # Generic encodings carry no channel order: passed through byte for byte.
    four = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = decode_image(make_msg("plain", "8UC3", 3, 2, four[..., :3].tobytes()))
    np.testing.assert_array_equal(out, four[..., :3])
    out = decode_image(make_msg("plain", "8UC4", 3, 2, four.tobytes()))
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, four)
    np.testing.assert_array_equal(
        decode_rgb(make_msg("plain", "8UC4", 3, 2, four.tobytes())), four[..., :3]
    )
    s16 = np.array([[-5, 300]], np.int16)
    out = decode_image(make_msg("plain", "16SC1", 2, 1, s16.astype("<i2").tobytes()))
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out, s16)


@pytest.mark.parametrize(
    ("pattern", "offsets"),
    # (row, col) of R, G1, G2, B inside the 2×2 tile, as the encoding name spells it
    [
        ("rggb", {"R": (0, 0), "G": [(0, 1), (1, 0)], "B": (1, 1)}),
        ("bggr", {"B": (0, 0), "G": [(0, 1), (1, 0)], "R": (1, 1)}),
        ("gbrg", {"G": [(0, 0), (1, 1)], "B": (0, 1), "R": (1, 0)}),
        ("grbg", {"G": [(0, 0), (1, 1)], "R": (0, 1), "B": (1, 0)}),
    ],
)
def test_bayer_patterns_demosaic_to_the_right_colour(pattern, offsets):
    colour = {"R": 200, "G": 100, "B": 40}
    mosaic = np.zeros((8, 8), np.uint8)
    for ch, pos in offsets.items():
        for r, c in pos if isinstance(pos, list) else [pos]:
            mosaic[r::2, c::2] = colour[ch]
    out = decode_image(make_msg("plain", f"bayer_{pattern}8", 8, 8, mosaic.tobytes()))
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    # A flat colour demosaics to itself away from the border.
    np.testing.assert_array_equal(out[2:6, 2:6], np.broadcast_to([200, 100, 40], (4, 4, 3)))
    out16 = decode_image(
        make_msg("plain", f"bayer_{pattern}16", 8, 8, (mosaic.astype("<u2") * 257).tobytes())
    )
    assert out16.dtype == np.uint16
    np.testing.assert_array_equal(out16[2:6, 2:6] // 257, out[2:6, 2:6])


def test_yuv422_variants():
    # BT.601 video range: Y=81, U=90, V=240 is pure red; Y=128, U=V=128 is neutral grey.
    h, w = 2, 4
    red_uyvy = bytes([90, 81, 240, 81] * (w // 2 * h))
    red_yuyv = bytes([81, 90, 81, 240] * (w // 2 * h))
    for enc, data in (
        ("yuv422", red_uyvy),
        ("uyvy", red_uyvy),
        ("yuv422_yuy2", red_yuyv),
        ("yuyv", red_yuyv),
    ):
        out = decode_image(make_msg("plain", enc, w, h, data))
        assert out.shape == (h, w, 3) and out.dtype == np.uint8
        assert np.all(np.abs(out.astype(int) - [255, 0, 0]) <= 2), (enc, out[0, 0])
    grey = decode_image(make_msg("plain", "yuv422", w, h, bytes([128] * (2 * w * h))))
    assert np.all(grey == grey[..., :1])  # neutral: R = G = B


def test_data_container_types_all_decode_the_same():
    values = np.arange(12, dtype=np.uint8).reshape(2, 6)
    raw = values.tobytes()
    containers = [
        raw,
        bytearray(raw),
        array.array("B", raw),
        memoryview(raw),
        list(raw),
        np.frombuffer(raw, np.uint8).copy(),
    ]
    for data in containers:
        msg = SimpleNamespace(
            height=2, width=6, encoding="mono8", is_bigendian=0, step=6, data=data
        )
        np.testing.assert_array_equal(decode_image(msg), values, err_msg=type(data).__name__)


def test_decoded_array_is_owned_and_writeable():
    data = np.arange(12, dtype=np.uint8)
    msg = make_msg("rosbags", "mono8", 6, 2, data.tobytes())
    for enc in ("mono8", "8UC3"):
        msg.encoding, msg.width = enc, 6 if enc == "mono8" else 2
        out = decode_image(msg)
        assert out.flags.writeable and out.flags.c_contiguous
        assert not np.may_share_memory(out, msg.data)
        out[...] = 0
        assert msg.data.sum() == data.sum()


# --------------------------------------------------------------------------- decode_rgb / thermal
def test_decode_rgb_from_mono_and_rejects_float():
    mono = np.array([[0, 128, 255]], np.uint8)
    out = decode_rgb(make_msg("rclpy", "mono8", 3, 1, mono.tobytes()))
    assert out.shape == (1, 3, 3)
    np.testing.assert_array_equal(out, np.repeat(mono[..., None], 3, axis=2))
    m16 = np.array([[0, 128, 129, 257, 65535]], "<u2")
    out = decode_rgb(make_msg("plain", "mono16", 5, 1, m16.tobytes()))
    np.testing.assert_array_equal(out[0, :, 0], [0, 0, 1, 1, 255])
    f = make_msg("plain", "32FC1", 2, 1, np.zeros(2, "<f4").tobytes())
    with pytest.raises(ImageDecodeError, match="not an RGB camera format"):
        decode_rgb(f)


def test_decode_thermal_keeps_raw_counts_and_greys_colour():
    counts = np.array([[7000, 7100], [8000, 9000]], np.uint16)
    out = decode_thermal(make_msg("rclpy", "mono16", 2, 2, counts.astype("<u2").tobytes()))
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, counts)  # no cv_bridge-style 255/65535 scaling

    grey = np.array([[0, 17], [200, 255]], np.uint8)
    bgr = np.repeat(grey[..., None], 3, axis=2)
    out = decode_thermal(make_msg("plain", "bgr8", 2, 2, bgr.tobytes()))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, grey)  # replicated grey comes back exactly

    out = decode_thermal(make_msg("plain", "rgb8", 3, 2, RGB.tobytes()))
    np.testing.assert_array_equal(out, cv2.cvtColor(RGB, cv2.COLOR_RGB2GRAY))

    f = np.array([[20.5, np.nan]], "<f4")
    out = decode_thermal(make_msg("plain", "32FC1", 2, 1, f.tobytes()))
    assert out.dtype == np.float32 and np.isnan(out[0, 1]) and out[0, 0] == 20.5
    s = np.array([[-40, 120]], "<i2")
    out = decode_thermal(make_msg("plain", "16SC1", 2, 1, s.tobytes()))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[-40.0, 120.0]])


# --------------------------------------------------------------------------- malformed input
GOOD = dict(height=2, width=3, encoding="rgb8", is_bigendian=0, step=9, data=bytes(18))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"encoding": "rgb9"}, ["unknown image encoding 'rgb9'", "supported"]),
        ({"encoding": ""}, ["encoding is empty"]),
        ({"width": 0, "step": 0, "data": b""}, ["zero size", "width 0"]),
        ({"height": 0, "data": b""}, ["zero size", "height 0"]),
        ({"step": 8}, ["step 8 is smaller than one row", "9 bytes"]),
        ({"data": bytes(17)}, ["truncated", "17 bytes", "18 bytes"]),
        ({"height": 1}, ["18 bytes", "height 1 × step 9 = 9", "do not match"]),
        ({"width": 2, "step": 6}, ["18 bytes", "do not match"]),
        ({"encoding": "yuv422", "step": 6}, ["width 3 must be even"]),
        ({"data": np.zeros(18, np.float32)}, ["uint8 bytes", "float32"]),
        ({"data": [0] * 17 + [256]}, ["0..255"]),
        ({"data": 42}, ["not a byte buffer"]),
    ],
)
def test_malformed_messages_raise_clear_errors(change, words):
    msg = SimpleNamespace(**{**GOOD, **change})
    with pytest.raises(ImageDecodeError) as info:
        decode_image(msg)
    for w in words:
        assert w in str(info.value), (w, str(info.value))
    assert isinstance(info.value, ValueError)


def test_malformed_real_messages_and_missing_fields():
    bad = make_msg("rclpy", "mono16", 4, 4, bytes(31), step=8)
    with pytest.raises(ImageDecodeError, match="truncated"):
        decode_thermal(bad)
    bad = make_msg("rosbags", "mono8", 4, 4, bytes(16), step=4)
    bad.encoding = "jpeg"
    with pytest.raises(ImageDecodeError, match="unknown image encoding 'jpeg'"):
        decode_rgb(bad)
    with pytest.raises(ImageDecodeError, match="no field 'step'"):
        decode_image(
            SimpleNamespace(height=1, width=1, encoding="mono8", is_bigendian=0, data=b"\0")
        )


def test_encoding_info():
    assert encoding_info("8UC3").name == "8UC3"
    assert encoding_info("mono16").bytes_per_pixel == 2
    assert encoding_info("32FC1").dtype == np.float32
    assert encoding_info("yuv422").bytes_per_pixel == 2
    with pytest.raises(ImageDecodeError):
        encoding_info("9UC1")


@pytest.mark.parametrize(
    ("spelled", "right"),
    [("RGB8", "rgb8"), ("bgr8 ", "bgr8"), (" Mono16", "mono16"), ("8uc1", "8UC1"),
     ("8UC1\n", "8UC1"), ("32fc1", "32FC1")],
)  # fmt: skip
def test_a_misspelled_encoding_is_refused_naming_the_ros_spelling(spelled, right):
    """ROS encodings are case-sensitive, without spaces (cv_bridge refuses "RGB8"): a
    misspelling is refused, not guessed, and the message names the right spelling."""
    msg = SimpleNamespace(**{**GOOD, "encoding": spelled})
    for decode in (decode_image, decode_rgb, decode_thermal):
        with pytest.raises(ImageDecodeError) as info:
            decode(msg)
        assert f"{spelled!r} is misspelled" in str(info.value)
        assert f"must send {right!r}" in str(info.value)
    with pytest.raises(ValueError, match="misspelled"):
        encode_image(np.zeros((2, 3, 3), np.uint8), spelled, msg_type=SimpleNamespace)


@pytest.mark.parametrize("flag", [2, 255, -1, 1.0, "1", None])
def test_is_bigendian_other_than_0_or_1_is_refused(flag):
    """uint8 0/1 only: cv_bridge's C++ side reads 255 as big-endian, its Python side as
    little-endian, so no reading of it is right."""
    for encoding, step in (("rgb8", 9), ("mono16", 6)):
        msg = SimpleNamespace(**{**GOOD, "encoding": encoding, "step": step,
                                 "data": bytes(2 * step), "is_bigendian": flag})  # fmt: skip
        with pytest.raises(ImageDecodeError, match=r"is_bigendian must be 0 .* or 1 .*, got"):
            decode_image(msg)
    for ok in (0, 1, True, False, np.uint8(1)):
        assert decode_image(SimpleNamespace(**{**GOOD, "is_bigendian": ok})).shape == (2, 3, 3)


def test_a_1x1_image_decodes():
    """No minimum size (the processor test runs a 1x1 pair through the network)."""
    one = SimpleNamespace(height=1, width=1, encoding="rgb8", is_bigendian=0, step=3,
                          data=bytes([10, 20, 30]))  # fmt: skip
    assert decode_rgb(one).tolist() == [[[10, 20, 30]]]
    th = SimpleNamespace(height=1, width=1, encoding="mono16", is_bigendian=1, step=2,
                         data=bytes([1, 2]))  # fmt: skip
    assert decode_thermal(th).tolist() == [[258]]


# --------------------------------------------------------------------------- encoding
def _samples():
    rng = np.random.default_rng(0)
    return {
        "rgb8": rng.integers(0, 256, (5, 7, 3), dtype=np.uint8),
        "bgr8": rng.integers(0, 256, (5, 7, 3), dtype=np.uint8),
        "rgb16": rng.integers(0, 65536, (5, 7, 3), dtype=np.uint16),
        "bgr16": rng.integers(0, 65536, (5, 7, 3), dtype=np.uint16),
        "mono8": rng.integers(0, 256, (5, 7), dtype=np.uint8),
        "8UC1": rng.integers(0, 256, (5, 7), dtype=np.uint8),
        "mono16": rng.integers(0, 65536, (5, 7), dtype=np.uint16),
        "16UC1": rng.integers(0, 65536, (5, 7), dtype=np.uint16),
        "8UC3": rng.integers(0, 256, (5, 7, 3), dtype=np.uint8),
        "32FC1": np.where(rng.random((5, 7)) < 0.1, np.nan, rng.normal(size=(5, 7)) * 100).astype(
            np.float32
        ),
    }


def _ros_image() -> type:
    from sensor_msgs.msg import Image

    return Image


@pytest.mark.parametrize("target", ["rclpy", "rosbags"])
def test_encode_decode_round_trip(target):
    from sensor_msgs.msg import Image

    msg_type = Image if target == "rclpy" else RosbagsImage
    for enc, img in _samples().items():
        msg = encode_image(img, enc, msg_type=msg_type)
        if target == "rclpy":
            from sensor_msgs.msg import Image

            assert type(msg) is Image
        else:
            assert isinstance(msg, RosbagsImage)
        assert (msg.height, msg.width, msg.encoding) == (5, 7, enc)
        assert msg.step == 7 * encoding_info(enc).bytes_per_pixel
        assert len(msg.data) == msg.step * msg.height
        expected = img[..., ::-1] if enc.startswith("bgr") else img  # decode returns RGB
        np.testing.assert_array_equal(decode_image(msg), expected, err_msg=enc)


def test_encode_writes_channels_as_given_and_rgba_adds_alpha():
    # Like cv_bridge.cv2_to_imgmsg: the encoding labels the array's layout, nothing is swapped.
    bgr = np.ascontiguousarray(RGB[..., ::-1])
    msg = encode_image(bgr, "bgr8", msg_type=_ros_image())
    wire = np.frombuffer(msg.data, np.uint8).reshape(2, 3, 3)
    np.testing.assert_array_equal(wire, bgr)
    np.testing.assert_array_equal(decode_image(msg), RGB)
    for enc, arr in (("rgba8", RGB), ("bgra8", bgr)):
        msg = encode_image(arr, enc, msg_type=_ros_image())
        wire = np.frombuffer(msg.data, np.uint8).reshape(2, 3, 4)
        assert (wire[..., 3] == 255).all()
        np.testing.assert_array_equal(wire[..., :3], arr)
        np.testing.assert_array_equal(decode_image(msg), RGB)
    rgba = np.concatenate([RGB, np.full((2, 3, 1), 9, np.uint8)], axis=2)
    wire = np.frombuffer(
        encode_image(rgba, "rgba8", msg_type=_ros_image()).data, np.uint8
    ).reshape(2, 3, 4)
    np.testing.assert_array_equal(wire, rgba)  # a given alpha is kept


def test_encode_keeps_header_and_owns_its_data():
    from std_msgs.msg import Header

    header = Header(frame_id="rgb_optical")
    header.stamp.sec, header.stamp.nanosec = 12, 345
    img = np.zeros((2, 3, 3), np.uint8)
    msg = encode_image(img, "rgb8", header=header, msg_type=_ros_image())
    assert msg.header.frame_id == "rgb_optical" and msg.header.stamp.nanosec == 345
    img[...] = 9  # caller reuses its buffer
    assert max(msg.data) == 0

    rb_header = RosbagsHeader(stamp=RosbagsTime(sec=3, nanosec=4), frame_id="th")
    msg = encode_image(img[..., 0], "mono8", header=rb_header, msg_type=RosbagsImage)
    assert msg.header.frame_id == "th"
    img[...] = 1
    assert msg.data.max() == 9
    default = encode_image(img, "rgb8", msg_type=RosbagsImage)
    assert default.header.stamp.sec == 0 and default.header.frame_id == ""


def test_encoded_messages_serialize_through_rclpy_and_rosbags():
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image

    img = _samples()["mono16"]
    back = deserialize_message(
        serialize_message(encode_image(img, "mono16", msg_type=_ros_image())), Image
    )
    np.testing.assert_array_equal(decode_image(back), img)

    bgr = np.ascontiguousarray(_samples()["rgb8"][..., ::-1])
    rb = encode_image(bgr, "bgr8", msg_type=RosbagsImage)
    back = STORE.deserialize_cdr(
        STORE.serialize_cdr(rb, RosbagsImage.__msgtype__), RosbagsImage.__msgtype__
    )
    np.testing.assert_array_equal(decode_image(back), _samples()["rgb8"])


@pytest.mark.parametrize(
    ("img", "enc", "words"),
    [
        (np.zeros((2, 2, 3), np.float32), "rgb8", "needs uint8 pixels, got float32"),
        (np.zeros((2, 2), np.uint8), "mono16", "needs uint16"),
        (np.zeros((2, 2, 3), np.uint8), "mono8", "(H, W) array"),
        (np.zeros((2, 2), np.uint8), "rgb8", "(H, W, 3) array"),
        (np.zeros((2, 2, 2), np.uint8), "rgb8", "(H, W, 3) array"),
        (np.zeros((2, 2), np.uint8), "bayer_rggb8", "does not write"),
        (np.zeros((2, 2), np.uint8), "png", "unknown image encoding"),
        (np.zeros((0, 2), np.uint8), "mono8", "shape (0, 2)"),
    ],
)
def test_encode_rejects_bad_input(img, enc, words):
    with pytest.raises(ValueError) as info:
        encode_image(img, enc, msg_type=_ros_image())
    assert words in str(info.value)


# --------------------------------------------------------------------------- cv_bridge / imports
def _has_cv_bridge() -> bool:
    try:
        import cv_bridge  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _has_cv_bridge(), reason="cv_bridge not installed")
def test_cv_bridge_and_numpy_backends_agree():
    for enc, img in _samples().items():
        msg = encode_image(img, enc, msg_type=_ros_image())
        np.testing.assert_array_equal(
            decode_image(msg, backend="cv_bridge"), decode_image(msg, backend="numpy"), enc
        )


@pytest.mark.skipif(_has_cv_bridge(), reason="cv_bridge is installed")
def test_cv_bridge_backend_without_cv_bridge_is_a_clear_error():
    msg = encode_image(RGB, "rgb8", msg_type=_ros_image())
    with pytest.raises(ImportError, match="cv_bridge is not importable"):
        decode_image(msg, backend="cv_bridge")
    np.testing.assert_array_equal(decode_image(msg, backend="auto"), RGB)


def test_codec_and_pairing_import_without_ros():
    code = (
        "import sys; import sccosf_ros.pipeline.image_codec, sccosf_ros.pipeline.pairing, "
        "sccosf_ros.registration; "
        "bad = [m for m in ('rclpy', 'sensor_msgs', 'std_msgs', 'message_filters', 'cv_bridge') "
        "if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    ("encoding", "channels", "dtype", "rgb_ok", "thermal_ok"),
    [
        ("rgb8", 3, "u1", True, True),
        ("mono16", 1, "<u2", True, True),
        ("32FC1", 1, "<f4", False, True),
        ("16SC1", 1, "<i2", False, True),
        ("8UC2", 2, "u1", False, False),
        ("bayer_rggb8", 1, "u1", True, True),
    ],
)
def test_checks_agree_with_what_decoding_accepts(encoding, channels, dtype, rgb_ok, thermal_ok):
    data = np.zeros((4, 6, channels), dtype).tobytes()
    msg = make_msg("plain", encoding, 6, 4, data)
    for check, decode, ok in (
        (check_rgb, decode_rgb, rgb_ok),
        (check_thermal, decode_thermal, thermal_ok),
    ):
        if ok:
            check(msg)
            decode(msg)
        else:
            with pytest.raises(ImageDecodeError):
                check(msg)
            with pytest.raises(ImageDecodeError):
                decode(msg)
    short = make_msg("plain", encoding, 6, 4, data[:-1], step=len(data) // 4)
    with pytest.raises(ImageDecodeError, match="truncated"):
        check_thermal(short)
