"""CompressedImage codec: image_transport formats, cheap checks, decoding, the processor's path."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from sccosf_ros.pipeline.compressed import (
    COMPRESSED_IMAGE,
    check_compressed,
    decode_compressed,
    encode_compressed,
    is_compressed,
    parse_format,
)
from sccosf_ros.pipeline.image_codec import ImageDecodeError
from sccosf_ros.pipeline.processor import check_input, decode_input

STORE = get_typestore(Stores.ROS2_HUMBLE)
CMSG = STORE.types[COMPRESSED_IMAGE]


def _smooth_rgb(h: int = 48, w: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 90)], -1).astype(np.uint8)


def _msg(fmt: str, data: bytes | np.ndarray):
    header = STORE.types["std_msgs/msg/Header"](
        stamp=STORE.types["builtin_interfaces/msg/Time"](sec=1, nanosec=0), frame_id="cam"
    )
    return CMSG(header=header, format=fmt, data=np.frombuffer(bytes(data), np.uint8))


@pytest.mark.parametrize(
    ("fmt", "codec", "encoding", "payload"),
    [
        ("rgb8; jpeg compressed bgr8", "jpeg", "rgb8", "bgr8"),
        ("bgr8; jpeg compressed bgr8", "jpeg", "bgr8", "bgr8"),
        ("mono8; jpeg compressed mono8", "jpeg", "mono8", "mono8"),
        ("mono16; png compressed ", "png", "mono16", ""),
        ("mono16; png compressed", "png", "mono16", ""),
        ("bgr16; png compressed bgr16", "png", "bgr16", "bgr16"),
        ("32FC1; tiff compressed ", "tiff", "32FC1", ""),
        ("jpeg", "jpeg", None, ""),
        ("PNG", "png", None, ""),
    ],
)
def test_image_transport_format_strings(fmt, codec, encoding, payload):
    f = parse_format(fmt)
    assert (f.codec, f.encoding, f.payload) == (codec, encoding, payload)


@pytest.mark.parametrize(
    ("fmt", "match"),
    [
        ("h264", "unknown CompressedImage format"),
        ("rgb8; webp compressed bgr8", "unknown CompressedImage format"),
        ("yuv_made_up; jpeg compressed bgr8", "unknown image encoding"),
        ("16UC1; compressedDepth png", "compressedDepth"),
        ("", "unknown CompressedImage format"),
    ],
)
def test_unknown_formats_are_rejected_with_a_reason(fmt, match):
    with pytest.raises(ImageDecodeError, match=match):
        parse_format(fmt)


def test_jpeg_round_trip_is_rgb_and_close():
    rgb = _smooth_rgb()
    msg = encode_compressed(rgb, "rgb8", "jpeg", 95, msg_type=CMSG)
    assert msg.format == "rgb8; jpeg compressed bgr8" and is_compressed(msg)
    assert bytes(msg.data[:2]) == b"\xff\xd8"
    out = decode_compressed(msg)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb).mean() < 3  # RGB order kept (BGR inside the JPEG)
    assert np.array_equal(decode_input("rgb", msg), out)


def test_mono16_png_keeps_thermal_counts_exactly():
    counts = np.random.default_rng(0).integers(7000, 9000, (24, 32), dtype=np.uint16)
    msg = encode_compressed(counts, "mono16", "png", msg_type=CMSG)
    assert msg.format == "mono16; png compressed "
    out = decode_input("thermal", msg)
    assert out.dtype == np.uint16 and np.array_equal(out, counts)


def test_data_written_by_opencv_directly_decodes_like_image_transport():
    # What compressed_image_transport puts on the wire: cv::imencode of the BGR image.
    rgb = _smooth_rgb()
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    for fmt in ("rgb8; png compressed bgr8", "png"):
        assert np.array_equal(decode_input("rgb", _msg(fmt, buf.tobytes())), rgb)
    # An 8-bit grey PNG as RGB input becomes 3 equal channels.
    ok, grey = cv2.imencode(".png", rgb[..., 0])
    out = decode_input("rgb", _msg("mono8; png compressed ", grey.tobytes()))
    assert out.shape == rgb.shape and np.array_equal(out[..., 1], rgb[..., 0])


def test_truncated_jpeg_is_malformed_not_a_grey_picture():
    data = bytes(encode_compressed(_smooth_rgb(), "rgb8", "jpeg", msg_type=CMSG).data)
    # libjpeg would decode this with a grey lower half and only a warning.
    msg = _msg("rgb8; jpeg compressed bgr8", data[: len(data) * 2 // 3])
    with pytest.raises(ImageDecodeError, match="truncated"):
        check_input("rgb", msg)
    with pytest.raises(ImageDecodeError, match="truncated"):
        decode_input("rgb", msg)


def test_png_with_the_wrong_bit_depth_or_channels_is_malformed():
    eight = cv2.imencode(".png", np.full((8, 8), 100, np.uint8))[1].tobytes()
    with pytest.raises(ImageDecodeError, match="8-bit samples but the format says mono16"):
        check_input("thermal", _msg("mono16; png compressed ", eight))
    sixteen = cv2.imencode(".png", np.full((8, 8), 9000, np.uint16))[1].tobytes()
    with pytest.raises(ImageDecodeError, match="16-bit samples but the format says mono8"):
        check_input("thermal", _msg("mono8; png compressed ", sixteen))
    with pytest.raises(ImageDecodeError, match="1-channel pixels but the format says rgb8"):
        check_input("rgb", _msg("rgb8; png compressed bgr8", eight))


def test_data_that_is_not_what_the_format_says_is_malformed():
    png = cv2.imencode(".png", np.zeros((4, 4), np.uint8))[1].tobytes()
    with pytest.raises(ImageDecodeError, match="format says jpeg but the data is not jpeg"):
        check_compressed(_msg("rgb8; jpeg compressed bgr8", png))
    with pytest.raises(ImageDecodeError, match="has no data"):
        check_compressed(_msg("jpeg", b""))
    with pytest.raises(ImageDecodeError, match="truncated"):
        check_compressed(_msg("png", png[:-12]))
    # Valid framing, garbage inside: found when decoding, still an ImageDecodeError.
    bad = bytearray(encode_compressed(_smooth_rgb(), "rgb8", "jpeg", msg_type=CMSG).data)
    bad[2:-2] = b"\x00" * (len(bad) - 4)
    with pytest.raises(ImageDecodeError):
        decode_compressed(_msg("jpeg", bytes(bad)))


def test_float_thermal_is_not_an_rgb_picture():
    ok, buf = cv2.imencode(".tiff", np.full((8, 8), 21.5, np.float32))
    assert ok
    msg = _msg("32FC1; tiff compressed ", buf.tobytes())
    assert decode_input("thermal", msg).dtype == np.float32
    with pytest.raises(ImageDecodeError, match="not an RGB camera format"):
        decode_input("rgb", msg)


def test_encode_refuses_what_jpeg_cannot_hold():
    with pytest.raises(ValueError, match="8-bit"):
        encode_compressed(np.zeros((4, 4), np.uint16), "mono16", "jpeg", msg_type=CMSG)
    with pytest.raises(ValueError, match="cannot compress"):
        encode_compressed(np.zeros((4, 4, 3), np.float32), "rgb8", "jpeg", msg_type=CMSG)
