"""The backends' cache of exported ONNX files and built engines (``backend.cache_dir``).

Layout under the cache folder (default ``$XDG_CACHE_HOME/sccosf_ros``, i.e.
``~/.cache/sccosf_ros``)::

    onnx/<name>-<H>x<W>-<key>.onnx          exported graphs (ONNX Runtime and OpenVINO read them)
    onnx/<name>-<H>x<W>-<key>.onnx.json     what the key was made of, for people
    tensorrt/<name>-<H>x<W>-<key>.engine    TensorRT engines (per GPU, TensorRT version, precision)
    openvino/                               OpenVINO's own compiled-model cache (CACHE_DIR)

Keys are SHA-256 digests of everything the file depends on: the weights (a digest of the
state dict, so a retrained or edited checkpoint never hits an old entry while an identical copy
of one does), the network config, class metadata, the input size, the opset, the exporter and
runtime versions, and the source of ``sccosf_ros/model`` and the exporter (an edited model file
in a development checkout re-exports). Files are written to a temporary name and renamed, so a
reader never sees half a file and two processes building the same entry both end with a valid
one. An entry that fails to load (truncated, corrupt, from a broken disk) is deleted and built
again, with one line saying so; only a rebuilt entry that fails too is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

T = TypeVar("T")
_SOURCE_DIGEST: str | None = None


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/sccosf_ros`` (``~/.cache/sccosf_ros`` when XDG_CACHE_HOME is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sccosf_ros"


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of a state dict: names, dtypes, shapes and bytes, in name order."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def source_files() -> list[Path]:
    """The network's source files (``model/``, the scan package ``model/ssm/`` included) and
    the exporter's: what an exported artifact depends on besides weights and versions."""
    root = Path(__file__).resolve().parents[1]
    return [*sorted((root / "model").rglob("*.py")), root / "backends" / "onnx_export.py"]


def source_digest() -> str:
    """SHA-256 of :func:`source_files`, each with its package-relative path (computed once per
    process)."""
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for f in source_files():
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
        _SOURCE_DIGEST = h.hexdigest()
    return _SOURCE_DIGEST


def digest(fields: dict[str, Any]) -> str:
    """A short stable key (20 hex digits of SHA-256) of JSON-able ``fields``."""
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def publish(tmp: str | os.PathLike, path: Path) -> None:
    """Rename a finished temporary file onto ``path`` with the usual permissions (mkstemp
    makes 0600; exported models are for sharing)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        publish(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _say(text: str) -> None:
    print(f"sccosf_ros: {text}", file=sys.stderr, flush=True)


class ArtifactCache:
    """Exported/built files under one cache folder, built on first use (module docstring)."""

    def __init__(
        self, root: str | os.PathLike | None = None, notify: Callable[[str], None] = _say
    ) -> None:
        self.root = Path(root).expanduser() if root else default_cache_dir()
        self.notify = notify

    def path(self, kind: str, name: str, size: tuple[int, int], key: str, suffix: str) -> Path:
        return self.root / kind / f"{name}-{size[0]}x{size[1]}-{key}{suffix}"

    def get_or_build(
        self,
        path: Path,
        build: Callable[[Path], None],
        load: Callable[[Path], T],
        what: str,
        fields: dict[str, Any] | None = None,
    ) -> T:
        """``load(path)``, building the entry first with ``build(path)`` (which must write it
        atomically) when it is missing or fails to load."""
        if path.is_file():
            try:
                return load(path)
            except Exception as e:  # any loader error means the entry is unusable
                self.notify(
                    f"cached {what} {path} could not be loaded ({type(e).__name__}: "
                    f"{str(e)[:160]}); rebuilding it"
                )
                path.unlink(missing_ok=True)
        self.notify(f"building {what} (first use; cached as {path})")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            from sccosf_ros.backends.errors import BackendError

            raise BackendError(
                f"cannot create the backend cache folder {str(path.parent)!r} ({e}); set "
                "backend.cache_dir (--cache-dir) to a writable folder"
            ) from None
        build(path)
        if fields is not None:
            atomic_write_bytes(
                path.with_name(path.name + ".json"),
                json.dumps(fields, indent=2, sort_keys=True, default=str).encode(),
            )
        return load(path)
