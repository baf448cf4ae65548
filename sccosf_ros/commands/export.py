"""``sccosf export``: write a checkpoint as an ONNX model and check it against torch.

The file has inputs ``rgb`` (1,3,H,W) and ``thermal`` (1,1,H,W) float in [0, 1] and outputs
``fused`` and ``logits``; its metadata carries the class names, palette, thermal
normalisation and input size, so ``Predictor.from_onnx`` and ``--backend`` runs need no
checkpoint (``sccosf_ros.backends.onnx_export``). Default size: the checkpoint's training size.

After writing, the file runs in every installed ONNX backend (ONNX Runtime, OpenVINO; TensorRT
where CUDA is) next to the torch model on generated pairs, and the label agreement and fused
differences are printed. Below the parity bar (≥ 99.9 % labels, fused within 2/255) the file
is deleted and the command exits 2. ``--verify`` checks an existing file instead of writing one.
Exit codes: 0 written (and checked), 2 bad arguments / checkpoint / export / parity.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sccosf_ros.errors import SccosfError


class ExportError(SccosfError, ValueError):
    """A size, output path or parity result ``sccosf export`` cannot accept."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sccosf_ros.backends.onnx_export import DEFAULT_OPSET

    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint file (default: $SCCOSF_CHECKPOINT or the shipped demo model)",
    )
    parser.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    parser.add_argument("--height", type=int, default=None, help="input height (default: train)")
    parser.add_argument("--width", type=int, default=None, help="input width (default: train)")
    parser.add_argument(
        "--dynamic",
        action="store_true",
        help="symbolic H and W (not supported: the command says why)",
    )
    parser.add_argument(
        "--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})"
    )
    parser.add_argument(
        "--check-pairs",
        type=int,
        default=4,
        metavar="N",
        help="generated pairs for the parity check (default 4, 0 = no check)",
    )
    parser.add_argument(
        "--check-backends",
        default=None,
        metavar="LIST",
        help="comma-separated backends to check (default: every installed one of "
        "onnxruntime, openvino, tensorrt)",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="do not export: check the existing --out file against --checkpoint",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the parity report here")


def _size(args: argparse.Namespace, train_size: tuple[int, int] | None) -> tuple[int, int]:
    if (args.height is None) != (args.width is None):
        raise ExportError("give both --height and --width, or neither (the training size)")
    if args.height is not None:
        if args.height < 1 or args.width < 1:
            raise ExportError("--height and --width must be positive")
        return args.height, args.width
    if train_size is None:
        raise ExportError(
            "the checkpoint records no training size: pass --height H --width W "
            "(the camera resolution the model will run at)"
        )
    return train_size


def _check_out(path: Path, flag: str) -> None:
    """``flag`` names a file in a folder that exists or can be made: checked before the
    (slow) export."""
    if path.is_dir():
        raise ExportError(f"{flag} {str(path)!r} is a folder; pass a file in it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"{flag} {str(path)!r}: {_os_reason(e, path.parent)}") from None


def _os_reason(e: OSError, path: Path) -> str:
    """One line for an OSError on ``path`` (e.g. a folder path through a file)."""
    blocker = next((p for p in (path, *path.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        return f"{str(blocker)!r} is not a folder"
    return f"{e.strerror or e} ({e.filename or path})"


def _check_backends(text: str | None) -> list[str]:
    from sccosf_ros.backends.compiled import GRAPH_BACKENDS, check_backend, usable

    if text is None:
        return [b for b in GRAPH_BACKENDS if usable(b)]
    return [check_backend(b.strip(), graph_only=True) for b in text.split(",") if b.strip()]


def run(args: argparse.Namespace) -> int:
    from sccosf_ros.backends.onnx_export import DYNAMIC_UNSUPPORTED
    from sccosf_ros.inference import Predictor
    from sccosf_ros.paths import default_checkpoint

    if args.dynamic:
        raise ExportError(DYNAMIC_UNSUPPORTED)
    ckpt = args.checkpoint or default_checkpoint()
    try:
        reference = Predictor.from_checkpoint(ckpt, device="cpu")
        backends = _check_backends(args.check_backends)
        if args.verify and not args.out.is_file():
            raise ExportError(f"--verify: {str(args.out)!r} does not exist")
        if args.json is not None:
            _check_out(args.json, "--json")
        if not args.verify:
            _check_out(args.out, "--out")
            _export(reference, args, _size(args, reference.train_size))
        reports = _parity(reference, args, backends)
    except OSError as e:  # a full disk, a read-only folder
        reason = _os_reason(e, args.out.parent)
        raise ExportError(f"cannot write {str(args.out)!r}: {reason}") from None
    if args.json is not None:
        from sccosf_ros.jsonio import write_json

        report = {"file": str(args.out), "reports": [r.to_dict() for r in reports]}
        try:
            write_json(args.json, report)
        except OSError as e:
            reason = _os_reason(e, args.json.parent)
            raise ExportError(f"--json {str(args.json)!r}: {reason}") from None
    failed = [r for r in reports if not r.passed]
    if failed:
        names = ", ".join(r.backend for r in failed)
        if not args.verify:
            args.out.unlink(missing_ok=True)
        kept = "left as it was" if args.verify else "deleted"
        raise ExportError(
            f"{args.out} disagrees with the torch model on {names} beyond the parity bar "
            f"(labels >= 99.9 %, fused within 2/255): {kept}. If the file was exported "
            "from another checkpoint, pass that one; otherwise report this as a bug."
        )
    return 0


def _export(reference: object, args: argparse.Namespace, size: tuple[int, int]) -> None:
    from sccosf_ros.backends.cache import weights_digest
    from sccosf_ros.backends.onnx_export import export_onnx

    print(f"exporting {size[0]}x{size[1]} (opset {args.opset}) ...", flush=True)
    t0 = time.perf_counter()
    meta = {**reference.export_metadata(), "weights_sha256": weights_digest(reference.model)}
    export_onnx(reference.model, args.out, size, meta, opset=args.opset, dynamic=args.dynamic)
    mib = args.out.stat().st_size / 2**20
    print(f"wrote {args.out} ({mib:.1f} MiB) in {time.perf_counter() - t0:.1f} s", flush=True)


def _parity(reference: object, args: argparse.Namespace, backends: list[str]) -> list:
    from sccosf_ros.backends.onnx_export import read_metadata
    from sccosf_ros.backends.parity import compare, thermal_is_raw
    from sccosf_ros.inference import Predictor
    from sccosf_ros.synthetic.pairs import frame_pairs

    meta = read_metadata(args.out)
    if args.check_pairs < 1 or not backends:
        why = "--check-pairs 0" if args.check_pairs < 1 else "no ONNX backend is installed"
        print(f"parity check skipped ({why})")
        return []
    size = tuple(meta["input_size"])
    pairs = frame_pairs(args.check_pairs, size, thermal_is_raw(reference))
    print(f"parity against torch fp32 on {len(pairs)} generated {size[0]}x{size[1]} pairs:")
    reports = []
    for backend in backends:
        candidate = Predictor.from_onnx(args.out, backend=backend)
        report = compare(reference, candidate, pairs)
        print("  " + report.line(), flush=True)
        reports.append(report)
    if meta.get("weights_sha256") and args.verify:
        from sccosf_ros.backends.cache import weights_digest

        if meta["weights_sha256"] != weights_digest(reference.model):
            print("  note: the file records other weights than this checkpoint's")
    return reports
