"""How long a training run will take, from measured training throughput (``sccosf bench train``).

The figure comes from a ``sccosf bench train --json`` result: measured images/s of a full
training step (forward + joint loss + backward + AdamW) for some preset, crop and batch on some
device. If that measurement is of the run's own preset and crop it is used as it is; otherwise it
is scaled by the ratio of the model's multiply-accumulates per image (``model.flops.count_flops``:
convolutions and matmuls, the paper's Table 3 "FLOPs") — a first-order estimate that ignores
the selective scans and elementwise work, which are not counted there, and assumes the device
runs the other preset as efficiently.

Sources, in order: the file given (``--throughput-json``, measured on the machine that will
train), else the reference measurement shipped in ``config/recipes/train_throughput.json`` (its
``env`` says on what device it was measured). Processes are assumed to scale linearly: the run
takes ``max_iters · global_batch / (images/s · processes)`` seconds, validation excluded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sccosf_ros.errors import SccosfError

REFERENCE_FILE = "config/recipes/train_throughput.json"


class EstimateError(SccosfError, ValueError):
    """The throughput file is missing or holds no usable measurement."""


def reference_file() -> Path | None:
    from sccosf_ros.paths import find_share_file

    return find_share_file(REFERENCE_FILE)


def read_throughput(path: str | os.PathLike) -> dict[str, Any]:
    """A ``sccosf bench train --json`` document: ``{"env": {...}, "results": [...]}``."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        raise EstimateError(f"cannot read throughput file {p}: {e}") from e
    results = data.get("results") if isinstance(data, dict) else None
    if not results or not all("train_images_per_s" in r for r in results):
        raise EstimateError(
            f"{p} is not `sccosf bench train --json` output (no results with train_images_per_s)"
        )
    return data


def _gmac(preset: str, crop: tuple[int, int], num_classes: int) -> float:
    from sccosf_ros.model.flops import count_flops

    return float(count_flops(preset, tuple(crop), num_classes)["gmac"])


def _pick(results: list[dict], preset: str, crop: list[int]) -> dict:
    """The measurement closest to the run: same preset and crop, else same preset, else the
    largest preset measured."""
    for r in results:
        if r.get("preset") == preset and list(r.get("crop", [])) == crop:
            return r
    same = [r for r in results if r.get("preset") == preset]
    if same:
        return same[0]
    return max(results, key=lambda r: r.get("params_m", 0.0))


def estimate(
    *,
    preset: str,
    crop: tuple[int, int],
    global_batch: int,
    max_iters: int,
    world_size: int = 1,
    num_classes: int = 9,
    throughput_file: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """The run's duration and where the number comes from (a JSON-ready dict)."""
    path = Path(throughput_file) if throughput_file else reference_file()
    if path is None:
        raise EstimateError(
            f"no throughput measurement: {REFERENCE_FILE} is not installed; measure one with "
            "`sccosf bench train --json > FILE` and pass --throughput-json FILE"
        )
    data = read_throughput(path)
    env = data.get("env", {})
    ref = _pick(data["results"], preset, list(crop))
    ref_crop = tuple(int(v) for v in ref["crop"])
    ips = float(ref["train_images_per_s"])
    scale = 1.0
    run_gmac = ref_gmac = None
    if ref.get("preset") != preset or ref_crop != tuple(crop):
        run_gmac = _gmac(preset, crop, num_classes)
        ref_gmac = float(ref.get("gmac_per_image") or _gmac(ref["preset"], ref_crop, num_classes))
        scale = ref_gmac / run_gmac
    per_process = ips * scale
    seconds = max_iters * global_batch / (per_process * max(1, world_size))
    device = env.get("device_name") or env.get("device", "?")
    measured = (
        f"{ips:.3g} img/s for preset {ref['preset']} at {ref_crop[0]}x{ref_crop[1]}, batch "
        f"{ref.get('batch_size')}, on {device} (torch {env.get('torch', '?')}, "
        f"{env.get('threads', '?')} threads)"
    )
    how = (
        "used as measured"
        if scale == 1.0
        else f"scaled by the GMAC ratio {ref_gmac:.3g} → {run_gmac:.3g} per image"
    )
    return {
        "hours": seconds / 3600.0,
        "device_hours": seconds * max(1, world_size) / 3600.0,
        "seconds_per_step": global_batch / (per_process * max(1, world_size)),
        "images_per_s_per_process": per_process,
        "processes": max(1, world_size),
        "measured_on": device,
        "source": f"sccosf bench train ({path}): {measured}; {how}; training steps only, "
        "validation not included; processes assumed to scale linearly",
    }
