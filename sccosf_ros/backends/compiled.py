"""The network on an optimised runtime: one runner per input size, exported and built on first
use through the cache (``backends.cache``), or one fixed runner over a given ONNX file.

An exported graph has static shapes (``onnx_export.DYNAMIC_UNSUPPORTED`` says why), so a
Predictor that runs at the frames' native size gets one graph per frame size it meets: the
first frame of a new size exports (seconds to a minute, once per checkpoint and size, then
cached on disk), later ones reuse the session. With ``inference.height/width`` (or
``input_size``) set, or from an ONNX file, there is one size and it is prepared at start.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch

from sccosf_ros.backends import BACKENDS, GRAPH_BACKENDS
from sccosf_ros.backends.cache import ArtifactCache, digest, source_digest, weights_digest
from sccosf_ros.backends.errors import BackendError
from sccosf_ros.backends.runner import Runner
from sccosf_ros.device import resolve_device


def check_backend(name: str, *, graph_only: bool = False) -> str:
    choices = GRAPH_BACKENDS if graph_only else BACKENDS
    if name not in choices:
        raise BackendError(f"unknown backend {name!r}: use one of {', '.join(choices)}")
    return name


# backend → the module it imports (to tell what is installed without importing it)
_MODULES = {
    "torch": "torch",
    "onnxruntime": "onnxruntime",
    "openvino": "openvino",
    "tensorrt": "tensorrt",
}


def installed(backend: str) -> bool:
    """Whether a backend's runtime is installed (ONNX export needs onnx + onnxscript too)."""
    import importlib.util

    mods = [_MODULES[backend]] + (["onnx", "onnxscript"] if backend != "torch" else [])
    return all(importlib.util.find_spec(m) is not None for m in mods)


def usable(backend: str) -> bool:
    """Installed and with a device to run on here (tensorrt needs CUDA)."""
    return installed(backend) and (backend != "tensorrt" or torch.cuda.is_available())


def require_usable(backend: str) -> str:
    """``backend`` if it can run here, else a BackendError saying what is missing (the pip
    extra, or CUDA for tensorrt)."""
    from sccosf_ros.backends.errors import EXTRAS

    check_backend(backend)
    if backend == "tensorrt" and not torch.cuda.is_available():
        raise BackendError("backend tensorrt needs CUDA, which is not available here")
    if not installed(backend):
        raise BackendError(
            f"backend {backend} is not installed: pip install 'sccosf_ros[{EXTRAS[backend]}]'"
        )
    return backend


def backend_device(backend: str, device: str | torch.device) -> torch.device:
    """The torch device a backend's inputs live on, from the user's ``device`` setting.

    ``auto``: torch and tensorrt → cuda when available (tensorrt: an error otherwise);
    onnxruntime → cuda when torch sees a GPU and onnxruntime-gpu is installed, else cpu;
    openvino → cpu.
    """
    name = str(device)
    if name != "auto" or backend == "torch":
        return resolve_device(name)
    if backend == "openvino":
        return torch.device("cpu")
    if backend == "tensorrt":
        if not torch.cuda.is_available():
            raise BackendError("backend tensorrt needs CUDA, which is not available here")
        return torch.device("cuda")
    if torch.cuda.is_available():
        try:
            import onnxruntime

            if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                return torch.device("cuda")
        except ImportError:
            pass
    return torch.device("cpu")


def file_digest(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class CompiledModel:
    """Runners of one network on one graph backend (``onnxruntime``, ``openvino``, ``tensorrt``).

    Args:
        backend: the runtime.
        device: where inputs/outputs live (``backend_device``).
        metadata: what goes into an exported file (``onnx_export.METADATA_KEYS``), less the
            parts the exporter fills in.
        model: the torch network to export (None with ``onnx_path``).
        onnx_path: an exported file to run as it is (its one size).
        cache_dir: the cache folder (None: ``cache.default_cache_dir()``).
        name: a readable prefix for cache file names (the checkpoint's stem).
        options: backend options: ``precision`` (tensorrt: fp32 | fp16), ``providers``
            (onnxruntime execution providers), ``opset`` (export).
    """

    def __init__(
        self,
        backend: str,
        device: torch.device,
        metadata: dict[str, Any],
        *,
        model: torch.nn.Module | None = None,
        onnx_path: str | os.PathLike | None = None,
        cache_dir: str | os.PathLike | None = None,
        name: str = "model",
        options: dict[str, Any] | None = None,
    ) -> None:
        self.backend = check_backend(backend, graph_only=True)
        if (model is None) == (onnx_path is None):
            raise ValueError("CompiledModel needs a model or an ONNX file (one of them)")
        self._require(backend, export=model is not None)
        self.device = device
        self.metadata = metadata
        self.model = None if model is None else model.to("cpu").eval()
        self.onnx_path = None if onnx_path is None else Path(onnx_path)
        self.cache = ArtifactCache(cache_dir)
        self.name = name
        self.options = dict(options or {})
        self._runners: dict[tuple[int, int, bool], Runner] = {}
        self._failed: dict[tuple[int, int], BackendError] = {}
        self._weights: str | None = None
        if self.onnx_path is not None:
            size = tuple(int(v) for v in metadata["input_size"])
            self._fixed_size: tuple[int, int] | None = (size[0], size[1])
        else:
            self._fixed_size = None

    @staticmethod
    def _require(backend: str, export: bool) -> None:
        """Fail at once, before any export, when the runtime or the exporter is missing."""
        from sccosf_ros.backends.errors import EXTRAS, require

        require(_MODULES[backend], EXTRAS[backend], f"backend {backend}")
        if export:
            for module in ("onnx", "onnxscript"):
                require(module, EXTRAS[backend], f"backend {backend} (ONNX export)")

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        """The one size of a given ONNX file; None when graphs are exported per size."""
        return self._fixed_size

    def runner(self, size: tuple[int, int], finished: bool = False) -> Runner:
        """The runner for inputs of ``size`` = (h, w), built on first use. ``finished``: the
        caller resizes nothing after the network, so the runtime may return the Predictor's last
        step itself (OpenVINO only, ``backends.openvino_finish``; a second compiled model)."""
        size = (int(size[0]), int(size[1]))
        key = (*size, bool(finished and self.backend == "openvino"))
        if self._fixed_size is not None and size != self._fixed_size:
            raise BackendError(
                f"{self.onnx_path} was exported at {self._fixed_size[0]}x{self._fixed_size[1]} "
                f"and cannot run at {size[0]}x{size[1]}"
            )
        if size in self._failed:  # do not export again for every frame of a size that failed
            raise self._failed[size]
        if key not in self._runners:
            try:
                self._runners[key] = self._build(size, self.onnx_for(size), key[2])
            except BackendError as e:
                self._failed[size] = e
                raise
        return self._runners[key]

    # ------------------------------------------------------------------ ONNX
    def export_fields(self, size: tuple[int, int]) -> dict[str, Any]:
        """Everything an exported graph at ``size`` depends on (its cache key)."""
        from sccosf_ros.backends.onnx_export import DEFAULT_OPSET, export_versions

        if self._weights is None:
            self._weights = weights_digest(self.model)
        opset = int(self.options.get("opset", DEFAULT_OPSET))
        # what the graph computes with: not class names, palette or thermal normalisation,
        # which the file records but which do not change it (a node overriding its thermal
        # normalisation reuses the graph another process exported)
        return {
            "weights_sha256": self._weights,
            "config": self.metadata.get("config"),
            "num_classes": self.metadata.get("num_classes"),
            "size": list(size),
            "versions": export_versions(opset),
            "source_sha256": source_digest(),
        }

    def onnx_for(self, size: tuple[int, int]) -> Path:
        if self.onnx_path is not None:
            return self.onnx_path
        from sccosf_ros.backends.onnx_export import DEFAULT_OPSET, export_onnx, read_metadata

        fields = self.export_fields(size)
        path = self.cache.path("onnx", self.name, size, digest(fields), ".onnx")
        meta = {**self.metadata, "weights_sha256": fields["weights_sha256"]}
        opset = int(self.options.get("opset", DEFAULT_OPSET))

        def build(p: Path) -> None:
            export_onnx(self.model, p, size, meta, opset=opset)

        def load(p: Path) -> Path:
            read_metadata(p)  # a truncated/corrupt file fails here → rebuilt
            return p

        return self.cache.get_or_build(
            path, build, load, f"ONNX graph at {size[0]}x{size[1]}", fields
        )

    # ------------------------------------------------------------------ runners
    def _build(self, size: tuple[int, int], onnx_path: Path, finished: bool = False) -> Runner:
        outputs = list(self.metadata.get("outputs") or self._outputs(onnx_path))
        threads = torch.get_num_threads()
        if self.backend == "onnxruntime":
            from sccosf_ros.backends.onnxruntime_runner import OnnxRuntimeRunner

            return self._load_checked(
                size,
                onnx_path,
                lambda p: OnnxRuntimeRunner(
                    p, self.device, threads, outputs, size, self.options.get("providers")
                ),
            )
        if self.backend == "openvino":
            from sccosf_ros.backends.openvino_runner import OpenVINORunner

            ov_cache = self.cache.root / "openvino"
            return self._load_checked(
                size,
                onnx_path,
                lambda p: OpenVINORunner(
                    p,
                    self.device,
                    threads,
                    outputs,
                    size,
                    ov_cache,
                    str(self.options.get("precision", "fp32")),
                    finished=finished,
                ),
            )
        return self._tensorrt(size, onnx_path, outputs)

    def _outputs(self, onnx_path: Path) -> list[str]:
        from sccosf_ros.backends.onnx_export import read_metadata

        return list(read_metadata(onnx_path)["outputs"])

    def _load_checked(self, size: tuple[int, int], onnx_path: Path, make: Any) -> Runner:
        """``make(onnx_path)``; a cached graph the runtime cannot load is exported again."""
        try:
            return make(onnx_path)
        except BackendError:
            if self.onnx_path is not None:  # the user's own file: report, do not replace
                raise
            self.cache.notify(f"cached {onnx_path} does not load; exporting it again")
            onnx_path.unlink(missing_ok=True)
            return make(self.onnx_for(size))

    def _tensorrt(self, size: tuple[int, int], onnx_path: Path, outputs: list[str]) -> Runner:
        from sccosf_ros.backends.tensorrt_runner import (
            TensorRTRunner,
            build_engine,
            engine_fields,
        )

        if self.device.type != "cuda":
            raise BackendError(
                f"backend tensorrt needs a CUDA device, not {self.device}: use device cuda"
            )
        precision = str(self.options.get("precision", "fp32"))
        fields = {
            "onnx_sha256": file_digest(onnx_path),
            **engine_fields(self.device, precision),
        }
        path = self.cache.path("tensorrt", self.name, size, digest(fields), ".engine")
        return self.cache.get_or_build(
            path,
            lambda p: build_engine(onnx_path, p, precision),
            lambda p: TensorRTRunner(p, self.device, outputs, size),
            f"TensorRT engine at {size[0]}x{size[1]} ({precision})",
            fields,
        )
