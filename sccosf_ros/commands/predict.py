"""``sccosf predict``: run a checkpoint on RGB + thermal image files and write the results as PNGs.

For each pair it writes ``<name>_fused.png``, ``<name>_labels.png`` (uint8 class ids, 255 =
unlabeled), ``<name>_color.png`` and ``<name>_overlay.png``. Thermal PNGs keep their bit depth
(16-bit radiometric frames are normalised by the checkpoint's or the given thermal mode).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from sccosf_ros.backends.cli_args import add_backend_arguments, predictor_kwargs

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint file (default: the shipped demo model)",
    )
    parser.add_argument("--rgb", type=Path, required=True, help="RGB image, or a folder of them")
    parser.add_argument(
        "--thermal",
        type=Path,
        required=True,
        help="thermal image (8/16-bit), or a folder with the same file names",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    parser.add_argument(
        "--input-size",
        type=int,
        nargs=2,
        metavar=("H", "W"),
        default=None,
        help="run the network at this size (results are resized back)",
    )
    parser.add_argument(
        "--thermal-norm",
        choices=("auto", "minmax", "percentile", "fixed"),
        default=None,
        help="override the checkpoint's thermal normalisation",
    )
    parser.add_argument(
        "--thermal-range",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        default=None,
        help="raw range for --thermal-norm fixed",
    )
    parser.add_argument("--alpha", type=float, default=0.5, help="overlay opacity")
    add_backend_arguments(parser)


def _pairs(rgb: Path, thermal: Path) -> list[tuple[str, Path, Path]]:
    if rgb.is_dir() != thermal.is_dir():
        raise ValueError("--rgb and --thermal must both be files or both be folders")
    if not rgb.is_dir():
        for p in (rgb, thermal):
            if not p.is_file():
                raise FileNotFoundError(f"image {p} does not exist")
        return [(rgb.stem, rgb, thermal)]
    pairs = []
    for p in sorted(rgb.iterdir()):
        if p.suffix.lower() not in IMAGE_EXTS:
            continue
        match = next(
            (thermal / f"{p.stem}{e}" for e in IMAGE_EXTS if (thermal / f"{p.stem}{e}").is_file()),
            None,
        )
        if match is None:
            raise FileNotFoundError(f"no thermal image named {p.stem}.* in {thermal}")
        pairs.append((p.stem, p, match))
    if not pairs:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTS)}) in {rgb}")
    return pairs


def _read(path: Path, flags: int) -> np.ndarray:
    img = cv2.imread(str(path), flags)
    if img is None:
        raise ValueError(f"{path} is not a readable image (corrupt, truncated or not an image)")
    return img


def _fail(msg: str) -> int:
    print(f"sccosf predict: error: {msg}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sccosf_ros.backends import BackendError
    from sccosf_ros.classes import colorize, overlay
    from sccosf_ros.inference import CheckpointError, Predictor
    from sccosf_ros.paths import default_checkpoint
    from sccosf_ros.thermal import ThermalNorm

    ckpt = args.checkpoint or default_checkpoint()
    kwargs = predictor_kwargs(args)
    if args.input_size:
        kwargs["input_size"] = tuple(args.input_size)
    try:
        if args.thermal_norm:
            low, high = args.thermal_range or (0.0, 255.0)
            kwargs["thermal_norm"] = ThermalNorm(mode=args.thermal_norm, low=low, high=high)
        pairs = _pairs(args.rgb, args.thermal)
        predictor = Predictor.from_checkpoint(ckpt, device=args.device, **kwargs)
    except (CheckpointError, BackendError, ValueError, FileNotFoundError) as e:
        return _fail(str(e))
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return _fail(f"cannot create the output folder {args.out}: {e.strerror}")
    progress = tqdm(pairs, desc="predict", unit="pair", disable=len(pairs) < 2)
    for name, rgb_path, th_path in progress:
        try:
            bgr = _read(rgb_path, cv2.IMREAD_COLOR)
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            thermal = _read(th_path, cv2.IMREAD_UNCHANGED)
            if thermal.ndim == 3:
                thermal = thermal[..., 0]
            pred = predictor.predict(rgb, thermal)
        except (ValueError, BackendError) as e:
            return _fail(f"{name}: {e}")
        color = colorize(pred.labels, predictor.palette)
        for suffix, img in (
            ("fused", pred.fused[..., ::-1]),
            ("labels", pred.labels),
            ("color", color[..., ::-1]),
            ("overlay", overlay(rgb, pred.labels, predictor.palette, args.alpha)[..., ::-1]),
        ):
            path = args.out / f"{name}_{suffix}.png"
            if not cv2.imwrite(str(path), np.ascontiguousarray(img)):
                return _fail(f"could not write {path}")
    print(
        f"wrote {len(pairs)} result set(s) to {args.out} "
        f"(model {pred.timings_ms['model']:.0f} ms for the last pair)"
    )
    return 0
