"""The checkpoint format: save, load (version 2, and version 1 upgraded), rebuild the model.

A checkpoint is one ``torch.save`` file that loads with ``torch.load(weights_only=True)``
(version 2)::

    {"format": "sccosf_ros.checkpoint", "version": 2,
     "model": {"config": {every SCCoSFConfig field: value},   # tuples as lists, None allowed
               "num_classes": int,
               "preset": str | None},                     # the preset it was built from, if known
     "state_dict": {name: tensor},
     "class_names": [str], "palette": [[r, g, b]], "thermal_norm": ThermalNorm dict,
     "dataset": str,
     "train_size": [H, W] | None,             # the crop the trainer used; None if unknown
     "meta": dict,                            # step, miou, created, train_config, ...
     "train_state": dict (optional)}          # optimizer/scheduler state, for --resume

Loading rebuilds ``SCCoSF(SCCoSFConfig(**config), num_classes)`` (with
``pretrained_encoder=False``: the weights come from the file) and loads the state dict strictly.
Version 1 files (``"model": {"preset", "num_classes", "overrides"}``, no ``train_size``; the
shipped demo model is one) still load: ``load_checkpoint`` upgrades them in memory, taking the
training size from ``meta["train_config"]["crop"]`` where the trainer recorded it.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from sccosf_ros.classes import default_palette
from sccosf_ros.errors import SccosfError
from sccosf_ros.thermal import ThermalNorm

FORMAT = "sccosf_ros.checkpoint"
VERSION = 2
_CANNOT_BUILD = "checkpoint describes a model this version cannot build"


class CheckpointError(SccosfError, RuntimeError):
    """A checkpoint that is missing, corrupt or does not match the model it describes."""


def size_or_none(size: Sequence[int] | None, what: str) -> list[int] | None:
    """``[H, W]`` of a positive size, None for None; ValueError naming ``what`` otherwise."""
    if size is None:
        return None
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} must be (H, W) or None, got {size!r}") from e
    if h <= 0 or w <= 0:
        raise ValueError(f"{what} must be positive (H, W), got {size!r}")
    return [h, w]


def _model_spec(model: torch.nn.Module) -> dict[str, Any]:
    """The ``"model"`` entry: full config, num_classes and the preset name when known."""
    from sccosf_ros.model.network import SCCoSFConfig, preset_of

    config = getattr(model, "config", None)
    if not isinstance(config, SCCoSFConfig):
        raise CheckpointError(
            f"{type(model).__name__} has no SCCoSFConfig: only SCCoSF networks are saved"
        )
    preset = (getattr(model, "build_args", None) or {}).get("preset") or preset_of(config)
    return {"config": config.to_dict(), "num_classes": int(model.num_classes), "preset": preset}


def save_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module,
    *,
    class_names: Sequence[str] | None = None,
    palette: Any = None,
    thermal_norm: ThermalNorm | dict | None = None,
    dataset: str = "unknown",
    train_size: Sequence[int] | None = None,
    meta: dict | None = None,
    train_state: dict | None = None,
    half: bool = False,
) -> Path:
    """Write a version-2 checkpoint of an ``SCCoSF`` atomically (temp file + rename).

    ``train_size`` is the (H, W) crop the network was trained at (None: unknown); ``half``
    stores the weights as fp16.
    """
    spec = _model_spec(model)
    num_classes = spec["num_classes"]
    names = list(class_names) if class_names else [f"class_{i}" for i in range(num_classes)]
    if len(names) != num_classes:
        raise CheckpointError(f"{len(names)} class names for a {num_classes}-class model")
    pal = [list(map(int, c)) for c in (palette or default_palette(num_classes))]
    tn = (
        thermal_norm.to_dict()
        if isinstance(thermal_norm, ThermalNorm)
        else (ThermalNorm.from_dict(thermal_norm).to_dict())
    )
    state = {
        k: (v.detach().half() if half and v.is_floating_point() else v.detach()).cpu()
        for k, v in model.state_dict().items()
    }
    ckpt = {
        "format": FORMAT,
        "version": VERSION,
        "model": spec,
        "state_dict": state,
        "class_names": names,
        "palette": pal,
        "thermal_norm": tn,
        "dataset": dataset,
        "train_size": size_or_none(train_size, "train_size"),
        "meta": {"created": time.strftime("%Y-%m-%dT%H:%M:%S"), **(meta or {})},
    }
    if train_state is not None:
        ckpt["train_state"] = train_state
    _atomic_save(ckpt, Path(path))
    return Path(path)


def _atomic_save(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a checkpoint is for sharing
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


_REFUSED_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def _refused_global(error: Exception) -> str | None:
    """The pickled global (``module.name``) that ``weights_only`` loading refused, if that is
    why ``torch.load`` failed."""
    if not isinstance(error, pickle.UnpicklingError):
        return None
    match = _REFUSED_GLOBAL.search(str(error))
    return match.group(1) if match else None


def _not_a_file(p: Path) -> CheckpointError:
    if p.is_dir():
        found = sorted(q.name for q in p.glob("*.pt"))[:4]
        inside = f" (it holds {', '.join(found)})" if found else ""
        return CheckpointError(
            f"checkpoint {str(p)!r} is a directory, not a file{inside}; pass the .pt file, "
            f"e.g. {str(p / (found[0] if found else 'best.pt'))!r}"
        )
    return CheckpointError(
        f"checkpoint {str(p)!r} does not exist; pass a file written by `sccosf train`, "
        "or the shipped demo model (models/sccosf_nano_synthetic.pt)"
    )


_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since torch 1.6
_PICKLE_PROTO = b"\x80"  # the legacy format: a pickle (protocol 2+) stream


def _not_a_torch_file(p: Path) -> CheckpointError | None:
    """A file that is neither a zip nor a pickle cannot be a torch.save file: say so, rather
    than what torch's unpickler stumbles over in it (``KeyError: 101`` for a text file)."""
    try:
        with p.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        return CheckpointError(f"checkpoint {str(p)!r} cannot be read: {e.strerror or e}")
    if head.startswith(_ZIP_MAGIC) or head.startswith(_PICKLE_PROTO):
        return None
    what = "is empty" if not head else f"starts with {head!r}"
    return CheckpointError(
        f"checkpoint {str(p)!r} is not a PyTorch checkpoint: it is neither a zip nor a pickle "
        f"file (it {what}); pass a .pt file written by `sccosf train`"
    )


def _unreadable_reason(e: Exception) -> str:
    """Why torch.load failed, without torch's advice to load with weights_only=False (that
    would run whatever code the file holds)."""
    text = " ".join(str(e).split())
    if "weights_only" in text or "Weights only load failed" in text:
        return "torch.load found no loadable weights in it"
    return f"{type(e).__name__}: {text}"[:200]


def _read(p: Path) -> dict:
    """``torch.load(weights_only=True)`` of an sccosf_ros checkpoint, or a CheckpointError."""
    if not p.is_file():
        raise _not_a_file(p)
    foreign = _not_a_torch_file(p)
    if foreign is not None:
        raise foreign
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:
        name = _refused_global(e)
        if name is not None:
            raise CheckpointError(
                f"checkpoint {str(p)!r} was refused: it contains code (the pickled global "
                f"{name}), and sccosf_ros only loads weights and plain data (weights_only). "
                "A file from `sccosf train` never holds code; re-export a trusted one with "
                "sccosf_ros.inference.save_checkpoint"
            ) from e
        reason = _unreadable_reason(e)
        raise CheckpointError(
            f"checkpoint {str(p)!r} could not be read ({reason}); it is corrupt, truncated "
            "or not a torch file"
        ) from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(
            f"{str(p)!r} is not an sccosf_ros checkpoint (no 'format': {FORMAT!r}); "
            "checkpoints come from `sccosf train` or sccosf_ros.inference.save_checkpoint"
        )
    return ckpt


def _upgrade_v1(ckpt: dict, where: str) -> dict:
    """A version-1 checkpoint in the version-2 layout (preset + overrides → full config)."""
    from sccosf_ros.model.network import PRESETS

    spec = ckpt["model"]
    try:
        config = dataclasses.replace(PRESETS[spec["preset"]], **dict(spec.get("overrides", {})))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{where} (version 1): {_CANNOT_BUILD}: {e!r}") from e
    crop = ((ckpt.get("meta") or {}).get("train_config") or {}).get("crop")
    try:
        train_size = size_or_none(crop, "train_config.crop")
    except ValueError:
        train_size = None
    return {
        **ckpt,
        "version": VERSION,
        "upgraded_from": 1,
        "model": {
            "config": config.to_dict(),
            "num_classes": int(spec["num_classes"]),
            "preset": spec["preset"],
        },
        "train_size": train_size,
    }


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load and validate a checkpoint (``weights_only=True``), in the version-2 layout whatever
    version the file has; CheckpointError says what to fix."""
    p = Path(path)
    ckpt = _read(p)
    version = int(ckpt.get("version", 0))
    if version > VERSION:
        raise CheckpointError(
            f"{str(p)!r} has checkpoint version {ckpt['version']}, newer than this "
            f"sccosf_ros understands ({VERSION}); upgrade sccosf_ros"
        )
    for key in ("model", "state_dict", "class_names", "palette"):
        if key not in ckpt:
            raise CheckpointError(f"checkpoint {str(p)!r} lacks {key!r}")
    if version < 2:
        ckpt = _upgrade_v1(ckpt, repr(str(p)))
    if not {"config", "num_classes"} <= set(ckpt["model"]):
        raise CheckpointError(f"checkpoint {str(p)!r}: 'model' lacks 'config' or 'num_classes'")
    return ckpt


def checkpoint_config(ckpt: dict) -> tuple[Any, int]:
    """``(SCCoSFConfig, num_classes)`` of a loaded checkpoint; ``pretrained_encoder`` off."""
    from sccosf_ros.model.network import SCCoSFConfig

    spec = ckpt["model"]
    fields = dict(spec["config"])
    fields["pretrained_encoder"] = False  # the weights come from the checkpoint
    try:
        return SCCoSFConfig(**fields), int(spec["num_classes"])
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{_CANNOT_BUILD}: {e}") from e


def weights_mismatch(model: torch.nn.Module, state_dict: dict) -> str:
    """What differs between a network's parameters and a state dict, in one line: the counts of
    missing / unexpected / reshaped keys and the first of each (torch's own text lists them
    all, over many lines)."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    reshaped = [
        k
        for k in own
        if k in state_dict and tuple(own[k].shape) != tuple(getattr(state_dict[k], "shape", ()))
    ]
    counts = f"{len(missing)} missing / {len(unexpected)} unexpected keys"
    examples = []
    if missing:
        examples.append(f"missing {missing[0]!r}")
    if unexpected:
        examples.append(f"unexpected {unexpected[0]!r}")
    if reshaped:
        k = reshaped[0]
        counts += f", {len(reshaped)} of another shape"
        file_shape = "x".join(map(str, state_dict[k].shape))
        net_shape = "x".join(map(str, own[k].shape))
        examples.append(f"{k!r} is {file_shape} in the file, {net_shape} in the network")
    return f"{counts} (e.g. {'; '.join(examples)})" if examples else counts


def trained_with(ckpt: dict) -> str:
    """How a checkpoint says it was made: preset, dataset, recipe (what is recorded)."""
    train = (ckpt.get("meta") or {}).get("train_config") or {}
    parts = [f"preset {ckpt['model'].get('preset') or train.get('preset')!r}"]
    parts += [f"{k} {train[k]!r}" for k in ("dataset", "recipe", "ablation") if train.get(k)]
    if train.get("model_overrides"):
        parts.append(f"overrides {train['model_overrides']}")
    return ", ".join(parts)


def model_from_checkpoint(ckpt: dict) -> torch.nn.Module:
    """Rebuild the network a loaded checkpoint describes and load its weights (strict)."""
    from sccosf_ros.model.network import PRESETS, SCCoSF

    config, num_classes = checkpoint_config(ckpt)
    try:
        model = SCCoSF(config, num_classes=num_classes)
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"{_CANNOT_BUILD}: {e}") from e
    preset = ckpt["model"].get("preset")
    if preset in PRESETS:  # how build_model would make it: the preset and what differs
        base = PRESETS[preset].to_dict()
        overrides = {k: v for k, v in config.to_dict().items() if base[k] != v}
        model.build_args = {"preset": preset, "num_classes": num_classes, "overrides": overrides}
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except RuntimeError as e:
        raise CheckpointError(
            "the checkpoint's weights are of a different network than the one its config "
            f"describes ({trained_with(ckpt)}): {weights_mismatch(model, ckpt['state_dict'])}; "
            "the file was assembled by hand or damaged: use one written by `sccosf train`"
        ) from e
    return model
