"""``backend: auto`` and ``precision: auto``: which runtime and precision run the network here.

Decided once per process, the same way for every path (the node, ``predict``, ``eval``,
``bag-eval``, the benches): ``Predictor`` resolves ``auto`` through this module.

Backend (:func:`choose_backend`), first that applies:

1. TensorRT on an NVIDIA GPU when it is installed;
2. torch on CUDA (a GPU without TensorRT);
3. OpenVINO on an x86 CPU when it is installed (measured nano 480×640, 2 threads: fp32 1.6×
   and bf16 2.0–2.5× torch eager);
4. ONNX Runtime when installed; 5. torch.

``SCCOSF_AUTO_BACKEND=<backend>`` in the environment makes ``auto`` pick that backend instead, for
a whole machine at once (a CI runner, where every new checkpoint's first-use export and bf16
check cost more than the inference saves); the startup line names the variable.

Precision (:func:`choose_precision`): bf16 when the backend is OpenVINO, the CPU has AMX or
AVX-512 BF16 (``/proc/cpuinfo`` flags, or OpenVINO's ``OPTIMIZATION_CAPABILITIES`` listing
``BF16``) and the bf16 model meets the parity bar (``backends.parity``: ≥ 99.9 % labels, fused
within 2/255 of torch fp32) on :func:`probe_pairs`; fp32 otherwise. The parity verdict is
computed once per model, size, OpenVINO version and CPU and kept as JSON in the backend cache
(``parity/``, :func:`cached_parity`), so later starts only read it.

Every choice can be forced (``backend`` / ``precision`` other than ``auto``); :class:`Choice`
carries the reason, and :func:`selection_line` makes the one startup line, e.g.
``backend auto → openvino (x86 CPU, openvino 2026.4.1 installed); precision auto → bf16 (AMX,
parity 99.97 % labels)``.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sccosf_ros.backends import BACKENDS
from sccosf_ros.backends.cache import ArtifactCache, atomic_write_bytes, digest
from sccosf_ros.backends.errors import BackendError
from sccosf_ros.backends.parity import ParityReport

AUTO = "auto"
PROBE_PAIRS = 4  # pairs the bf16 parity verdict is measured on
# (H, W) of that check when the run size is not fixed: the size a robot's 640x480 cameras run
# at (inference.max_pixels' default), so the graph exported for the check is the one the run
# uses; smaller sizes put more of the pixels on class boundaries, where bf16 flips near-ties
# (measured on these frames: 99.90 % at 192x256, 99.96 % at 480x640)
PARITY_SIZE = (480, 640)
AUTO_BACKEND_ENV = "SCCOSF_AUTO_BACKEND"  # what auto picks, for a whole machine (docstring)
PROBE_VERSION = 1  # bump when probe_pairs draws other frames (invalidates cached verdicts)
# backend → the pip distributions that install its runtime (the first one found gives the version)
_DISTRIBUTIONS = {
    "openvino": ("openvino",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino"),
    "tensorrt": ("tensorrt", "tensorrt-cu12", "tensorrt-cu13"),
}


@dataclass(frozen=True)
class Choice:
    """One resolved setting: the value, whether it came from ``auto``, and why."""

    value: str
    auto: bool
    reason: str

    def describe(self, what: str) -> str:
        if not self.auto:
            return f"{what} {self.value} (set)"
        return f"{what} auto → {self.value} ({self.reason})"


def selection_line(backend: Choice, precision: Choice) -> str:
    """The startup line: what runs and why."""
    return f"{backend.describe('backend')}; {precision.describe('precision')}"


# --------------------------------------------------------------------------- machine facts
@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def is_x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def runtime_version(backend: str) -> str:
    """The installed version of a backend's runtime ("?" when unknown)."""
    from importlib import metadata

    for name in _DISTRIBUTIONS.get(backend, (backend,)):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "?"


def openvino_bf16() -> bool | None:
    """Whether OpenVINO's CPU plugin lists BF16 among its optimisation capabilities (None:
    OpenVINO is not installed or cannot say)."""
    try:
        import openvino as ov

        return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # not installed, or a plugin that cannot answer
        return None


def bf16_hardware(
    flags: frozenset[str] | None = None, openvino_says: bool | None = None
) -> str | None:
    """``AMX`` / ``AVX512-BF16`` (from the CPU flags) where the CPU runs bf16 natively, else
    None; OpenVINO's own answer, when it gives one, has the last word (a kernel that does
    not enable AMX, a CPU /proc/cpuinfo does not describe)."""
    flags = cpu_flags() if flags is None else flags
    name = "AMX" if "amx_bf16" in flags else "AVX512-BF16" if "avx512_bf16" in flags else None
    if openvino_says is False:
        return None
    if name is None and openvino_says:
        return "BF16 per OpenVINO"
    return name


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the machine type where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


# --------------------------------------------------------------------------- backend
def _cuda_name(device: str) -> str | None:
    """The GPU's name when ``device`` lets the network run on CUDA here, else None."""
    import torch

    if device not in (AUTO,) and not device.startswith("cuda"):
        return None
    if not torch.cuda.is_available():
        return None
    index = torch.device(device).index if device.startswith("cuda:") else None
    return torch.cuda.get_device_name(index or 0)


def choose_backend(requested: str, device: str = AUTO) -> Choice:
    """``requested`` itself, or for ``auto`` the first of TensorRT (NVIDIA GPU), torch on
    CUDA, OpenVINO (x86 CPU), ONNX Runtime, torch that can run here (module docstring)."""
    from sccosf_ros.backends.compiled import installed

    if requested != AUTO:
        return Choice(requested, False, "set")
    forced = os.environ.get(AUTO_BACKEND_ENV, "").strip()
    if forced:
        if forced not in BACKENDS:
            raise BackendError(
                f"{AUTO_BACKEND_ENV}={forced!r} in the environment: expected one of "
                f"{', '.join(BACKENDS)} (or unset it)"
            )
        return Choice(forced, True, f"{AUTO_BACKEND_ENV}={forced} in the environment")
    gpu = _cuda_name(str(device))
    if gpu is not None:
        if installed("tensorrt"):
            return Choice("tensorrt", True, f"{gpu}, tensorrt {runtime_version('tensorrt')}")
        return Choice("torch", True, f"{gpu}, tensorrt not installed")
    cpu = "x86 CPU" if is_x86() else f"{platform.machine() or 'unknown'} CPU"
    if is_x86() and installed("openvino"):
        return Choice("openvino", True, f"{cpu}, openvino {runtime_version('openvino')} installed")
    if installed("onnxruntime"):
        why = "openvino not installed" if is_x86() else "openvino is for x86"
        ver = runtime_version("onnxruntime")
        return Choice("onnxruntime", True, f"{cpu}, {why}, onnxruntime {ver}")
    return Choice("torch", True, f"{cpu}, no openvino or onnxruntime installed")


# --------------------------------------------------------------------------- precision
def choose_precision(
    requested: str, backend: str, verdict: Callable[[], ParityReport | None]
) -> Choice:
    """``requested`` itself, or for ``auto``: bf16 on OpenVINO with bf16 hardware when
    ``verdict()`` (the bf16 model against torch fp32) passes the parity bar; fp32 otherwise."""
    if requested != AUTO:
        return Choice(requested, False, "set")
    if backend != "openvino":
        return Choice("fp32", True, f"bf16 is chosen on OpenVINO only, backend is {backend}")
    hardware = bf16_hardware(openvino_says=openvino_bf16())
    if hardware is None:
        return Choice("fp32", True, "CPU without AMX/AVX512-BF16")
    report = verdict()
    if report is None:
        return Choice("fp32", True, f"{hardware}, but no torch model to check bf16 against")
    labels = "n/a" if report.label_agreement is None else f"{100 * report.label_agreement:.2f} %"
    fused = "" if report.fused_max_diff is None else f", fused ≤ {report.fused_max_diff}/255"
    if report.passed:
        return Choice("bf16", True, f"{hardware}, parity {labels} labels{fused}")
    return Choice("fp32", True, f"{hardware}, but bf16 misses the parity bar: {labels}{fused}")


def parity_path(cache: ArtifactCache, name: str, size: tuple[int, int], fields: dict) -> Path:
    """Where the verdict for ``fields`` (model, size, runtime, CPU) is kept."""
    return cache.path("parity", name, size, digest(fields), ".json")


def verdict_fields(export_fields: dict[str, Any], thermal: dict[str, Any]) -> dict[str, Any]:
    """What a bf16 verdict depends on: the exported graph's key, the thermal normalisation
    the probe frames are drawn for, the OpenVINO version and the CPU."""
    return {
        **export_fields,
        "thermal_norm": thermal,
        "openvino": runtime_version("openvino"),
        "cpu": sorted(f for f in cpu_flags() if "bf16" in f or f.startswith("amx")),
        "cpu_model": cpu_model(),
        "probe": [PROBE_VERSION, PROBE_PAIRS],
    }


def cached_parity(
    cache: ArtifactCache,
    name: str,
    size: tuple[int, int],
    fields: dict[str, Any],
    compute: Callable[[], ParityReport],
) -> ParityReport:
    """The bf16 verdict from the cache, or ``compute()`` it once and keep it there."""
    path = parity_path(cache, name, size, fields)
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            data.pop("passed", None)
            return ParityReport(**data)
        except (OSError, ValueError, TypeError):  # damaged entry: measure again
            path.unlink(missing_ok=True)
    cache.notify(
        f"checking bf16 against fp32 on {PROBE_PAIRS} probe pairs at {size[0]}x{size[1]} "
        f"(once per model; cached as {path})"
    )
    report = compute()
    atomic_write_bytes(path, json.dumps(report.to_dict(), indent=2).encode())
    return report


def probe_pairs(
    size: tuple[int, int], thermal_range: tuple[float, float] | None, n: int = PROBE_PAIRS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` street-like (H, W) pairs for the bf16 check, drawn here (the backends do not
    depend on ``sccosf_ros.synthetic``): sky and road, lit rectangles for objects, warm
    bodies in thermal, every second pair at night. Thermal is uint8, or uint16 counts in
    ``thermal_range`` for a raw fixed normalisation."""
    h, w = size
    pairs = []
    for i in range(n):
        rng = np.random.default_rng(PROBE_VERSION * 1000 + i)
        rows = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        sky = np.array([0.55, 0.7, 0.9], np.float32) * (1.0 - 0.4 * rows)
        road = np.array([0.35, 0.35, 0.37], np.float32) * (0.6 + 0.4 * rows)
        horizon = int(h * rng.uniform(0.35, 0.55))
        rgb = np.where(np.arange(h)[:, None, None] < horizon, sky, road) * np.ones((1, w, 1))
        heat = np.full((h, w), 0.3, np.float32) + 0.1 * (np.arange(h)[:, None] >= horizon)
        for _ in range(int(rng.integers(3, 7))):
            y0, x0 = int(rng.integers(0, h - 2)), int(rng.integers(0, w - 2))
            y1 = min(h, y0 + int(rng.integers(h // 10, h // 3 + 2)))
            x1 = min(w, x0 + int(rng.integers(w // 12, w // 4 + 2)))
            rgb[y0:y1, x0:x1] = rng.uniform(0.05, 0.95, 3)
            heat[y0:y1, x0:x1] = rng.uniform(0.2, 0.95)
        if i % 2:  # night: dark RGB, thermal unchanged
            rgb *= 0.2
        noise = rng.normal(0.0, 0.02, rgb.shape)
        rgb8 = (np.clip(rgb + noise, 0, 1) * 255).round().astype(np.uint8)
        heat = np.clip(heat + rng.normal(0.0, 0.01, heat.shape), 0, 1)
        if thermal_range is None:
            thermal = (heat * 255).round().astype(np.uint8)
        else:
            lo, hi = thermal_range
            thermal = (lo + heat * (hi - lo)).round().astype(np.uint16)
        pairs.append((rgb8, thermal))
    return pairs
