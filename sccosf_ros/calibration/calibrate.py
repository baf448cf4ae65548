"""``sccosf calibrate``: the thermal → RGB homography of a camera rig from a heated board.

For every pair (folders or a bag, ``frames.py``) the board is searched in both images
(``board.py``); pairs where either image shows no board are listed and skipped — as "too small
in thermal" when the RGB image shows it and its heat in the thermal image measures squares of
under ``MIN_SQUARE_PX`` (``board_size.py``), which is then also what the error says when too
few pairs are usable. The homography
is fitted over all corners of all remaining pairs (``homography.py``), and three files are
written:

* the node parameter file (``--out``, e.g. ``rig.yaml``): ``registration.homography`` (and
  ``thermal.crop`` when frames were cropped) for
  ``/**/sccosf`` — ``ros2 launch sccosf_ros sccosf.launch.py params_file:=rig.yaml`` layers it
  over config/sccosf.yaml, ``sccosf bag-eval --params-file rig.yaml`` runs the same pipeline; from
  a bag also the topics' transports (``rgb_transport``/``thermal_transport``);
* ``<out>_overlay.png``: thermal edges over RGB before and after registration (``preview.py``);
* ``<out>_calibration.json``: per-pair results, errors, sizes, the matrix.

A single homography is exact for a plane (or cameras sharing one centre): calibrate with the
board at the distance the rig works at, over the whole thermal field of view.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from sccosf_ros.calibration.board import BoardSpec, find_board
from sccosf_ros.calibration.board_size import (
    MIN_SQUARE_PX,
    BoardSize,
    size_from_heat,
    size_from_points,
)
from sccosf_ros.calibration.errors import CalibrationError
from sccosf_ros.calibration.frames import CalibrationFrame
from sccosf_ros.calibration.homography import HomographyFit, fit_homography
from sccosf_ros.jsonio import write_json
from sccosf_ros.thermal import crop_thermal


@dataclass
class PairResult:
    name: str
    rgb_found: bool
    thermal_found: bool
    error_px: float | None = None  # mean reprojection error (RGB pixels) when used
    error_thermal_px: float | None = None  # the same in thermal pixels
    # the board's size in the thermal image: measured from its corners, or, when only the RGB
    # image showed it, estimated from its heat (to tell "too small" from "not found")
    thermal_board: BoardSize | None = None

    @property
    def used(self) -> bool:
        return self.rgb_found and self.thermal_found

    @property
    def too_small(self) -> bool:
        """Seen in RGB, not found in thermal, where it is too small to be found."""
        b = self.thermal_board
        return self.rgb_found and not self.thermal_found and b is not None and b.too_small


@dataclass
class CalibrationResult:
    fit: HomographyFit
    pairs: list[PairResult]
    rgb_size: tuple[int, int]  # (H, W)
    thermal_size: tuple[int, int]
    params_file: Path
    overlay_file: Path
    report_file: Path
    params: dict[str, Any] = field(default_factory=dict)


def side_files(out: Path) -> tuple[Path, Path]:
    """``rig.yaml`` → (``rig_overlay.png``, ``rig_calibration.json``) next to it."""
    return (
        out.with_name(f"{out.stem}_overlay.png"),
        out.with_name(f"{out.stem}_calibration.json"),
    )


@dataclass
class _Detections:
    spec: BoardSpec
    pairs: list[PairResult] = field(default_factory=list)
    points: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (thermal, rgb)
    preview: CalibrationFrame | None = None
    rgb_size: tuple[int, int] | None = None
    thermal_size: tuple[int, int] | None = None

    def add(self, frame: CalibrationFrame) -> PairResult:
        self._check_size(frame)
        rgb_pts = find_board(frame.rgb, self.spec)
        th_pts = find_board(frame.thermal, self.spec, inverted_first=True)
        result = PairResult(frame.name, rgb_pts is not None, th_pts is not None)
        if th_pts is not None:
            result.thermal_board = size_from_points(th_pts, self.spec)
        elif rgb_pts is not None:
            result.thermal_board = size_from_heat(frame.thermal, self.spec)
        self.pairs.append(result)
        if result.used:
            self.points.append((th_pts, rgb_pts))
            if self.preview is None:
                self.preview = frame
        return result

    def _check_size(self, frame: CalibrationFrame) -> None:
        rgb, th = frame.rgb.shape[:2], frame.thermal.shape[:2]
        if self.rgb_size is None:
            self.rgb_size, self.thermal_size = rgb, th
        elif (rgb, th) != (self.rgb_size, self.thermal_size):
            raise CalibrationError(
                f"pair {frame.name}: RGB {rgb[1]}x{rgb[0]} / thermal {th[1]}x{th[0]} differ "
                f"from the first pair's {self.rgb_size[1]}x{self.rgb_size[0]} / "
                f"{self.thermal_size[1]}x{self.thermal_size[0]}: calibrate one rig at a time"
            )


def calibrate(
    frames: Iterable[CalibrationFrame],
    spec: BoardSpec,
    out: Path,
    *,
    min_pairs: int = 3,
    ransac_px: float = 3.0,
    extra_params: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
    source: str = "",
    progress: bool = True,
    on_pair: Callable[[PairResult], None] | None = None,
    thermal_crop: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> CalibrationResult:
    """Detect, fit, write (module docstring). CalibrationError when fewer than ``min_pairs``
    pairs show the board in both images. ``extra_params`` (or a callable giving them once the
    frames are read) go into the parameter file too. ``thermal_crop`` (top, bottom, left,
    right) is cut off each thermal image first, as the node's ``thermal.crop`` does: the
    homography then refers to the cropped image, and the file records the crop with it."""
    det = _Detections(spec)
    for frame in tqdm(frames, desc="calibrate", unit="pair", disable=not progress):
        try:
            frame.thermal = crop_thermal(frame.thermal, thermal_crop)
        except ValueError as e:
            raise CalibrationError(f"pair {frame.name}: {e}") from None
        result = det.add(frame)
        if on_pair is not None:
            on_pair(result)
    used = [p for p in det.pairs if p.used]
    if len(used) < min_pairs:
        raise CalibrationError(_too_few_message(det, min_pairs), pairs=det.pairs)
    fit = fit_homography(det.points, ransac_px)
    for p, err, err_th in zip(used, fit.pair_errors, fit.pair_errors_thermal):
        p.error_px, p.error_thermal_px = err, err_th
    extra = extra_params() if callable(extra_params) else dict(extra_params or {})
    if any(thermal_crop):
        extra["thermal.crop"] = [int(v) for v in thermal_crop]
    try:
        return _write(det, fit, out, extra, source, spec)
    except OSError as e:  # a folder that is not writable, a full disk
        raise CalibrationError(f"cannot write the calibration next to {str(out)!r}: {e}") from None


def _too_few_message(det: _Detections, min_pairs: int) -> str:
    """Why there are too few usable pairs, one line: a board too small in thermal is named
    as such (its size there, what to do), else the pairs where it was not found."""
    spec, pairs = det.spec, det.pairs
    used = sum(p.used for p in pairs)
    head = (
        f"the board ({spec.kind} {spec.cols}x{spec.rows}) was found in both images of "
        f"{used} of {len(pairs)} pair(s), need at least {min_pairs}"
    )
    small = [p.thermal_board for p in pairs if p.too_small]
    if small:
        b = max(small, key=lambda s: s.square_px)  # even the largest view is too small
        th, tw = det.thermal_size
        return (
            f"{head}: the board spans only {b.width_px:.0f}x{b.height_px:.0f} px in the "
            f"{tw}x{th} thermal image (squares of about {b.square_px:.1f} px, at least "
            f"{MIN_SQUARE_PX:.0f} needed); bring it closer or use a board with bigger squares"
        )
    missing = [p.name for p in pairs if not p.used]
    return (
        head
        + (f" (not found: {', '.join(missing[:10])})" if missing else "")
        + ": check --pattern (inner corners) and that the board is heated and fully in view"
    )


def _board_json(b: BoardSize | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "width_px": round(b.width_px, 1),
        "height_px": round(b.height_px, 1),
        "square_px": round(b.square_px, 2),
        "estimated": b.estimated,
    }


def _write(
    det: _Detections,
    fit: HomographyFit,
    out: Path,
    extra: dict[str, Any],
    source: str,
    spec: BoardSpec,
) -> CalibrationResult:
    from sccosf_ros.calibration.preview import registration_preview
    from sccosf_ros.pipeline.params import write_params_file

    overlay_file, report_file = side_files(out)
    H = [float(v) for v in fit.H.ravel()]
    values = {"registration.homography": H, **extra}
    (rh, rw), (th, tw) = det.rgb_size, det.thermal_size
    header = (
        f"sccosf calibrate, {time.strftime('%Y-%m-%d %H:%M:%S')}: thermal {tw}x{th} -> RGB "
        f"{rw}x{rh}\n{spec.kind} {spec.cols}x{spec.rows}, {len(fit.pair_errors)} pairs"
        f"{f' from {source}' if source else ''}; mean reprojection error "
        f"{fit.mean_error:.3f} px ({fit.mean_error_thermal:.3f} thermal px)\n"
        "Layer over config/sccosf.yaml: ros2 launch sccosf_ros "
        f"sccosf.launch.py params_file:={out.name}"
    )
    write_params_file(out, values, header=header)
    frame = det.preview
    registration_preview(overlay_file, frame.rgb, frame.thermal, fit.H, f"(pair {frame.name})")
    result = CalibrationResult(
        fit, det.pairs, det.rgb_size, det.thermal_size, out, overlay_file, report_file, values
    )
    write_json(
        report_file,
        {
            "source": source,
            "board": {"kind": spec.kind, "cols": spec.cols, "rows": spec.rows},
            "rgb_size": [rw, rh],
            "thermal_size": [tw, th],
            "homography": H,
            "mean_error_px": fit.mean_error,
            "mean_error_thermal_px": fit.mean_error_thermal,
            "ransac_px": fit.ransac_px,
            "inliers": fit.inliers,
            "points": fit.points,
            "pairs": [
                {
                    "name": p.name,
                    "rgb_found": p.rgb_found,
                    "thermal_found": p.thermal_found,
                    "error_px": p.error_px,
                    "error_thermal_px": p.error_thermal_px,
                    "thermal_board": _board_json(p.thermal_board),
                    "too_small": p.too_small,
                }
                for p in det.pairs
            ],
            "params_file": str(out),
            "overlay": str(overlay_file),
        },
    )
    return result
