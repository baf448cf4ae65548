"""ONNX export of an SC-CoSF network, with the metadata a runtime needs and no checkpoint.

Graph: inputs ``rgb`` (1,3,H,W) and ``thermal`` (1,1,H,W), float32 in [0, 1] (what
``Predictor.preprocess`` makes); outputs ``fused`` (1,3,H,W) in [0, 1] and ``logits``
(1,C,H,W) at the same size, or only one of them for the ablations without a head (E, F).
Resizing back to the frame, the argmax and the uint8 conversion stay in the Predictor's shared
post-processing, so every backend goes through the same code after the network (keeping the
logits, not class ids, as the output also keeps the torch path's "interpolate logits, then
argmax" when the network runs at another size than the frame).

How the graph is made (choices, measured on this project's 2-core machine, nano at 240×320):

* ``torch.onnx.export(dynamo=True)``: ``torch.export`` captures the network, and refuses
  data-dependent Python control flow (``.item()``, ``data_ptr``) instead of freezing the
  branch seen on the example input as the TorchScript tracer does. The model's only such
  code, the selective scan's eager fast path, switches to its graph form
  (``model/ssm/graph.py``) under capture; everything else branches on shapes only.
* ``optimize=False``, then onnxscript's constant folding and dead-code/CSE passes only:
  the full optimizer's pattern rewriter is quadratic in the graph's size and took 107 s on a
  ~7 k-node graph (the scans then unrolled step by step; folding alone: < 1 s); ONNX Runtime
  and OpenVINO run their own fusions at load, and both ran as fast on the folded graph as on
  the fully optimised one.
* Static shapes only (``--dynamic`` fails with the reason, see ``DYNAMIC_UNSUPPORTED``).

Metadata: ONNX ``metadata_props["sccosf_ros"]`` holds one JSON object (``METADATA_KEYS``):
class names, palette, thermal normalisation, input size, training size, dataset, outputs,
the network config, the weights' SHA-256 and the export versions. ``read_metadata`` reads it
back; ``Predictor.from_onnx`` needs nothing else.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sccosf_ros.backends.cache import publish
from sccosf_ros.backends.errors import EXTRAS, BackendError, require
from sccosf_ros.model.ssm.graph import CHUNK

METADATA_KEY = "sccosf_ros"
EXPORT_FORMAT = 1  # bump when the graph's inputs/outputs or metadata change meaning
DEFAULT_OPSET = 18  # the dynamo exporter's lowest; ONNX Runtime ≥ 1.14 and OpenVINO ≥ 2023 run it
INPUT_NAMES = ("rgb", "thermal")
METADATA_KEYS = (
    "format",
    "class_names",
    "palette",
    "thermal_norm",
    "input_size",
    "train_size",
    "dataset",
    "outputs",
    "num_classes",
    "config",
    "weights_sha256",
    "versions",
)

DYNAMIC_UNSUPPORTED = (
    "--dynamic is not supported: a faithful SC-CoSF graph exists for one input size only. "
    f"Each selective scan is cut into chunks of {CHUNK} steps (two MatMuls each) plus a "
    "carry scan over the chunks, and the chunk counts and carry depth are Python integers "
    "computed from H*W (as are the padding to a multiple of 32 and SS2D's row/column "
    "unrolling); a graph with symbolic H and W would need them as loops whose trip counts "
    "depend on H and W, which torch.export does not capture (it specialises the shapes). "
    "Export one file per "
    "camera resolution (the backends' cache does this by itself: --backend onnxruntime/"
    "openvino exports once per frame size), or run the network at a fixed size "
    "(inference.height/width, --input-size) and export at that size"
)


class GraphModule(nn.Module):
    """An SCCoSF network as the exported graph: (rgb, thermal) → (fused, logits) tuple, the
    heads that exist only (ablation E has no logits, F no fused image)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.outputs = output_names(model)

    def forward(self, rgb: torch.Tensor, thermal: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(rgb, thermal)
        return tuple(getattr(out, name) for name in self.outputs)


def output_names(model: nn.Module) -> tuple[str, ...]:
    """The graph outputs of ``model``: ``fused`` and/or ``logits``."""
    config = model.config
    return tuple(
        name for name, on in (("fused", config.fusion_head), ("logits", config.seg_head)) if on
    )


def export_versions(opset: int) -> dict[str, str]:
    """What the graph depends on besides the weights and the size (cache keys, metadata)."""
    import onnx
    import onnxscript

    from sccosf_ros import __version__

    return {
        "sccosf_ros": __version__,
        "export_format": str(EXPORT_FORMAT),
        "opset": str(opset),
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxscript": onnxscript.__version__,
    }


def _fold(model: Any) -> None:
    """Constant folding, dead-node removal, initializer dedup and CSE (see module docstring)."""
    import onnxscript.optimizer
    from onnx_ir.passes import common

    onnxscript.optimizer.fold_constants(model)
    for p in (
        common.RemoveUnusedNodesPass(),
        common.LiftConstantsToInitializersPass(lift_all_constants=True, size_limit=0),
        common.DeduplicateInitializersPass(),
        common.CommonSubexpressionEliminationPass(),
        common.RemoveUnusedNodesPass(),
    ):
        p(model)


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike,
    size: Sequence[int],
    metadata: dict[str, Any],
    *,
    opset: int = DEFAULT_OPSET,
    dynamic: bool = False,
) -> Path:
    """Export ``model`` (an SCCoSF, moved to the CPU in float32) at ``size`` = (H, W) to
    ``path`` atomically; ``metadata`` (``METADATA_KEYS`` minus format/outputs/versions) is
    stored in the file. BackendError / MissingExtraError say what went wrong."""
    require("onnx", EXTRAS["onnx"], "ONNX export")
    require("onnxscript", EXTRAS["onnx"], "ONNX export (torch.onnx's exporter)")
    import onnx_ir

    if dynamic:
        raise BackendError(DYNAMIC_UNSUPPORTED)
    h, w = (int(v) for v in size)
    if h < 1 or w < 1:
        raise BackendError(f"export size must be positive, got {h}x{w}")
    if opset < DEFAULT_OPSET:
        raise BackendError(f"opset {opset} is too old: the exporter needs opset >= 18")
    model = model.to("cpu", torch.float32).eval()
    graph = GraphModule(model).eval()
    gen = torch.Generator().manual_seed(0)  # any values: the graph does not depend on them
    example = (torch.rand(1, 3, h, w, generator=gen), torch.rand(1, 1, h, w, generator=gen))
    log = io.StringIO()
    try:
        with torch.no_grad(), contextlib.redirect_stdout(log):
            program = torch.onnx.export(
                graph,
                example,
                None,
                dynamo=True,
                optimize=False,
                opset_version=opset,
                input_names=list(INPUT_NAMES),
                output_names=list(graph.outputs),
                external_data=False,
                verbose=False,
            )
    except Exception as e:  # the exporter raises many types; its log says where it stopped
        raise BackendError(
            f"ONNX export at {h}x{w} failed ({type(e).__name__}: {str(e)[:400]}); "
            f"exporter log: {log.getvalue()[-600:]}"
        ) from e
    onnx_model = program.model
    _fold(onnx_model)
    meta = {
        **metadata,
        "format": EXPORT_FORMAT,
        "input_size": [h, w],
        "outputs": list(graph.outputs),
        "versions": export_versions(opset),
    }
    onnx_model.metadata_props[METADATA_KEY] = json.dumps(meta)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        onnx_ir.save(onnx_model, tmp)
        publish(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The sccosf_ros metadata of an exported file; BackendError when it is not one."""
    onnx = require("onnx", EXTRAS["onnx"], "reading an ONNX model")
    p = Path(path)
    if not p.is_file():
        raise BackendError(f"ONNX file {str(p)!r} does not exist")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as e:  # protobuf DecodeError and friends
        raise BackendError(
            f"{str(p)!r} is not a readable ONNX model ({type(e).__name__}: {str(e)[:200]}); "
            "it is corrupt or truncated: export it again with `sccosf export`"
        ) from None
    props = {p.key: p.value for p in model.metadata_props}
    if METADATA_KEY not in props:
        raise BackendError(
            f"{str(p)!r} is an ONNX model without sccosf_ros metadata (class names, palette, "
            "thermal normalisation, input size); export it with `sccosf export`"
        )
    try:
        meta = json.loads(props[METADATA_KEY])
    except json.JSONDecodeError as e:
        raise BackendError(f"{str(p)!r}: its sccosf_ros metadata is not JSON ({e})") from None
    missing = [k for k in METADATA_KEYS if k not in meta]
    if missing:
        raise BackendError(f"{str(p)!r}: sccosf_ros metadata lacks {', '.join(missing)}")
    if int(meta["format"]) > EXPORT_FORMAT:
        raise BackendError(
            f"{str(p)!r} has export format {meta['format']}, newer than this sccosf_ros "
            f"understands ({EXPORT_FORMAT}); upgrade sccosf_ros"
        )
    return meta
