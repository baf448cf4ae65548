"""The ``Predictor``: RGB + thermal numpy frames in, fused image and class ids out.

The Predictor is what every path runs (the ROS node, ``sccosf predict``, ``eval``, ``bag-eval``,
the demo and the benchmarks); its ``backend`` chooses torch eager or an exported graph in ONNX
Runtime, OpenVINO or TensorRT (``sccosf_ros.backends``).
Pre- and post-processing (thermal normalisation, resizing, argmax) are the same for every
backend.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from sccosf_ros.backends.auto import (
    AUTO,
    PARITY_SIZE,
    cached_parity,
    choose_backend,
    choose_precision,
    probe_pairs,
    selection_line,
    verdict_fields,
)
from sccosf_ros.backends.cache import ArtifactCache
from sccosf_ros.backends.compiled import CompiledModel, backend_device, check_backend
from sccosf_ros.backends.onnx_export import read_metadata
from sccosf_ros.backends.runner import TorchRunner
from sccosf_ros.classes import default_palette
from sccosf_ros.errors import SccosfError
from sccosf_ros.inference.checkpoint import load_checkpoint, model_from_checkpoint, size_or_none
from sccosf_ros.precision import autocast_dtype, check_precision
from sccosf_ros.thermal import ThermalNorm


class InputError(SccosfError, ValueError):
    """Frames (or an input size) the Predictor cannot run on; the message says what differs."""


@dataclass
class Prediction:
    fused: np.ndarray | None  # (H, W, 3) uint8 RGB fused image (None: ablation F, no fusion head)
    labels: np.ndarray | None  # (H, W) uint8 class ids (None: ablation E, no segmentation head)
    timings_ms: dict[str, float] = field(default_factory=dict)  # preprocess / model / postprocess


def fused_uint8(fused: torch.Tensor) -> np.ndarray:
    """(3, H, W) float fused image in [0, 1] → (H, W, 3) uint8 RGB, rounded half to even.

    On the CPU in numpy, in place on one float buffer, then ``interleaved``: the same bytes as
    torch's clamp → mul → round → uint8 → permute chain at a fraction of its time (2.4–7 ms
    at 640×480, 2 threads, on this project's 2-core machine), which is per-pair work the node
    does outside the network. A uint8 (3, H, W) input (the planes OpenVINO's graph finished,
    ``backends.openvino_finish``) is only interleaved.
    """
    if fused.dtype == torch.uint8:
        return interleaved(fused.cpu().numpy())
    if fused.device.type != "cpu":
        out = fused.float().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0)
        return out.contiguous().cpu().numpy()
    x = np.multiply(fused.float().numpy(), np.float32(255))  # a new buffer, worked in place
    np.clip(x, 0, 255, out=x)
    np.rint(x, out=x)
    return interleaved(x.astype(np.uint8))


def interleaved(planes: np.ndarray) -> np.ndarray:
    """(C, H, W) uint8 planes → a new (H, W, C) image: OpenCV's merge, 0.05 ms for three
    640×480 planes where numpy's transposed copy takes 1.5 ms (and OpenVINO's uint8
    Transpose 0.8)."""
    return cv2.merge(list(planes))


def class_ids(logits: torch.Tensor) -> np.ndarray:
    """(C, H, W) logits → (H, W) uint8 ids of the first largest class.

    On the CPU one single-threaded numpy pass per class (running max and the ids where it
    grows), the same ids as torch's ``max(0).indices``: right after a graph runtime returns its
    worker threads still hold the cores, which a parallel torch op waits for. With
    ``fused_uint8``, the post-processing of a 640×480 pair straight after OpenVINO bf16 took
    6.0 ms p50 against 7.2 ms (12 pairs each, interleaved, on this project's loaded 2-core
    machine). On a GPU: ``max(0).indices`` (not ``argmax``, 4× slower for this layout).
    """
    if logits.device.type != "cpu":
        return logits.max(0).indices.to(torch.uint8).cpu().numpy()
    planes = logits.float().numpy()
    best = planes[0].copy()
    ids = np.zeros(best.shape, np.uint8)
    grew = np.empty(best.shape, bool)
    for c in range(1, planes.shape[0]):
        np.greater(planes[c], best, out=grew)
        np.copyto(ids, np.uint8(c), where=grew)
        np.maximum(best, planes[c], out=best)
    return ids


class Predictor:
    """RGB + thermal numpy frames → fused image and class-id mask at the input resolution.

    The network runs on one of ``backends.BACKENDS``: ``torch`` (eager, the default),
    ``onnxruntime``, ``openvino`` or ``tensorrt``. The non-torch backends run an exported ONNX
    graph (``sccosf_ros.backends``): exported, and for TensorRT built into an engine, on first
    use into ``cache_dir`` and reused from there. Pre-processing (thermal normalisation, resize
    to ``input_size``) and post-processing (resize back, argmax, uint8) are this class's, the
    same for every backend; so are ``predict()`` and its ``timings_ms`` keys.

    Args:
        model: an ``SCCoSF`` network (``build_model`` or a checkpoint); None only for
            ``from_onnx``.
        device: ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` (``backends.backend_device`` says
            what ``auto`` means per backend).
        class_names, palette: label metadata (defaults: generic names, a fixed palette).
        thermal_norm: how raw thermal becomes [0, 1] (``ThermalNorm``, default ``auto``).
        input_size: ``(H, W)`` the network runs at (frames are resized and results resized back);
            ``None`` runs at the frame's own size.
        train_size: ``(H, W)`` the network was trained at (from the checkpoint; None: unknown).
            Recorded only: inference does not depend on it (``sccosf export`` defaults to it).
        backend: ``torch`` | ``onnxruntime`` | ``openvino`` | ``tensorrt`` | ``auto`` (the
            best one installed here, ``backends.auto``; ``backend_choice`` says which and why).
        cache_dir: where exported graphs and engines are kept (None: ``~/.cache/sccosf_ros``).
        backend_options: per-backend settings (``backends.compiled.CompiledModel``).
        name: a readable prefix for cache file names (``from_checkpoint``: the file's stem).
        precision: ``fp32`` (default) | ``fp16`` | ``bf16``. torch: run the network under
            ``torch.autocast`` in that dtype (convolutions and matmuls in half precision, the
            selective scan's states in float32; outputs are converted back), CPU and CUDA.
            tensorrt: fp16 builds a half-precision engine. openvino: bf16 runs OpenVINO's
            bfloat16 (AMX / AVX-512 BF16 CPUs). onnxruntime runs fp32. ``auto``: bf16 on
            OpenVINO where the CPU has AMX / AVX-512 BF16 and the bf16 model meets the parity
            bar against torch fp32 (measured once per model, cached), else fp32.
    """

    def __init__(
        self,
        model: torch.nn.Module | None,
        device: str | torch.device = "auto",
        *,
        class_names: list[str] | tuple[str, ...] | None = None,
        palette: Any = None,
        thermal_norm: ThermalNorm | dict | None = None,
        input_size: tuple[int, int] | None = None,
        dataset: str = "unknown",
        train_size: Sequence[int] | None = None,
        backend: str = "torch",
        cache_dir: str | os.PathLike | None = None,
        backend_options: dict[str, Any] | None = None,
        name: str = "model",
        precision: str = "fp32",
        _onnx: tuple[Path, dict] | None = None,
    ) -> None:
        self.backend_choice = choose_backend(backend, str(device))
        backend = self.backend = check_backend(self.backend_choice.value)
        if precision != AUTO:
            check_precision(precision, backend)
        self.device = backend_device(backend, device)
        self.model = model
        n = int(getattr(model, "num_classes", 0) or len(class_names or []))
        self.class_names = list(class_names) if class_names else [f"class_{i}" for i in range(n)]
        self.palette = [tuple(map(int, c)) for c in (palette or default_palette(n))]
        self.thermal_norm = (
            thermal_norm
            if isinstance(thermal_norm, ThermalNorm)
            else ThermalNorm.from_dict(thermal_norm)
        )
        # What the network was trained with (from_checkpoint sets it when thermal_norm
        # overrides the file's): where thermal.normalization = checkpoint returns to.
        self.checkpoint_thermal_norm = self.thermal_norm
        size = size_or_none(input_size, "input_size")
        self.input_size: tuple[int, int] | None = None if size is None else (size[0], size[1])
        size = size_or_none(train_size, "train_size")
        self.train_size: tuple[int, int] | None = None if size is None else (size[0], size[1])
        self.dataset = dataset
        self.name = name
        self.meta: dict = {}
        self.compiled = None  # backends.compiled.CompiledModel for the graph backends
        self._torch: TorchRunner | None = None
        self.precision_choice = choose_precision(
            precision, backend, lambda: self._bf16_verdict(cache_dir, backend_options)
        )
        precision = self.precision = self.precision_choice.value
        if backend in ("tensorrt", "openvino") and precision != "fp32":
            backend_options = {"precision": precision, **(backend_options or {})}
        if backend == "torch":
            if model is None:
                raise ValueError("backend torch needs a model (use from_onnx for ONNX files)")
            self._torch = TorchRunner(model, self.device, autocast_dtype(precision))
        else:
            self._init_compiled(model, cache_dir, backend_options, name, _onnx)

    def _init_compiled(
        self,
        model: torch.nn.Module | None,
        cache_dir: str | os.PathLike | None,
        options: dict[str, Any] | None,
        name: str,
        onnx: tuple[Path, dict] | None,
    ) -> None:
        metadata = onnx[1] if onnx is not None else self.export_metadata()
        self.compiled = CompiledModel(
            self.backend,
            self.device,
            metadata,
            model=model,
            onnx_path=None if onnx is None else onnx[0],
            cache_dir=cache_dir,
            name=name,
            options=options,
        )
        fixed = self.compiled.fixed_size
        if fixed is not None:
            if self.input_size is not None and self.input_size != fixed:
                raise InputError(
                    f"input_size {self.input_size[0]}x{self.input_size[1]} differs from the "
                    f"size the ONNX model was exported at ({fixed[0]}x{fixed[1]}); export "
                    "again at the size you want (sccosf export --height H --width W)"
                )
            self.input_size = fixed

    @property
    def selection(self) -> str:
        """The startup line: which backend and precision run, and why (``backends.auto``)."""
        return selection_line(self.backend_choice, self.precision_choice)

    def _bf16_verdict(
        self, cache_dir: str | os.PathLike | None, options: dict[str, Any] | None
    ) -> Any:
        """bf16 OpenVINO against torch fp32 on ``backends.auto.probe_pairs`` at the run size
        (``PARITY_SIZE`` when it is not fixed): a ParityReport, cached per model, size,
        OpenVINO version and CPU; None without a torch model to compare with."""
        from sccosf_ros.backends.parity import compare, thermal_is_raw

        if self.model is None:
            return None
        size = self.input_size or PARITY_SIZE
        kwargs: dict[str, Any] = {
            "class_names": self.class_names,
            "palette": self.palette,
            "thermal_norm": self.thermal_norm,
            "name": self.name,
        }
        candidate = Predictor(
            self.model,
            "cpu",
            backend="openvino",
            precision="bf16",
            input_size=size,
            cache_dir=cache_dir,
            backend_options=options,
            **kwargs,
        )
        norm = self.thermal_norm
        raw = (float(norm.low), float(norm.high)) if thermal_is_raw(self) else None

        def measure() -> Any:
            reference = Predictor(self.model, "cpu", backend="torch", precision="fp32", **kwargs)
            return compare(reference, candidate, probe_pairs(size, raw))

        fields = verdict_fields(candidate.compiled.export_fields(size), norm.to_dict())
        return cached_parity(ArtifactCache(cache_dir), self.name, size, fields, measure)

    def export_metadata(self) -> dict[str, Any]:
        """What an exported graph records besides its size and versions (``onnx_export``)."""
        from sccosf_ros.model.network import preset_of  # the network's modules load on use

        config = getattr(self.model, "config", None)
        return {
            "class_names": list(self.class_names),
            "palette": [list(c) for c in self.palette],
            "thermal_norm": self.thermal_norm.to_dict(),
            "train_size": None if self.train_size is None else list(self.train_size),
            "dataset": self.dataset,
            "num_classes": self.num_classes,
            "config": None if config is None else config.to_dict(),
            "preset": None if config is None else preset_of(config),
        }

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike, device: str | torch.device = "auto", **kwargs: Any
    ) -> Predictor:
        """Build from a checkpoint file; keyword arguments override what the checkpoint says
        (``backend=`` picks the runtime, see the class docstring)."""
        ckpt = load_checkpoint(path)
        model = model_from_checkpoint(ckpt)
        kwargs.setdefault("class_names", ckpt["class_names"])
        kwargs.setdefault("palette", ckpt["palette"])
        kwargs.setdefault("thermal_norm", ckpt.get("thermal_norm"))
        kwargs.setdefault("dataset", ckpt.get("dataset", "unknown"))
        kwargs.setdefault("train_size", ckpt.get("train_size"))
        kwargs.setdefault("name", Path(path).stem)
        pred = cls(model, device, **kwargs)
        pred.checkpoint_thermal_norm = ThermalNorm.from_dict(ckpt.get("thermal_norm"))
        pred.meta = dict(ckpt.get("meta", {}))
        return pred

    @classmethod
    def from_onnx(
        cls,
        path: str | os.PathLike,
        backend: str = "onnxruntime",
        device: str | torch.device = "auto",
        **kwargs: Any,
    ) -> Predictor:
        """Run a file written by ``sccosf export`` (no checkpoint needed: class names, palette,
        thermal normalisation and input size come from its metadata; keyword arguments
        override them, except the input size, which the graph fixes)."""
        check_backend(backend, graph_only=True)
        meta = read_metadata(path)
        kwargs.setdefault("class_names", meta["class_names"])
        kwargs.setdefault("palette", meta["palette"])
        kwargs.setdefault("thermal_norm", meta["thermal_norm"])
        kwargs.setdefault("dataset", meta.get("dataset", "unknown"))
        kwargs.setdefault("train_size", meta.get("train_size"))
        kwargs.setdefault("name", Path(path).stem)
        pred = cls(None, device, backend=backend, _onnx=(Path(path), meta), **kwargs)
        pred.meta = {"onnx": str(path), "versions": meta.get("versions", {})}
        return pred

    def prepare(self, size: tuple[int, int] | None = None) -> None:
        """Export/build the backend's graph for inputs of ``size`` now rather than on the first
        frame (default: ``input_size``; nothing to do for torch or an unknown size). The runner
        ``predict`` will use: at the frames' own size (no ``input_size``) the one that finishes
        the post-processing in the graph; with an ``input_size`` the frames are resized to, the
        float one whose outputs are resized back."""
        size = size or self.input_size
        if self.compiled is not None and size is not None:
            self.compiled.runner(size, finished=self.input_size is None)

    def run_network(
        self, x_rgb: torch.Tensor, x_th: torch.Tensor, finished: bool = False
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The network on pre-processed tensors (``preprocess``) → (fused, logits).

        ``finished``: nothing is resized after the network, so a runtime that can may return
        the last step of ``postprocess`` itself (uint8 fused and class ids; OpenVINO)."""
        if self._torch is not None:
            return self._torch.run(x_rgb, x_th)
        size = tuple(x_rgb.shape[-2:])
        return self.compiled.runner(size, finished=finished).run(x_rgb, x_th)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def _check_inputs(self, rgb: np.ndarray, thermal: np.ndarray) -> None:
        if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise InputError(f"rgb must be an (H, W, 3) array, got {getattr(rgb, 'shape', rgb)}")
        if rgb.dtype != np.uint8:
            raise InputError(f"rgb must be uint8, got {rgb.dtype}")
        if not isinstance(thermal, np.ndarray) or thermal.ndim not in (2, 3):
            raise InputError(f"thermal must be (H, W) or (H, W, C), got {np.shape(thermal)}")
        if thermal.shape[:2] != rgb.shape[:2]:
            raise InputError(
                f"rgb {rgb.shape[1]}x{rgb.shape[0]} and thermal "
                f"{thermal.shape[1]}x{thermal.shape[0]} differ in size (register thermal first)"
            )
        if rgb.shape[0] < 1 or rgb.shape[1] < 1:
            raise InputError("empty image")

    def preprocess(
        self, rgb: np.ndarray, thermal: np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """numpy frames → (1,3,h,w) and (1,1,h,w) float tensors in [0,1] on the device."""
        self._check_inputs(rgb, thermal)
        t = self.thermal_norm(thermal)
        x_rgb = torch.from_numpy(np.ascontiguousarray(rgb)).to(self.device)
        x_rgb = x_rgb.permute(2, 0, 1)[None].float().div_(255.0)
        x_th = torch.from_numpy(t).to(self.device)[None, None]
        if self.input_size is not None and tuple(x_rgb.shape[-2:]) != self.input_size:
            size = self.input_size
            x_rgb = F.interpolate(x_rgb, size=size, mode="bilinear", align_corners=False)
            x_th = F.interpolate(x_th, size=size, mode="bilinear", align_corners=False)
        return x_rgb, x_th

    def postprocess(
        self, fused: torch.Tensor | None, logits: torch.Tensor | None, size: tuple[int, int]
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Network outputs → (H, W, 3) uint8 fused and (H, W) uint8 ids; a disabled head → None."""
        img = labels = None
        if fused is not None and fused.dtype == torch.uint8:  # planes finished by the runtime
            img = fused_uint8(fused[0])
        elif fused is not None:
            if tuple(fused.shape[-2:]) != size:
                fused = F.interpolate(
                    fused.float(), size=size, mode="bilinear", align_corners=False
                )
            img = fused_uint8(fused[0])
        if logits is not None and logits.dtype == torch.uint8:  # class ids from the runtime
            labels = logits[0, 0].numpy().copy()
        elif logits is not None:
            if tuple(logits.shape[-2:]) != size:
                logits = F.interpolate(
                    logits.float(), size=size, mode="bilinear", align_corners=False
                )
            labels = class_ids(logits[0])
        return img, labels

    def predict(self, rgb: np.ndarray, thermal: np.ndarray) -> Prediction:
        """rgb (H,W,3) uint8 RGB + thermal (H,W) uint8/uint16/float32 → Prediction at (H, W)."""
        t0 = time.perf_counter()
        with torch.inference_mode():
            x_rgb, x_th = self.preprocess(rgb, thermal)
            self._sync()
            t1 = time.perf_counter()
            finished = tuple(x_rgb.shape[-2:]) == rgb.shape[:2]
            fused_t, logits_t = self.run_network(x_rgb, x_th, finished)
            self._sync()
            t2 = time.perf_counter()
            fused, labels = self.postprocess(fused_t, logits_t, rgb.shape[:2])
        t3 = time.perf_counter()
        return Prediction(
            fused=fused,
            labels=labels,
            timings_ms={
                "preprocess": (t1 - t0) * 1e3,
                "model": (t2 - t1) * 1e3,
                "postprocess": (t3 - t2) * 1e3,
                "total": (t3 - t0) * 1e3,
            },
        )

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
