"""Joint geometric augmentation for registered RGB + thermal + label (paper §4.1 and peers).

Training: random horizontal flip, random scale (uniform in 0.5–1.75, or one of a set such as
Sigma's {0.5, 0.75, 1, 1.25, 1.5, 1.75}), random crop to (H, W) — one draw applied identically
to the three arrays (images bilinear, labels nearest), padding images with 0 and labels with 255
(ignored by the cross-entropy). The padding is also returned as a ``valid`` mask (True = image
pixel) so the fusion loss can leave it out, as MRFS does. Evaluation needs none: validation and
``sccosf eval`` run on the stored images (``--eval-size``/``--input-size`` resize tensors).

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
        return rgb[sl], thermal[sl], label[sl], valid[sl]

    def __repr__(self) -> str:
        return f"TrainTransform({self.config}, seed={self.seed})"
