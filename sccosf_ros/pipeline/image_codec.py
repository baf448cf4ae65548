"""sensor_msgs/Image ⇄ numpy, without ROS at import time.

Decoding is duck-typed on the message fields (``height``, ``width``, ``encoding``,
``is_bigendian``, ``step``, ``data``), so the same code serves rclpy messages in the node and
rosbags message objects in the offline bag tools. ``data`` may be ``bytes``, ``bytearray``,
``array.array``, ``memoryview``, a list of ints or a numpy uint8 array.

What :func:`decode_image` returns (always a new, C-contiguous, writeable array in native byte
order that shares no memory with the message):

=============================================  ==========================================
encoding                                       result
=============================================  ==========================================
rgb8, bgr8, rgba8, bgra8, bayer_*8, yuv422,    (H, W, 3) uint8, **RGB** order, alpha dropped
uyvy, yuyv, yuv422_yuy2
rgb16, bgr16, rgba16, bgra16, bayer_*16        (H, W, 3) uint16, RGB order
mono8, 8UC1                                    (H, W) uint8
mono16, 16UC1                                  (H, W) uint16
32FC1                                          (H, W) float32 (NaN kept)
other ``<8U|8S|16U|16S|32S|32F|64F>C<n>``      (H, W) for n = 1, else (H, W, n), bytes as sent
=============================================  ==========================================

Generic multi-channel encodings (8UC3, 8UC4, ...) carry no channel order; their bytes are
passed through unchanged, as cv_bridge does when asked for rgb8 (its "same format" case).
Rows may be padded (``step`` > width × bytes per pixel) and multi-byte data may be big-endian.
Malformed messages raise :class:`ImageDecodeError` (a ``ValueError``) saying what is wrong.

cv_bridge: when importable, ``backend="auto"`` lets ``CvBridge.imgmsg_to_cv2`` do the pixel
conversion, after our own validation (so errors are the same on both paths). Some cases always
use our code because cv_bridge's Python side gets them wrong or does not know them: rows padded
by a non-multiple of the pixel size (it takes the row length as step / pixel size), big-endian
multi-byte data (its byte swap calls ``ndarray.newbyteorder``, removed in numpy 2) and the
yuyv/uyvy/yuv422_yuy2 names (not in every release); if cv_bridge raises on a validated message
we also fall back to ours. Both paths otherwise give identical arrays (same OpenCV conversion
codes, same 16-bit handling); the test suite compares them when cv_bridge is installed.

:func:`encode_image` writes an array whose layout the encoding names (as cv_bridge's
``cv2_to_imgmsg`` does: a bgr8 message is built from a BGR array, nothing is reordered) into a
``sensor_msgs/msg/Image`` (imported lazily) or an instance of any class with the same fields
(e.g. a rosbags type).
"""

from __future__ import annotations

import re
import sys
from array import array as _ByteArray
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ENCODE_ENCODINGS",
    "EncodingInfo",
    "ImageDecodeError",
    "assign_data",
    "check_rgb",
    "check_thermal",
    "decode_image",
    "decode_rgb",
    "decode_thermal",
    "encode_image",
    "encoding_info",
    "rgb_from_pixels",
    "thermal_from_pixels",
]


class ImageDecodeError(ValueError):
    """An Image message that cannot be turned into pixels (the message says what to fix).

    Internal to the per-pair pipeline, not a ``SccosfError``: a malformed message is counted
    and skipped by the node and bag-eval, never the end of a command."""


@dataclass(frozen=True)
class EncodingInfo:
    """How one encoding is laid out in ``data``."""

    name: str
    dtype: np.dtype  # element type, native byte order
    channels: int  # elements per pixel in the buffer (yuv422: 2 bytes per pixel)
    kind: str  # rgb | bgr | rgba | bgra | mono | generic | bayer | yuv

    @property
    def bytes_per_pixel(self) -> int:
        return self.dtype.itemsize * self.channels


_U8, _U16 = np.dtype(np.uint8), np.dtype(np.uint16)

_NAMED: dict[str, tuple[np.dtype, int, str]] = {
    "rgb8": (_U8, 3, "rgb"),
    "bgr8": (_U8, 3, "bgr"),
    "rgba8": (_U8, 4, "rgba"),
    "bgra8": (_U8, 4, "bgra"),
    "rgb16": (_U16, 3, "rgb"),
    "bgr16": (_U16, 3, "bgr"),
    "rgba16": (_U16, 4, "rgba"),
    "bgra16": (_U16, 4, "bgra"),
    "mono8": (_U8, 1, "mono"),
    "mono16": (_U16, 1, "mono"),
    # ROS "yuv422" is UYVY byte order; "yuv422_yuy2" (newer distros also "yuyv") is YUYV.
    "yuv422": (_U8, 2, "yuv"),
    "uyvy": (_U8, 2, "yuv"),
    "yuv422_yuy2": (_U8, 2, "yuv"),
    "yuyv": (_U8, 2, "yuv"),
}
for _pattern in ("rggb", "bggr", "gbrg", "grbg"):
    _NAMED[f"bayer_{_pattern}8"] = (_U8, 1, "bayer")
    _NAMED[f"bayer_{_pattern}16"] = (_U16, 1, "bayer")

_GENERIC = re.compile(r"^(8U|8S|16U|16S|32S|32F|64F)C([1-4])$")
_GENERIC_DTYPES = {
    "8U": np.uint8,
    "8S": np.int8,
    "16U": np.uint16,
    "16S": np.int16,
    "32S": np.int32,
    "32F": np.float32,
    "64F": np.float64,
}

SUPPORTED_HINT = (
    "rgb8, bgr8, rgba8, bgra8, rgb16, bgr16, rgba16, bgra16, mono8, mono16, "
    "bayer_{rggb,bggr,gbrg,grbg}{8,16}, yuv422 (uyvy), yuv422_yuy2 (yuyv), "
    "and <8U|8S|16U|16S|32S|32F|64F>C<1-4> such as 8UC1, 8UC3, 16UC1, 32FC1"
)

#: Encodings :func:`encode_image` writes.
ENCODE_ENCODINGS = (
    "rgb8",
    "bgr8",
    "rgba8",
    "bgra8",
    "rgb16",
    "bgr16",
    "mono8",
    "mono16",
)  # + every generic <type>C<n>, e.g. 8UC1, 8UC3, 16UC1, 32FC1


def _known(encoding: str) -> EncodingInfo | None:
    named = _NAMED.get(encoding)
    if named is not None:
        return EncodingInfo(encoding, *named)
    m = _GENERIC.fullmatch(encoding)
    if m:
        return EncodingInfo(
            encoding, np.dtype(_GENERIC_DTYPES[m.group(1)]), int(m.group(2)), "generic"
        )
    return None


def encoding_info(encoding: str) -> EncodingInfo:
    """Layout of ``encoding``; :class:`ImageDecodeError` if it is not supported.

    Spelled exactly as ROS spells it (``sensor_msgs/image_encodings.hpp``): names are
    case-sensitive and have no spaces, as cv_bridge reads them. ``RGB8``, ``bgr8 `` or ``8uc1``
    are refused naming the right spelling, rather than guessed: a publisher that misspells its
    encoding fails with cv_bridge and every other subscriber too.
    """
    if not isinstance(encoding, str) or not encoding:
        raise ImageDecodeError(
            f"image encoding is empty or not a string ({encoding!r}); supported: {SUPPORTED_HINT}"
        )
    info = _known(encoding)
    if info is not None:
        return info
    word = encoding.strip()
    near = _known(word.lower()) or _known(word.upper())
    if near is not None:
        raise ImageDecodeError(
            f"image encoding {encoding!r} is misspelled: ROS encodings are case-sensitive and "
            f"have no spaces (cv_bridge refuses it too); the publisher must send {near.name!r}"
        )
    raise ImageDecodeError(f"unknown image encoding {encoding!r}; supported: {SUPPORTED_HINT}")


# --------------------------------------------------------------------------- decoding
def _field(msg: Any, name: str) -> Any:
    try:
        return getattr(msg, name)
    except AttributeError:
        raise ImageDecodeError(
            f"not an Image message: {type(msg).__name__} has no field {name!r}"
        ) from None


def as_bytes_array(data: Any) -> np.ndarray:
    """The message payload as a flat uint8 array (zero-copy for buffer types)."""
    if isinstance(data, np.ndarray):
        if data.dtype not in (np.uint8, np.int8):
            raise ImageDecodeError(f"image data must be uint8 bytes, got a {data.dtype} array")
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    if isinstance(data, (list, tuple)):
        try:
            arr = np.asarray(data, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError) as e:
            raise ImageDecodeError(f"image data list must hold integers 0..255: {e}") from None
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ImageDecodeError("image data list must hold integers 0..255")
        return arr.astype(np.uint8)
    if isinstance(data, _ByteArray) and data.itemsize != 1:
        raise ImageDecodeError(f"image data array.array must hold bytes, got {data.typecode!r}")
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        raise ImageDecodeError(
            f"image data of type {type(data).__name__} is not a byte buffer"
        ) from None


def _big_endian(flag: Any) -> bool:
    """``is_bigendian`` is a uint8 meaning 0 or 1. Other values are refused, not read as true:
    cv_bridge's C++ side takes any non-zero value as big-endian, its Python side only 1, so
    the same message would decode two ways."""
    if isinstance(flag, (bool, int, np.integer)) and int(flag) in (0, 1):
        return bool(flag)
    raise ImageDecodeError(
        f"is_bigendian must be 0 (little-endian) or 1 (big-endian), got {flag!r}: the "
        "publisher's header is corrupt"
    )


def _validated(msg: Any) -> tuple[EncodingInfo, int, int, int, bool, np.ndarray]:
    """Check every field against the data; return (info, h, w, step, big_endian, bytes)."""
    info = encoding_info(_field(msg, "encoding"))
    h, w = int(_field(msg, "height")), int(_field(msg, "width"))
    step = int(_field(msg, "step"))
    big = _big_endian(_field(msg, "is_bigendian"))
    buf = as_bytes_array(_field(msg, "data"))
    if h <= 0 or w <= 0:
        raise ImageDecodeError(f"image has zero size (width {w}, height {h}); both must be > 0")
    if info.kind == "yuv" and w % 2:
        raise ImageDecodeError(f"{info.name} packs 2 pixels per 4 bytes: width {w} must be even")
    row = w * info.bytes_per_pixel
    if step < row:
        raise ImageDecodeError(
            f"step {step} is smaller than one row ({w} px × {info.bytes_per_pixel} bytes "
            f"for {info.name} = {row} bytes); step must be >= width × bytes per pixel"
        )
    need = step * h
    if buf.size < need:
        raise ImageDecodeError(
            f"image data is truncated: {buf.size} bytes, but height {h} × step {step} "
            f"= {need} bytes ({info.name} {w}x{h})"
        )
    if buf.size > need:
        raise ImageDecodeError(
            f"image data has {buf.size} bytes but height {h} × step {step} = {need}: "
            f"width/height/step do not match the data ({info.name} {w}x{h})"
        )
    return info, h, w, step, big, buf


def _pixels_view(
    info: EncodingInfo, h: int, w: int, step: int, big: bool, buf: np.ndarray
) -> np.ndarray:
    """(H, W, C) view onto the buffer in the wire byte order (no copy)."""
    rows = buf.reshape(h, step)[:, : w * info.bytes_per_pixel]
    dt = info.dtype.newbyteorder(">" if big else "<") if info.dtype.itemsize > 1 else info.dtype
    return rows.view(dt).reshape(h, w, info.channels)


def _owned(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A C-contiguous copy in native byte order (never a view of the message)."""
    return np.array(a, dtype=dtype, order="C", copy=True)


def _cv2_code(info: EncodingInfo) -> int:
    import cv2

    name = info.name
    if info.kind == "yuv":
        return cv2.COLOR_YUV2RGB_UYVY if name in ("yuv422", "uyvy") else cv2.COLOR_YUV2RGB_YUY2
    # OpenCV names a Bayer pattern by the second row's 2nd/3rd pixels: ROS rggb = OpenCV "BG".
    pattern = name[len("bayer_") : len("bayer_") + 4]
    return {
        "rggb": cv2.COLOR_BayerBG2RGB,
        "bggr": cv2.COLOR_BayerRG2RGB,
        "gbrg": cv2.COLOR_BayerGR2RGB,
        "grbg": cv2.COLOR_BayerGB2RGB,
    }[pattern]


def _swap_rb(a: np.ndarray) -> np.ndarray:
    """BGR(A) → RGB, always a new contiguous array (OpenCV is ~40x faster than a numpy flip)."""
    import cv2

    c = a.shape[2]
    if a.dtype in (np.uint8, np.uint16, np.float32) and c in (3, 4):
        code = cv2.COLOR_BGR2RGB if c == 3 else cv2.COLOR_BGRA2RGB
        return cv2.cvtColor(np.ascontiguousarray(a), code)
    return np.array(a[..., 2::-1], order="C")


def _decode_ours(
    info: EncodingInfo, h: int, w: int, step: int, big: bool, buf: np.ndarray
) -> np.ndarray:
    native = info.dtype
    px = _pixels_view(info, h, w, step, big, buf)
    kind = info.kind
    if kind in ("rgb", "rgba"):
        return _owned(px[..., :3], native)
    if kind in ("bgr", "bgra"):
        if not px.dtype.isnative:
            px = _owned(px, native)  # cv2 needs native byte order
        return _swap_rb(px)
    if kind in ("bayer", "yuv"):
        import cv2

        src = _owned(px if kind == "yuv" else px[..., 0], native)
        return cv2.cvtColor(src, _cv2_code(info))
    # mono / generic
    return _owned(px[..., 0] if info.channels == 1 else px, native)


_BRIDGE: Any = None
_BRIDGE_CHECKED = False


def _cv_bridge() -> Any:
    """A shared CvBridge, or None when cv_bridge is not importable."""
    global _BRIDGE, _BRIDGE_CHECKED
    if not _BRIDGE_CHECKED:
        _BRIDGE_CHECKED = True
        try:
            from cv_bridge import CvBridge

            _BRIDGE = CvBridge()
        except Exception:  # ImportError, or a broken binary module
            _BRIDGE = None
    return _BRIDGE


def _bridge_handles(info: EncodingInfo, step: int, big: bool) -> bool:
    """Cases where cv_bridge's Python conversion is known to be right (module docstring)."""
    if info.name in ("uyvy", "yuyv", "yuv422_yuy2"):  # names cv_bridge releases disagree on
        return False
    return step % info.bytes_per_pixel == 0 and not (big and info.dtype.itemsize > 1)


def _decode_cv_bridge(bridge: Any, msg: Any, info: EncodingInfo) -> np.ndarray:
    if info.kind in ("mono", "generic"):
        out = bridge.imgmsg_to_cv2(msg, desired_encoding="passthrough")
    else:
        out = bridge.imgmsg_to_cv2(msg, desired_encoding="rgb16" if info.dtype == _U16 else "rgb8")
    return _owned(out, info.dtype)


def decode_image(msg: Any, backend: str = "auto") -> np.ndarray:
    """Pixels of a sensor_msgs/Image-like message (see the module docstring for shapes/dtypes).

    ``backend``: ``"auto"`` (cv_bridge when importable and correct for this message, else
    ours), ``"numpy"`` (ours), ``"cv_bridge"`` (require cv_bridge).
    """
    return _decode(msg, _validated(msg), backend)


def _decode(msg: Any, validated: tuple, backend: str) -> np.ndarray:
    if backend not in ("auto", "numpy", "cv_bridge"):
        raise ValueError(f"backend must be auto, numpy or cv_bridge, got {backend!r}")
    info, h, w, step, big, buf = validated
    if backend != "numpy":
        bridge = _cv_bridge()
        if bridge is None and backend == "cv_bridge":
            raise ImportError("backend='cv_bridge' requested but cv_bridge is not importable")
        if backend == "cv_bridge":
            return _decode_cv_bridge(bridge, msg, info)
        if bridge is not None and _bridge_handles(info, step, big):
            try:
                return _decode_cv_bridge(bridge, msg, info)
            except Exception:  # a cv_bridge limitation (the message itself was validated)
                pass
    return _decode_ours(info, h, w, step, big, buf)


def _decoded_channels(info: EncodingInfo) -> int:
    """Channels of what :func:`decode_image` returns for ``info`` (colour kinds become RGB)."""
    return info.channels if info.kind in ("mono", "generic") else 3


def _to_uint8(a: np.ndarray) -> np.ndarray:
    """uint16 → uint8 by round(x · 255/65535), cv_bridge's 16→8 bit scaling."""
    return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)


def require_rgb_dtype(dtype: np.dtype, what: str) -> None:
    """ImageDecodeError unless ``dtype`` is a camera colour depth (8 or 16-bit unsigned)."""
    if np.dtype(dtype) not in (np.uint8, _U16):
        raise ImageDecodeError(
            f"{what} ({np.dtype(dtype)}) is not an RGB camera format: send rgb8/bgr8/mono8 "
            "(float and signed images are only accepted as thermal input)"
        )


def _check_rgb(msg: Any) -> tuple:
    validated = _validated(msg)
    info = validated[0]
    require_rgb_dtype(info.dtype, msg.encoding)
    c = _decoded_channels(info)
    if c not in (1, 3, 4):
        raise ImageDecodeError(f"{msg.encoding} has {c} channels; an RGB image needs 1, 3 or 4")
    return validated


def _check_thermal(msg: Any) -> tuple:
    validated = _validated(msg)
    c = _decoded_channels(validated[0])
    if c not in (1, 3, 4):
        raise ImageDecodeError(f"{msg.encoding} has {c} channels; thermal needs 1, 3 or 4")
    return validated


def check_rgb(msg: Any) -> None:
    """Raise :class:`ImageDecodeError` unless :func:`decode_rgb` can decode ``msg``.

    Checks the fields against the data and the encoding's kind without converting a pixel
    (microseconds), so it can run in a subscription callback before the message is queued.
    """
    _check_rgb(msg)


def check_thermal(msg: Any) -> None:
    """Raise :class:`ImageDecodeError` unless :func:`decode_thermal` can decode ``msg``."""
    _check_thermal(msg)


def decode_rgb(msg: Any, backend: str = "auto") -> np.ndarray:
    """An RGB camera frame as (H, W, 3) uint8 RGB.

    Mono images are replicated to 3 channels, 16-bit data is scaled to 8 bits like cv_bridge
    (x · 255/65535), generic 4-channel data keeps its first 3 channels. Float or signed data
    is not a camera colour format and raises :class:`ImageDecodeError`.
    """
    return rgb_from_pixels(_decode(msg, _check_rgb(msg), backend))


def rgb_from_pixels(img: np.ndarray) -> np.ndarray:
    """Decoded camera pixels ((H, W) mono or (H, W, 3|4) RGB[A], uint8/uint16) → (H, W, 3)
    uint8 RGB, the form every RGB input takes (raw or compressed, see ``compressed.py``)."""
    require_rgb_dtype(img.dtype, "decoded image")
    if img.dtype == np.uint16:
        img = _to_uint8(img)
    if img.ndim == 2:
        import cv2

        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.shape[2] == 4:
        return np.ascontiguousarray(img[..., :3])
    return img


def decode_thermal(msg: Any, backend: str = "auto") -> np.ndarray:
    """A thermal frame as (H, W): uint8 (mono8/8UC1), uint16 (mono16/16UC1) or float32.

    Colour-encoded thermal (drivers that publish bgr8/rgb8, usually grey replicated) becomes
    one channel with OpenCV's RGB→grey luma, which returns the grey value exactly when all
    channels are equal and keeps the dtype. Signed or 64-bit data becomes float32. NaN in float
    images is kept (``thermal.nan_policy`` in the pipeline decides what happens to it).
    Raw counts are never rescaled here (unlike cv_bridge's mono16 → mono8).
    """
    return thermal_from_pixels(_decode(msg, _check_thermal(msg), backend))


def thermal_from_pixels(img: np.ndarray) -> np.ndarray:
    """Decoded thermal pixels ((H, W) or (H, W, 3|4) RGB[A]) → (H, W) uint8, uint16 or float32
    (colour becomes luma, other dtypes float32), for raw and compressed thermal alike."""
    if img.ndim == 3:
        import cv2

        if img.dtype not in (np.uint8, np.uint16, np.float32):
            img = img.astype(np.float32)
        img = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2GRAY)
    if img.dtype not in (np.uint8, np.uint16, np.float32):
        img = img.astype(np.float32)
    return img


# --------------------------------------------------------------------------- encoding
def assign_data(msg: Any, flat: np.ndarray) -> None:
    """Store the bytes of ``flat`` (uint8) as an rclpy message's ``data`` in one memcpy.

    The generated ``data`` setter would rebuild it with array.array('B', value), which walks
    the bytes one by one (~0.8 ms at 640×480×3; ~50 ms for an ndarray), unless
    ROS_PYTHON_CHECK_FIELDS=1, where it stores an array.array as is - exactly what the direct
    assignment does. Falls back to the setter if a rosidl version lays it out differently.
    """
    data = _ByteArray("B")
    data.frombytes(np.ascontiguousarray(flat).reshape(-1).view(np.uint8).data)
    if isinstance(getattr(msg, "_data", None), _ByteArray):
        msg._data = data
    else:
        msg.data = data


def default_header(msg_type: type) -> Any:
    """A zero header of ``msg_type``'s own family: rclpy message classes (``sensor_msgs``)
    import theirs from their package; rosbags generates one module per store holding every
    type by its flat name."""
    module = sys.modules.get(getattr(msg_type, "__module__", ""))
    header_cls = getattr(module, "std_msgs__msg__Header", None)
    time_cls = getattr(module, "builtin_interfaces__msg__Time", None)
    if header_cls is None or time_cls is None:
        raise ValueError(
            f"cannot build a default header for {msg_type!r}: pass header=<its Header type>"
        )
    return header_cls(stamp=time_cls(sec=0, nanosec=0), frame_id="")


def _payload(arr: np.ndarray, info: EncodingInfo) -> np.ndarray:
    """The array as it goes on the wire: (H, W[, C]) contiguous, channels as given."""
    import cv2

    c = info.channels
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if c == 1:
        if arr.ndim != 2:
            raise ValueError(f"{info.name} needs an (H, W) array, got shape {arr.shape}")
        return np.ascontiguousarray(arr)
    if arr.ndim != 3:
        raise ValueError(f"{info.name} needs an (H, W, {c}) array, got shape {arr.shape}")
    have = arr.shape[2]
    if info.kind in ("rgba", "bgra") and have == 3:
        out = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2RGBA)  # appends alpha only
        out[..., 3] = np.iinfo(arr.dtype).max  # opaque
        return out
    if have != c:
        raise ValueError(f"{info.name} needs an (H, W, {c}) array, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def encode_image(
    array: np.ndarray,
    encoding: str,
    header: Any = None,
    *,
    msg_type: type,
) -> Any:
    """numpy → Image message of ``msg_type``: ``sensor_msgs.msg.Image`` (the ROS adapter passes
    it: the pipeline imports no ROS package) or a rosbags type with the same fields.

    Like cv_bridge's ``cv2_to_imgmsg``, ``encoding`` names the layout the array is already in:
    channels are written as given, never reordered (pass a BGR array for bgr8, e.g.
    ``rgb[..., ::-1]``; ``decode_image`` returns RGB, so ``decode_image(encode_image(a,
    "bgr8"))`` is ``a[..., ::-1]``). rgba8/bgra8 also accept (H, W, 3) and append an opaque
    alpha. The dtype must match the encoding (uint8 for *8, uint16 for mono16/rgb16/16UC*,
    float32 for 32FC*): nothing is silently rescaled.
    ``header`` is used as given (the node passes the input message's header).
    The message owns a copy of the pixels; step = width × bytes per pixel, native byte order.
    """
    try:
        info = encoding_info(encoding)
    except ImageDecodeError as e:
        raise ValueError(str(e)) from None
    if info.kind in ("bayer", "yuv"):
        raise ValueError(
            f"encode_image does not write {info.name}; use one of {', '.join(ENCODE_ENCODINGS)} "
            "or a generic <type>C<n> encoding"
        )
    arr = np.asarray(array)
    if arr.dtype != info.dtype:
        raise ValueError(
            f"{info.name} needs {info.dtype} pixels, got {arr.dtype}: convert explicitly "
            "(e.g. np.clip(x * 255, 0, 255).astype(np.uint8) for a [0, 1] float image)"
        )
    if arr.ndim < 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"cannot encode an image of shape {arr.shape}")
    payload = _payload(arr, info)
    h, w = payload.shape[:2]
    flat = payload.reshape(-1).view(np.uint8)
    if not hasattr(msg_type, "__dataclass_fields__"):  # an rclpy class: fields set one by one
        msg = msg_type()
        if header is not None:
            msg.header = header
        msg.height, msg.width, msg.encoding = h, w, info.name
        msg.is_bigendian = int(sys.byteorder == "big")
        msg.step = w * info.bytes_per_pixel
        assign_data(msg, flat)
        return msg
    return msg_type(
        header=header if header is not None else default_header(msg_type),
        height=h,
        width=w,
        encoding=info.name,
        is_bigendian=int(sys.byteorder == "big"),
        step=w * info.bytes_per_pixel,
        data=flat.copy() if np.may_share_memory(flat, arr) else flat,
    )
