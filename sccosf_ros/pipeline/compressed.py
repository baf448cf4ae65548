"""sensor_msgs/CompressedImage ⇄ numpy: image_transport's ``compressed`` transport, no ROS import.

A camera behind ``image_transport`` publishes ``<base>/compressed``: a ``CompressedImage`` whose
``format`` says what the data is, ``"<camera encoding>; <codec> compressed [<payload layout>]"``
with codec ``jpeg``, ``png`` or ``tiff``, for example

=================================  ===============================================
format                             data
=================================  ===============================================
``rgb8; jpeg compressed bgr8``     JPEG of a colour camera (pixels stored BGR)
``mono8; jpeg compressed mono8``   JPEG of a grey camera
``bgr8; png compressed bgr8``      8-bit colour PNG (``bgr16`` for 16-bit colour)
``mono16; png compressed``         16-bit grey PNG: raw thermal counts, lossless
``32FC1; tiff compressed``         float TIFF (radiometric thermal)
``jpeg`` / ``png``                 older drivers: only the codec is named
=================================  ===============================================

Colour payloads are BGR (OpenCV's order, which is what every image_transport publisher writes)
unless the payload layout names ``rgb``. :func:`check_compressed` validates a message without
decompressing it (format string, the codec's magic bytes, the JPEG/PNG end marker, the PNG's
bit depth and colour type against the format's encoding), cheap enough for a subscription
callback; :func:`decode_compressed` decompresses with OpenCV (``IMREAD_UNCHANGED``, so 16-bit PNG
stays uint16). Problems raise :class:`~sccosf_ros.pipeline.image_codec.ImageDecodeError`, like a
malformed raw image. :func:`encode_compressed` writes JPEG/PNG messages the same way (the node's
``~/<output>/compressed`` topics). ``compressedDepth`` (depth cameras' transport) is refused with
a message saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from sccosf_ros.pipeline.image_codec import (
    ImageDecodeError,
    as_bytes_array,
    assign_data,
    default_header,
    encoding_info,
)

__all__ = [
    "CODECS",
    "COMPRESSED_IMAGE",
    "CompressedFormat",
    "check_compressed",
    "decode_compressed",
    "encode_compressed",
    "is_compressed",
    "parse_format",
]

COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
CODECS = ("jpeg", "png", "tiff")
_BARE = {"jpeg": "jpeg", "jpg": "jpeg", "png": "png", "tiff": "tiff", "tif": "tiff"}
_TRANSPORT = re.compile(r"^(jpeg|png|tiff) compressed(?: (\S*))?$")
_MAGIC = {
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "tiff": (b"II*\x00", b"MM\x00*"),
}
_FORMAT_HINT = (
    "expected image_transport's '<encoding>; jpeg|png|tiff compressed [<layout>]' "
    "(e.g. 'rgb8; jpeg compressed bgr8', 'mono16; png compressed') or a bare 'jpeg'/'png'"
)
# PNG colour types (IHDR byte 9): channels they hold.
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}


@dataclass(frozen=True)
class CompressedFormat:
    """What a ``format`` string says: codec, the camera's encoding, the payload's layout."""

    codec: str  # jpeg | png | tiff
    encoding: str | None  # the camera's encoding before compression; None for bare formats
    payload: str  # layout inside the data as the publisher wrote it ("bgr8", "mono8", "")

    @property
    def rgb_order(self) -> bool:
        """True when 3/4-channel data is stored RGB (image_transport stores BGR)."""
        return self.payload.startswith("rgb")


def is_compressed(msg: Any) -> bool:
    """True for a CompressedImage-like message (``format`` + ``data``, no ``encoding``)."""
    return hasattr(msg, "format") and not hasattr(msg, "encoding")


def parse_format(fmt: Any) -> CompressedFormat:
    """The ``format`` field → :class:`CompressedFormat`; ImageDecodeError when unknown."""
    if not isinstance(fmt, str):
        raise ImageDecodeError(f"CompressedImage format must be a string, got {fmt!r}")
    text = fmt.strip()
    low = text.lower()
    if ";" not in text:
        codec = _BARE.get(low)
        if codec is None:
            raise ImageDecodeError(f"unknown CompressedImage format {fmt!r}: {_FORMAT_HINT}")
        return CompressedFormat(codec, None, "")
    encoding, _, transport = (part.strip() for part in text.partition(";"))
    if "compresseddepth" in transport.lower():
        raise ImageDecodeError(
            f"CompressedImage format {fmt!r} is image_transport's compressedDepth (depth "
            "cameras); publish thermal with the 'compressed' transport (png) instead"
        )
    m = _TRANSPORT.match(transport.lower())
    if m is None:
        raise ImageDecodeError(f"unknown CompressedImage format {fmt!r}: {_FORMAT_HINT}")
    try:
        info = encoding_info(encoding)
    except ImageDecodeError:
        raise ImageDecodeError(
            f"CompressedImage format {fmt!r} names an unknown image encoding {encoding!r}"
        ) from None
    return CompressedFormat(m.group(1), info.name, m.group(2) or "")


# --------------------------------------------------------------------------- checks
def _jpeg_ends(buf: np.ndarray) -> bool:
    """JPEG data ends with the EOI marker (some encoders pad with zero bytes after it)."""
    end = buf.size
    while end > 2 and buf[end - 1] == 0:
        end -= 1
    return end >= 4 and buf[end - 2] == 0xFF and buf[end - 1] == 0xD9


def _png_header(buf: np.ndarray) -> tuple[int, int, int, int]:
    """(width, height, bit depth, channels) from the IHDR chunk that must follow the magic."""
    if buf.size < 33 or bytes(buf[12:16]) != b"IHDR":
        raise ImageDecodeError("PNG data has no IHDR header: not a PNG file or cut short")
    b = bytes(buf[16:26])
    width, height = int.from_bytes(b[0:4], "big"), int.from_bytes(b[4:8], "big")
    depth, color_type = b[8], b[9]
    if color_type not in _PNG_CHANNELS:
        raise ImageDecodeError(f"PNG has an invalid colour type {color_type}")
    return width, height, depth, _PNG_CHANNELS[color_type]


def _png_ends(buf: np.ndarray) -> bool:
    """PNG data ends with the IEND chunk (12 bytes: length 0, 'IEND', CRC)."""
    return buf.size >= 12 and bytes(buf[-8:-4]) == b"IEND"


def _check_png(buf: np.ndarray, fmt: CompressedFormat) -> None:
    width, height, depth, channels = _png_header(buf)
    if width == 0 or height == 0:
        raise ImageDecodeError(f"PNG has zero size ({width}x{height})")
    if not _png_ends(buf):
        raise ImageDecodeError(
            f"PNG data is truncated: {buf.size} bytes without the IEND end chunk"
        )
    if fmt.encoding is None:
        return
    info = encoding_info(fmt.encoding)
    want_depth = 8 * info.dtype.itemsize
    if info.dtype.itemsize > 2 or info.kind in ("bayer", "yuv"):
        raise ImageDecodeError(f"PNG cannot carry {fmt.encoding} images (format {fmt})")
    if depth != want_depth:
        raise ImageDecodeError(
            f"PNG holds {depth}-bit samples but the format says {fmt.encoding} "
            f"({want_depth}-bit): the publisher's format and data disagree"
        )
    want_mono = info.channels == 1
    if want_mono != (channels == 1):
        raise ImageDecodeError(
            f"PNG holds {channels}-channel pixels but the format says {fmt.encoding}"
        )


def check_compressed(msg: Any) -> CompressedFormat:
    """Raise ImageDecodeError unless ``msg`` looks decodable; returns its parsed format.

    No pixel is decompressed (microseconds): format string, magic bytes of the codec, the
    JPEG/PNG end marker (a truncated JPEG would otherwise decode with a grey lower part) and
    the PNG header's bit depth and channels against the format's encoding.
    """
    try:
        fmt_field, data = msg.format, msg.data
    except AttributeError:
        raise ImageDecodeError(
            f"not a CompressedImage message: {type(msg).__name__} has no format/data"
        ) from None
    fmt = parse_format(fmt_field)
    buf = as_bytes_array(data)
    if buf.size == 0:
        raise ImageDecodeError(f"CompressedImage ({fmt_field!r}) has no data")
    if not any(bytes(buf[: len(m)]) == m for m in _MAGIC[fmt.codec]):
        raise ImageDecodeError(
            f"CompressedImage format says {fmt.codec} but the data is not {fmt.codec} "
            f"(starts with {bytes(buf[:8])!r})"
        )
    if fmt.codec == "jpeg":
        if not _jpeg_ends(buf):
            raise ImageDecodeError(
                f"JPEG data is truncated: {buf.size} bytes without the end-of-image marker"
            )
        if fmt.encoding is not None and encoding_info(fmt.encoding).dtype.itemsize > 2:
            raise ImageDecodeError(f"JPEG cannot carry {fmt.encoding} images")
    elif fmt.codec == "png":
        _check_png(buf, fmt)
    return fmt


# --------------------------------------------------------------------------- decoding
def decode_compressed(msg: Any) -> np.ndarray:
    """Pixels of a CompressedImage-like message: (H, W) mono (uint8, uint16 or float32) or
    (H, W, 3) uint8/uint16 **RGB** (alpha dropped), as :func:`image_codec.decode_image` gives.
    """
    import cv2

    fmt = check_compressed(msg)
    buf = as_bytes_array(msg.data)
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    except cv2.error as e:
        raise ImageDecodeError(f"{fmt.codec} data could not be decoded: {e}") from None
    if img is None or img.size == 0:
        raise ImageDecodeError(
            f"{fmt.codec} data ({buf.size} bytes, format {msg.format!r}) could not be "
            "decoded: corrupt or truncated"
        )
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 3:
        if img.shape[2] == 2:  # grey + alpha
            img = np.ascontiguousarray(img[..., 0])
        elif fmt.rgb_order:
            img = np.ascontiguousarray(img[..., :3])
        else:
            code = cv2.COLOR_BGR2RGB if img.shape[2] == 3 else cv2.COLOR_BGRA2RGB
            img = cv2.cvtColor(img, code)
    if img.dtype not in (np.uint8, np.uint16, np.float32):
        img = img.astype(np.float32)
    return img


# --------------------------------------------------------------------------- encoding
def encode_compressed(
    array: np.ndarray,
    encoding: str = "rgb8",
    codec: str = "jpeg",
    quality: int = 95,
    header: Any = None,
    *,
    msg_type: type,
) -> Any:
    """numpy → CompressedImage as image_transport's ``compressed`` publisher writes it.

    ``array`` is laid out as ``encoding`` says (an rgb8 array is RGB; mono8/mono16 are
    (H, W)); colour is stored BGR. ``codec`` jpeg (8-bit only, ``quality`` 1..100) or png
    (8/16-bit, lossless). The message is of ``msg_type``: ``sensor_msgs.msg.CompressedImage``
    (the ROS adapter passes it) or a rosbags type with the same fields; ``header`` as given.
    """
    import cv2

    info = encoding_info(encoding)
    arr = np.asarray(array)
    if arr.dtype != info.dtype or info.kind not in ("rgb", "bgr", "mono"):
        raise ValueError(f"cannot compress a {arr.dtype} array as {encoding}")
    if codec not in ("jpeg", "png"):
        raise ValueError(f"codec must be jpeg or png, got {codec!r}")
    if codec == "jpeg" and info.dtype.itemsize != 1:
        raise ValueError(f"JPEG holds 8-bit images only, not {encoding}: use png")
    mono = info.kind == "mono"
    if mono != (arr.ndim == 2):
        raise ValueError(f"{encoding} needs an {'(H, W)' if mono else '(H, W, 3)'} array")
    bits = 8 * info.dtype.itemsize
    if mono:
        pixels, payload = arr, "mono8" if codec == "jpeg" else ""
    else:
        pixels = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR) if info.kind == "rgb" else arr
        payload = f"bgr{bits}"
    if codec == "jpeg":
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(pixels), params)
    else:
        ok, buf = cv2.imencode(".png", np.ascontiguousarray(pixels))
    if not ok:
        raise ValueError(f"OpenCV could not encode a {arr.shape} {encoding} image as {codec}")
    fmt = f"{info.name}; {codec} compressed {payload}"
    flat = buf.reshape(-1)
    if not hasattr(msg_type, "__dataclass_fields__"):  # an rclpy class: fields set one by one
        msg = msg_type()
        if header is not None:
            msg.header = header
        msg.format = fmt
        assign_data(msg, flat)
        return msg
    if header is None:
        header = default_header(msg_type)
    return msg_type(header=header, format=fmt, data=flat)
