"""The RGB + thermal image pairs ``sccosf calibrate`` looks at: two folders, or a rosbag2.

Folders: files are paired by name without extension (``rgb/0007.jpg`` ↔ ``thermal/0007.png``);
thermal is read unchanged (16-bit PNG/TIFF counts stay 16-bit). A bag: the two topics (Image or
CompressedImage, as in ``sccosf bag-eval``) are paired by stamp with the node's pairing core
(``ApproxTimePairer``), malformed messages are skipped, and pairs closer than ``interval``
seconds to the last one used are left out (a board held still gives many equal frames).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sccosf_ros.calibration.errors import CalibrationError
from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.image_file import read_rgb, read_thermal

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".pgm", ".ppm")


@dataclass
class CalibrationFrame:
    """One pair: RGB (H, W, 3) uint8 and thermal (h, w) as recorded (uint8/uint16/float32)."""

    name: str
    rgb: np.ndarray
    thermal: np.ndarray


@dataclass
class BagFrames:
    """Pairs from a bag, and what the bag said about its topics (for the parameter file)."""

    bag: Path
    rgb_topic: str
    thermal_topic: str
    slop: float = 0.02
    interval: float = 0.5
    warn: Callable[[str], None] = print
    transports: dict[str, str] = field(default_factory=dict)  # rgb/thermal → raw|compressed

    def __post_init__(self) -> None:
        from sccosf_ros.bag.bag_io import BagReader

        with BagReader(self.bag) as reader:  # bag and topic problems surface before any work
            reader.image_topic(self.rgb_topic, "RGB")
            reader.image_topic(self.thermal_topic, "thermal")

    def __iter__(self) -> Iterator[CalibrationFrame]:
        from sccosf_ros.bag.bag_io import BagReader, BagReadError
        from sccosf_ros.pipeline.compressed import COMPRESSED_IMAGE
        from sccosf_ros.pipeline.image_codec import ImageDecodeError
        from sccosf_ros.pipeline.pairing import ApproxTimePairer, stamp_to_ns
        from sccosf_ros.pipeline.processor import check_input, decode_input

        with BagReader(self.bag) as reader:
            reader.on_damage = self.warn  # an MCAP chunk skipped for a CRC mismatch
            for note in reader.notes:
                self.warn(note)
            topics = {
                reader.image_topic(self.rgb_topic, "RGB"): "rgb",
                reader.image_topic(self.thermal_topic, "thermal"): "thermal",
            }
            kinds = reader.topics()
            for topic, stream in topics.items():
                compressed = kinds[topic].msgtype == COMPRESSED_IMAGE
                self.transports[stream] = "compressed" if compressed else "raw"
            pairer = ApproxTimePairer(2, queue_size=10, slop=self.slop)
            last_used: int | None = None
            skipped = 0
            try:
                for topic, msgtype, _, raw in reader.messages(list(topics)):
                    stream = topics[topic]
                    try:
                        msg = reader.deserialize(raw, msgtype)
                        check_input(stream, msg)
                    except Exception:  # undecodable CDR or a malformed image: not a pair
                        skipped += 1
                        continue
                    stamp = stamp_to_ns(msg.header.stamp)
                    for rgb_msg, th_msg in pairer.add(0 if stream == "rgb" else 1, stamp, msg):
                        t = stamp_to_ns(rgb_msg.header.stamp)
                        if last_used is not None and t - last_used < self.interval * 1e9:
                            continue
                        try:
                            rgb, th = decode_input("rgb", rgb_msg), decode_input("thermal", th_msg)
                        except ImageDecodeError:
                            skipped += 1
                            continue
                        last_used = t
                        yield CalibrationFrame(f"t={t / 1e9:.3f}", rgb, th)
            except BagReadError as e:
                self.warn(f"{e}; calibrating with the pairs read before it")
            if skipped:
                self.warn(f"skipped {skipped} malformed image message(s)")


def _images(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}


@dataclass
class FolderFrames:
    """Pairs from two folders matched by file name (without extension)."""

    rgb_dir: Path
    thermal_dir: Path
    warn: Callable[[str], None] = print

    def __post_init__(self) -> None:
        self.matched = self.names()  # folder problems surface before any work starts

    def names(self) -> list[str]:
        """The matched names; CalibrationError for a missing folder or no match at all."""
        for what, d in (("--rgb", self.rgb_dir), ("--thermal", self.thermal_dir)):
            if not Path(d).is_dir():
                raise CalibrationError(f"{what} folder {str(d)!r} does not exist")
        rgb, th = _images(Path(self.rgb_dir)), _images(Path(self.thermal_dir))
        names = sorted(set(rgb) & set(th))
        if not names:
            raise CalibrationError(
                f"no image in {str(self.rgb_dir)!r} has a thermal partner of the same name "
                f"in {str(self.thermal_dir)!r} ({len(rgb)} RGB, {len(th)} thermal images): "
                "pairs are matched by file name without extension"
            )
        lonely = sorted(set(rgb) ^ set(th))
        if lonely:
            self.warn(
                f"{len(lonely)} image(s) without a partner left out: {', '.join(lonely[:8])}"
            )
        return names

    def __iter__(self) -> Iterator[CalibrationFrame]:
        rgb, th = _images(Path(self.rgb_dir)), _images(Path(self.thermal_dir))
        for name in self.matched:
            try:  # missing, corrupt, 16-bit, grey or BGRA files read as everywhere else
                frame = CalibrationFrame(name, read_rgb(rgb[name]), read_thermal(th[name]))
            except DatasetError as e:  # one bad pair of a calibration set: skip it, say why
                self.warn(f"{name}: {e.message}; skipped")
                continue
            yield frame
