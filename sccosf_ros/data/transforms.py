"""Joint geometric augmentation for registered RGB + thermal + label (paper §4.1 and peers).

Training: random horizontal flip, random scale (uniform in 0.5–1.75, or one of a set such as
Sigma's {0.5, 0.75, 1, 1.25, 1.5, 1.75}), random crop to (H, W) — one draw applied identically
to the three arrays (images bilinear, labels nearest), padding images with 0 and labels with 255
(ignored by the cross-entropy). The padding is also returned as a ``valid`` mask (True = image
pixel) so the fusion loss can leave it out, as MRFS does. Evaluation needs none: validation and
``sccosf eval`` run on the stored images (``--eval-size``/``--input-size`` resize tensors).

Camera augmentation (``TrainTransformConfig.camera``, off by default; not in the paper, which
augments geometrically only): synthetic thermal images are clean and smooth, real ones are not.
Each of these is applied with probability 1/2, drawn after the geometric draws so a run without
it sees the same crops: thermal gain/offset changes, a halo around hot objects
(``max(T, a·blur(T))``, the glow of uncooled microbolometers), vignetting (radial fall-off),
low-frequency texture, Gaussian and column (fixed-pattern) noise; RGB exposure (gain and
gamma), low-frequency texture, blur and noise. The fusion loss takes its targets from the
augmented sources, so the network learns to fuse what a real camera delivers.

Transforms work on numpy arrays as ``load_raw`` returns them (rgb HxWx3, thermal HxW, label
HxW, uint8) and are called as ``transform(rgb, thermal, label) -> (rgb, thermal, label,
valid)`` with ``valid`` a bool HxW array.

Randomness: with ``seed`` the transform owns a numpy Generator (reproducible on its own);
without, it draws from numpy's global RNG, which the trainer seeds per (seed, epoch, index)
so each sample's augmentation is reproducible under any worker count and across resumes. An
explicit ``rng=`` on the call overrides both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import cv2
import numpy as np

from sccosf_ros.classes import IGNORE_INDEX

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # rgb, thermal, label, valid
JointTransform = Callable[[np.ndarray, np.ndarray, np.ndarray], Arrays]


@dataclass
class TrainTransformConfig:
    crop: tuple[int, int] = (480, 640)  # (H, W)
    scale_range: tuple[float, float] = (0.5, 1.75)  # uniform draw, unless ``scales`` is given
    scales: tuple[float, ...] | None = None  # draw one of these (Sigma/MRFS train_scale_array)
    flip_prob: float = 0.5
    camera: bool = False  # photometric + thermal-camera augmentation (module docstring)
    image_pad: int = 0
    label_pad: int = IGNORE_INDEX

    def __post_init__(self) -> None:
        self.crop = (int(self.crop[0]), int(self.crop[1]))
        self.scale_range = (float(self.scale_range[0]), float(self.scale_range[1]))
        if min(self.crop) < 1:
            raise ValueError(f"crop must be positive (H, W), got {self.crop}")
        lo, hi = self.scale_range
        if not 0.0 < lo <= hi:
            raise ValueError(f"scale_range needs 0 < low <= high, got {self.scale_range}")
        if self.scales is not None:
            self.scales = tuple(float(v) for v in self.scales)
            if not self.scales or min(self.scales) <= 0:
                raise ValueError(f"scales must be positive numbers, got {self.scales}")
        if not 0.0 <= self.flip_prob <= 1.0:
            raise ValueError(f"flip_prob must be in [0, 1], got {self.flip_prob}")


def _check(rgb: np.ndarray, thermal: np.ndarray, label: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be HxWx3, got shape {rgb.shape}")
    if not (rgb.shape[:2] == thermal.shape[:2] == label.shape[:2]):
        raise ValueError(
            f"rgb {rgb.shape[:2]}, thermal {thermal.shape[:2]} and label {label.shape[:2]} "
            "must have the same size"
        )


def resize_joint(
    rgb: np.ndarray, thermal: np.ndarray, label: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resize all three to (H, W): images bilinear, labels nearest (ids stay ids)."""
    h, w = int(size[0]), int(size[1])
    if rgb.shape[:2] == (h, w):
        return rgb, thermal, label
    return (
        cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR),
        cv2.resize(thermal, (w, h), interpolation=cv2.INTER_LINEAR),
        cv2.resize(label, (w, h), interpolation=cv2.INTER_NEAREST),
    )


def _pad(img: np.ndarray, h: int, w: int, value: int) -> np.ndarray:
    dh, dw = max(h - img.shape[0], 0), max(w - img.shape[1], 0)
    if dh == 0 and dw == 0:
        return img
    pad = [(0, dh), (0, dw)] + [(0, 0)] * (img.ndim - 2)
    return np.pad(img, pad, mode="constant", constant_values=value)


def _texture(shape: tuple[int, int], amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise (H,W) float32: a coarse random grid resized bicubically."""
    # random()/uniform()/normal() only: ``rng`` may be numpy's global RNG module
    gh, gw = 3 + int(rng.random() * 6), 3 + int(rng.random() * 6)
    grid = rng.normal(0.0, amplitude, (gh, gw)).astype(np.float32)
    return cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _vignette(shape: tuple[int, int], strength: float) -> np.ndarray:
    """Gain (H,W) float32 ``1 − strength·r²`` with r = 1 at the corners."""
    h, w = shape
    y = (np.arange(h, dtype=np.float32) - (h - 1) / 2) / max(h / 2, 1)
    x = (np.arange(w, dtype=np.float32) - (w - 1) / 2) / max(w / 2, 1)
    return 1.0 - strength * (y[:, None] ** 2 + x[None, :] ** 2) / 2.0


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma)


def _thermal_camera(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Real-microbolometer effects on thermal (H,W) float32 in grey levels 0–255."""
    p = rng.random(5)
    mean = float(t.mean())
    if p[0] < 0.5:  # gain and offset (automatic gain control of another scene)
        t = (t - mean) * rng.uniform(0.7, 1.3) + mean + rng.uniform(-20.0, 20.0)
    if p[1] < 0.5:  # halo around hot objects
        t = np.maximum(t, rng.uniform(0.6, 1.0) * _blur(t, rng.uniform(2.0, 6.0)))
    if p[2] < 0.5:  # vignetting
        t = t * _vignette(t.shape, rng.uniform(0.0, 0.3))
    if p[3] < 0.5:  # texture (uneven surfaces, sky gradients)
        t = t + _texture(t.shape, rng.uniform(2.0, 8.0), rng)
    if p[4] < 0.5:  # temporal and fixed-pattern (column) noise
        t = t + rng.normal(0.0, rng.uniform(0.5, 4.0), t.shape).astype(np.float32)
        t = t + rng.normal(0.0, rng.uniform(0.0, 2.0), (1, t.shape[1])).astype(np.float32)
    return t


def _rgb_camera(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exposure, texture, blur and noise on RGB (H,W,3) float32 in grey levels 0–255."""
    p = rng.random(4)
    if p[0] < 0.5:  # exposure: gain and gamma
        norm = np.clip(img * rng.uniform(0.6, 1.5) / 255.0, 0.0, 1.0)
        img = 255.0 * norm ** rng.uniform(0.7, 1.4)
    if p[1] < 0.5:
        img = img + _texture(img.shape[:2], rng.uniform(2.0, 6.0), rng)[..., None]
    if p[2] < 0.5:
        img = _blur(img, rng.uniform(0.3, 1.2))
    if p[3] < 0.5:
        img = img + rng.normal(0.0, rng.uniform(0.5, 3.0), img.shape).astype(np.float32)
    return img


def camera_augment(
    rgb: np.ndarray, thermal: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Photometric + thermal-camera augmentation of one pair (module docstring); uint8 RGB,
    uint8/uint16 thermal in, same dtypes and shapes out."""
    top = float(np.iinfo(thermal.dtype).max) if thermal.dtype.kind == "u" else 255.0
    t = _thermal_camera(thermal.astype(np.float32) * (255.0 / top), rng)
    out_t = np.clip(t * (top / 255.0), 0.0, top).round().astype(thermal.dtype)
    out_rgb = np.clip(_rgb_camera(rgb.astype(np.float32), rng), 0, 255).round().astype(rgb.dtype)
    return out_rgb, out_t


class TrainTransform:
    """Random flip → random scale → random crop (with padding), jointly; also the valid mask.

    ``TrainTransform(config)`` or ``TrainTransform(crop=(h, w), scale_range=(lo, hi), ...)``.
    """

    def __init__(
        self, config: TrainTransformConfig | None = None, seed: int | None = None, **overrides
    ) -> None:
        names = {f.name for f in fields(TrainTransformConfig)}
        unknown = set(overrides) - names
        if unknown:
            raise TypeError(
                f"unknown TrainTransform option(s) {sorted(unknown)}; options: {sorted(names)}"
            )
        self.config = replace(config or TrainTransformConfig(), **overrides)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __call__(
        self,
        rgb: np.ndarray,
        thermal: np.ndarray,
        label: np.ndarray,
        rng: np.random.Generator | None = None,
    ) -> Arrays:
        _check(rgb, thermal, label)
        rng = rng if rng is not None else self._rng if self._rng is not None else np.random
        cfg = self.config
        # one draw for all three arrays, always in the same order (flip, scale, crop)
        flip = rng.random() < cfg.flip_prob
        if cfg.scales is None:
            scale = rng.uniform(*cfg.scale_range)
        else:  # one uniform draw either way: the draw order stays (flip, scale, crop)
            scale = cfg.scales[min(int(rng.random() * len(cfg.scales)), len(cfg.scales) - 1)]
        fy, fx = rng.random(), rng.random()

        if flip:
            rgb, thermal, label = rgb[:, ::-1], thermal[:, ::-1], label[:, ::-1]
        h, w = label.shape
        nh, nw = max(round(h * scale), 1), max(round(w * scale), 1)
        rgb, thermal, label = resize_joint(
            np.ascontiguousarray(rgb),
            np.ascontiguousarray(thermal),
            np.ascontiguousarray(label),
            (nh, nw),
        )
        ch, cw = cfg.crop
        valid = _pad(np.ones(label.shape, bool), ch, cw, False)
        rgb = _pad(rgb, ch, cw, cfg.image_pad)
        thermal = _pad(thermal, ch, cw, cfg.image_pad)
        label = _pad(label, ch, cw, cfg.label_pad)
        y = int(fy * (label.shape[0] - ch + 1))
        x = int(fx * (label.shape[1] - cw + 1))
        sl = (slice(y, y + ch), slice(x, x + cw))
        rgb, thermal, label, valid = rgb[sl], thermal[sl], label[sl], valid[sl]
        if cfg.camera:  # drawn after the geometric draws: crops unchanged by the switch
            rgb, thermal = camera_augment(rgb, thermal, rng)
            rgb[~valid], thermal[~valid] = cfg.image_pad, cfg.image_pad  # padding stays padding
        return rgb, thermal, label, valid

    def __repr__(self) -> str:
        return f"TrainTransform({self.config}, seed={self.seed})"
