"""A synthetic RGB + thermal camera rig with a known thermal → RGB homography, and a heated
calibration board seen by both cameras: the test bench of ``sccosf calibrate``.

A real rig has two cameras side by side: an RGB camera (here 1280×720) and a thermal core
(640×512). For a board at the working distance the thermal image maps onto the RGB image by one
homography ``H`` (thermal pixel → RGB pixel), what ``registration.homography`` holds. Each board
pose is a board → RGB homography ``B``; the RGB camera sees the printed squares through ``B``,
the thermal camera sees the *heated* board through ``H⁻¹·B``: the black squares absorb the heat
lamp and are hot (high counts), white squares and the border stay near ambient — so in thermal
the board's polarity is inverted, as with real heated boards. Thermal is blurred (optics) and
noisy (NETD) raw mono16 counts. :func:`lepton_rig` is the small-core variant: a FLIR Lepton
3.5-like 160×120 radiometric core (centikelvin) beside a 640×480 … 1920×1080 RGB camera, with
a microbolometer's column noise and vignetting (fixed from frame to frame) and soft optics, its
boards 6–9 thermal pixels per square (``board_width`` smaller for a board too small to find).
:func:`write_rig_images` writes matched image folders and
:func:`write_rig_bag` a rosbag2 with JPEG RGB and 16-bit PNG thermal ``CompressedImage`` topics,
as a robot records them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "RIG_HOMOGRAPHY",
    "RigFrame",
    "RigSettings",
    "board_poses",
    "lepton_rig",
    "render_rig_frames",
    "rig_homography",
    "write_rig_bag",
    "write_rig_images",
]

# Thermal 640×512 → RGB 1280×720: ~1.6x (narrower thermal field of view), a small roll, the
# thermal camera beside the RGB one (offset), a little perspective (cameras not quite parallel).
RIG_HOMOGRAPHY = (1.62, 0.035, 118.0, -0.03, 1.6, -48.0, 2.0e-5, -1.0e-5, 1.0)

_TEX = 40  # texture pixels per board square


@dataclass(frozen=True)
class RigSettings:
    """The rig and the board: sizes (H, W), the true homography, the pattern, the poses."""

    rgb_size: tuple[int, int] = (720, 1280)
    thermal_size: tuple[int, int] = (512, 640)
    homography: tuple[float, ...] = RIG_HOMOGRAPHY
    pattern: tuple[int, int] = (9, 6)  # inner corners (cols, rows), as OpenCV counts them
    poses: int = 4  # board positions seen by both cameras
    empty: int = 1  # extra pairs without a board (skipped by calibration)
    seed: int = 0
    ambient_counts: int = 7400  # thermal background / cold squares
    hot_counts: int = 9400  # heated (black) squares
    noise_counts: float = 12.0
    blur_sigma: float = 1.0  # thermal optics, thermal pixels
    column_noise_counts: float = 0.0  # fixed-pattern column offsets (microbolometer readout)
    shading_counts: float = 0.0  # vignetting: corners this much colder than the centre
    board_width: tuple[float, float] = (0.45, 0.62)  # board width / thermal width, drawn per pose
    margin_px: float = 8.0  # the board stays this far inside the thermal image
    jpeg_quality: int = 92
    fps: float = 2.0  # stamps of the frames in a bag
    start_time_ns: int = 1_700_000_000 * 1_000_000_000


@dataclass
class RigFrame:
    """One synchronized pair: RGB (H, W, 3) uint8, thermal (h, w) uint16 counts."""

    name: str
    rgb: np.ndarray
    thermal: np.ndarray
    has_board: bool
    board_to_rgb: np.ndarray | None = field(default=None, repr=False)


def rig_homography(
    thermal_size: tuple[int, int], rgb_size: tuple[int, int], fill: float = 0.8
) -> tuple[float, ...]:
    """A plausible thermal → RGB homography for any pair of sizes (H, W): the thermal view
    covers ``fill`` of the RGB image, a little off-centre (the cameras sit side by side), with
    a small roll and a little perspective (not quite parallel)."""
    (th, tw), (rh, rw) = thermal_size, rgb_size
    s = fill * min(rw / tw, rh / th)
    c, si = np.cos(0.02), np.sin(0.02)
    centre = np.array([[1, 0, -(tw - 1) / 2], [0, 1, -(th - 1) / 2], [0, 0, 1.0]])
    tilt = np.array([[1, 0, 0], [0, 1, 0], [0.012 / tw, -0.008 / th, 1.0]])
    turn = np.array([[s * c, -s * si, 0], [s * si, s * c, 0], [0, 0, 1.0]])
    place = np.array(
        [[1, 0, (rw - 1) / 2 + 0.03 * rw], [0, 1, (rh - 1) / 2 - 0.02 * rh], [0, 0, 1.0]]
    )
    H = place @ turn @ tilt @ centre
    return tuple(float(v) for v in (H / H[2, 2]).ravel())


def lepton_rig(rgb_size: tuple[int, int] = (480, 640), **changes: object) -> RigSettings:
    """A FLIR Lepton 3.5-like thermal core (160×120, radiometric centikelvin: ambient 20 °C,
    heated squares 35 °C, 50 mK NETD, column noise, vignetting, soft optics) beside an RGB
    camera of ``rgb_size``: the small-core bench of ``sccosf calibrate``. ``changes``
    override any other setting (e.g. ``board_width`` for a board too small to find)."""
    thermal_size = (120, 160)
    values: dict[str, object] = {
        "rgb_size": rgb_size,
        "thermal_size": thermal_size,
        "homography": rig_homography(thermal_size, rgb_size),
        "poses": 8,
        "ambient_counts": 29315,  # 20 °C in centikelvin
        "hot_counts": 30815,  # 35 °C
        "noise_counts": 5.0,
        "column_noise_counts": 4.0,
        "shading_counts": 60.0,
        "blur_sigma": 0.8,
        "board_width": (0.5, 0.75),
        "margin_px": 3.0,
    }
    values.update(changes)
    return RigSettings(**values)  # type: ignore[arg-type]


def _board_texture(pattern: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(printed, heat) textures: squares with a one-square white border; 1 = black/hot."""
    cols, rows = pattern[0] + 1, pattern[1] + 1  # squares
    sq = (np.add.outer(np.arange(rows), np.arange(cols)) % 2 == 0).astype(np.float32)
    big = np.kron(sq, np.ones((_TEX, _TEX), np.float32))
    black = np.pad(big, _TEX)  # white border (quiet zone) around the squares
    return black, black


def board_poses(cfg: RigSettings) -> list[np.ndarray]:
    """Board → RGB homographies for ``cfg.poses`` positions, all inside the thermal view."""
    rng = np.random.default_rng(cfg.seed)
    H = np.asarray(cfg.homography, np.float64).reshape(3, 3)
    th_h, th_w = cfg.thermal_size
    cols, rows = cfg.pattern[0] + 3, cfg.pattern[1] + 3  # squares incl. border, board units
    poses = []
    while len(poses) < cfg.poses:
        # Where the board's centre lands in thermal pixels, its size and tilt.
        cx = rng.uniform(0.35, 0.65) * th_w
        cy = rng.uniform(0.35, 0.65) * th_h
        width = rng.uniform(*cfg.board_width) * th_w
        angle = rng.uniform(-0.18, 0.18)
        tilt = rng.uniform(-2e-4, 2e-4, 2)
        s = width / cols
        c, si = np.cos(angle), np.sin(angle)
        A = np.array(
            [
                [s * c, -s * si, cx - s * (c * cols - si * rows) / 2],
                [s * si, s * c, cy - s * (si * cols + c * rows) / 2],
                [tilt[0] * s, tilt[1] * s, 1.0],
            ]
        )
        corners = cv2.perspectiveTransform(
            np.array([[[0, 0], [cols, 0], [cols, rows], [0, rows]]], np.float64), A
        )[0]
        m = cfg.margin_px
        if (
            (corners < m).any()
            or (corners[:, 0] > th_w - m).any()
            or (corners[:, 1] > th_h - m).any()
        ):
            continue
        poses.append(H @ A)  # board → thermal → RGB
    return poses


def _render(
    texture: np.ndarray, board_to_img: np.ndarray, size: tuple[int, int], border: float
) -> np.ndarray:
    """The texture (board units × _TEX pixels) seen through ``board_to_img``; float32."""
    tex_to_board = np.diag([1.0 / _TEX, 1.0 / _TEX, 1.0])
    M = board_to_img @ tex_to_board
    return cv2.warpPerspective(
        texture,
        M,
        (size[1], size[0]),
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )


def _fixed_pattern(cfg: RigSettings) -> np.ndarray:
    """What a microbolometer adds to every frame alike: column offsets of its readout and
    vignetting (the corners see the warm housing less than the scene: colder), in counts."""
    h, w = cfg.thermal_size
    cols = np.random.default_rng(cfg.seed + 2).normal(0, cfg.column_noise_counts, w)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xs - (w - 1) / 2) / (w / 2)) ** 2 + ((ys - (h - 1) / 2) / (h / 2)) ** 2
    return (cols[None, :] - cfg.shading_counts * r2 / r2.max()).astype(np.float32)


def render_rig_frames(cfg: RigSettings | None = None) -> list[RigFrame]:
    """``cfg.poses`` board pairs, then ``cfg.empty`` pairs of the bare scene."""
    cfg = cfg or RigSettings()
    rng = np.random.default_rng(cfg.seed + 1)
    black, _ = _board_texture(cfg.pattern)
    H_inv = np.linalg.inv(np.asarray(cfg.homography, np.float64).reshape(3, 3))
    h, w = cfg.rgb_size
    # A grey, slightly textured room behind the board (RGB) and ambient counts (thermal).
    room = cv2.GaussianBlur(rng.uniform(70, 150, (h, w)).astype(np.float32), (0, 0), 25)
    fixed = _fixed_pattern(cfg)
    frames = []
    for i, B in enumerate(board_poses(cfg) + [None] * cfg.empty):
        if B is not None:
            ink = _render(black, B, cfg.rgb_size, border=-1.0)
            inside = ink >= 0
            grey = np.where(inside, 235.0 - 210.0 * np.clip(ink, 0, 1), room)
            heat = _render(black, H_inv @ B, cfg.thermal_size, border=0.0)
        else:
            grey = room
            heat = np.zeros(cfg.thermal_size, np.float32)
        grey = grey + rng.normal(0, 2.0, grey.shape)
        rgb = np.clip(np.stack([grey * 0.98, grey, grey * 1.02], -1), 0, 255).astype(np.uint8)
        counts = cfg.ambient_counts + (cfg.hot_counts - cfg.ambient_counts) * heat
        counts = cv2.GaussianBlur(counts.astype(np.float32), (0, 0), cfg.blur_sigma)
        counts = counts + rng.normal(0, cfg.noise_counts, counts.shape) + fixed
        thermal = np.clip(np.round(counts), 0, 65535).astype(np.uint16)
        frames.append(RigFrame(f"{i:04d}", rgb, thermal, B is not None, B))
    return frames


def write_rig_images(out: str | os.PathLike, cfg: RigSettings | None = None) -> list[RigFrame]:
    """``out/rgb/NNNN.jpg`` and ``out/thermal/NNNN.png`` (16-bit), matched by file name."""
    cfg = cfg or RigSettings()
    out = Path(out)
    (out / "rgb").mkdir(parents=True, exist_ok=True)
    (out / "thermal").mkdir(parents=True, exist_ok=True)
    frames = render_rig_frames(cfg)
    for f in frames:
        bgr = cv2.cvtColor(f.rgb, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(out / "rgb" / f"{f.name}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        cv2.imwrite(str(out / "thermal" / f"{f.name}.png"), f.thermal)
    return frames


def write_rig_bag(
    out: str | os.PathLike,
    cfg: RigSettings | None = None,
    rgb_topic: str = "/rig/rgb/image_raw/compressed",
    thermal_topic: str = "/rig/thermal/image_raw/compressed",
    storage: str = "mcap",
) -> list[RigFrame]:
    """A rosbag2 of the frames as a robot records them: JPEG RGB (``rgb8; jpeg compressed
    bgr8``) and 16-bit PNG thermal (``mono16; png compressed``) CompressedImage topics."""
    from sccosf_ros.bag.bag_io import BagWriter, make_header
    from sccosf_ros.pipeline.compressed import COMPRESSED_IMAGE, encode_compressed

    cfg = cfg or RigSettings()
    frames = render_rig_frames(cfg)
    with BagWriter(out, storage=storage) as bag:
        cls = bag.types()[COMPRESSED_IMAGE]
        for i, f in enumerate(frames):
            t = cfg.start_time_ns + round(i * 1e9 / cfg.fps)
            rgb = encode_compressed(
                f.rgb,
                "rgb8",
                "jpeg",
                cfg.jpeg_quality,
                header=make_header(bag.typestore, t, "rgb"),
                msg_type=cls,
            )
            th = encode_compressed(
                f.thermal,
                "mono16",
                "png",
                header=make_header(bag.typestore, t + 3_000_000, "thermal"),
                msg_type=cls,
            )
            bag.write(rgb_topic, t + 1_000_000, rgb)
            bag.write(thermal_topic, t + 5_000_000, th)
    return frames
