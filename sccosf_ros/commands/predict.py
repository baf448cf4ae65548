"""``sccosf predict``: run a checkpoint on RGB + thermal image files and write the results as PNGs.

For each pair it writes ``<name>_fused.png``, ``<name>_labels.png`` (uint8 class ids, 255 =
unlabeled), ``<name>_color.png`` and ``<name>_overlay.png``. Thermal PNGs keep their bit depth
(16-bit radiometric frames are normalised by the checkpoint's or the given thermal mode).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from sccosf_ros.commands.model_options import add_model_arguments, model_params
from sccosf_ros.errors import SccosfError

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


class PredictError(SccosfError, ValueError):
    """Image files or an output folder ``sccosf predict`` cannot use."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rgb", type=Path, required=True, help="RGB image, or a folder of them")
    parser.add_argument(
        "--thermal",
        type=Path,
        required=True,
        help="thermal image (8/16-bit), or a folder with the same file names",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--alpha", type=float, default=None, help="overlay opacity 0..1 (overlay_alpha, 0.5)"
    )
    add_model_arguments(parser)


def _pairs(rgb: Path, thermal: Path) -> list[tuple[str, Path, Path]]:
    if rgb.is_dir() != thermal.is_dir():
        raise PredictError("--rgb and --thermal must both be files or both be folders")
    if not rgb.is_dir():
        for p in (rgb, thermal):
            if not p.is_file():
                raise PredictError(f"image {p} does not exist")
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
            raise PredictError(f"no thermal image named {p.stem}.* in {thermal}")
        pairs.append((p.stem, p, match))
    if not pairs:
        raise PredictError(f"no images ({', '.join(IMAGE_EXTS)}) in {rgb}")
    return pairs


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sccosf_ros.data.image_file import read_rgb, read_thermal
    from sccosf_ros.pipeline.outputs import render_outputs
    from sccosf_ros.pipeline.processor import load_predictor

    if args.alpha is not None and not 0.0 <= args.alpha <= 1.0:
        raise PredictError(f"--alpha must be within 0..1, got {args.alpha}")
    params = model_params(args)  # the node's parameters, with these flags on top
    pairs = _pairs(args.rgb, args.thermal)
    predictor = load_predictor(params)
    alpha = params.overlay_alpha if args.alpha is None else args.alpha
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PredictError(f"cannot create the output folder {args.out}: {e.strerror}") from None
    progress = tqdm(pairs, desc="predict", unit="pair", disable=len(pairs) < 2)
    for name, rgb_path, th_path in progress:
        try:
            # missing, corrupt, 16-bit, grey or BGRA files read as everywhere else
            rgb, thermal = read_rgb(rgb_path), read_thermal(th_path)
            # as the node: a fixed inference size, or large frames downscaled (max_pixels)
            predictor.input_size = params.inference_size_for(*rgb.shape[:2])
            pred = predictor.predict(rgb, thermal)
        except SccosfError as e:  # name the pair it happened on
            raise PredictError(f"{name}: {e.message}", exit_code=e.exit_code) from e
        images = render_outputs(
            ("fused", "segmentation", "segmentation_color", "overlay"),
            rgb,
            pred.fused,
            pred.labels,
            predictor.palette,
            alpha,
        )
        for suffix, key in (
            ("fused", "fused"),
            ("labels", "segmentation"),
            ("color", "segmentation_color"),
            ("overlay", "overlay"),
        ):
            img = images.get(key)
            if img is None:  # a head the checkpoint does not have (ablation E/F)
                continue
            path = args.out / f"{name}_{suffix}.png"
            bgr_or_ids = img if img.ndim == 2 else img[..., ::-1]
            if not cv2.imwrite(str(path), np.ascontiguousarray(bgr_or_ids)):
                raise PredictError(f"could not write {path}")
    print(
        f"wrote {len(pairs)} result set(s) to {args.out} "
        f"(model {pred.timings_ms['model']:.0f} ms for the last pair)"
    )
    return 0
