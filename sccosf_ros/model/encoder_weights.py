"""ConvNeXt ImageNet weights from a local file for the shared encoder (``--pretrained FILE``).

For machines without internet (paper §4.1.2: the encoder starts from ImageNet weights). The file
is the *classification* checkpoint of the same ConvNeXt: timm's ``model.safetensors`` /
``pytorch_model.bin`` from the Hugging Face hub, or Facebook's original
``convnext_<size>_1k_224.pth``. It is read safely (safetensors, or ``torch.load`` with
``weights_only``), mapped to timm's names with timm's own ConvNeXt converter, checked against the
encoder (every encoder weight present, same shape: a file of another architecture or size is one
line naming the first missing or mismatched keys) and copied into timm's ``features_only``
backbone. The file's classifier head is not used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sccosf_ros.errors import SccosfError

WEIGHT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")
_WRAPPERS = ("state_dict", "model", "module")  # containers training scripts save weights in


class EncoderWeightsError(SccosfError, ValueError):
    """A weights file that is missing, unreadable or for another network."""


def is_weights_file(value: Any) -> bool:
    """True when a ``pretrained_encoder`` value names a file rather than a timm tag."""
    if not isinstance(value, str) or not value:
        return False
    return value.lower().endswith(WEIGHT_SUFFIXES) or os.sep in value or Path(value).is_file()


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` or ``torch.save`` file (unwrapping ``{"model": ...}``)."""
    p = Path(path)
    if not p.is_file():
        raise EncoderWeightsError(f"encoder weights file {str(p)!r} does not exist")
    try:
        if p.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            data: Any = load_file(str(p), device="cpu")
        else:
            data = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # safetensors / unpickler errors come in many types
        reason = " ".join(f"{type(e).__name__}: {e}".split())[:160]
        raise EncoderWeightsError(
            f"encoder weights file {str(p)!r} could not be read safely ({reason}); pass a "
            ".safetensors file or a torch .pth/.bin holding only tensors"
        ) from e
    for key in _WRAPPERS:
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
    tensors = {k: v for k, v in data.items() if isinstance(v, torch.Tensor)} if data else {}
    if not isinstance(data, dict) or not tensors:
        raise EncoderWeightsError(f"encoder weights file {str(p)!r} holds no named tensors")
    return tensors


def _timm_names(state: dict[str, torch.Tensor], full: nn.Module) -> dict[str, torch.Tensor]:
    """The file's weights under timm's ConvNeXt names (Facebook's original names converted)."""
    from timm.models.convnext import checkpoint_filter_fn

    try:
        return checkpoint_filter_fn(dict(state), full)
    except (KeyError, RuntimeError, ValueError):  # not a ConvNeXt file: compared as it is
        return state


def _full_key(key: str, full_keys: set[str]) -> str:
    """A ``features_only`` key (``stages_0.blocks...``) under the classifier's name
    (``stages.0.blocks...``): timm flattens the top-level sequential modules with ``_``."""
    if key in full_keys:
        return key
    first, _, rest = key.partition(".")
    return first.replace("_", ".", 1) + "." + rest


def _shape(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape))


def _mismatch(own: dict, weights: dict, where: dict[str, str]) -> str | None:
    missing = [where[k] for k in own if where[k] not in weights]
    reshaped = [k for k in own if where[k] in weights and weights[where[k]].shape != own[k].shape]
    if not missing and not reshaped:
        return None
    parts = []
    if missing:
        parts.append(
            f"{len(missing)} of {len(own)} encoder weights missing (first: "
            f"{', '.join(repr(k) for k in missing[:3])})"
        )
    if reshaped:
        k = reshaped[0]
        parts.append(
            f"{len(reshaped)} of another shape (first: {where[k]!r} is "
            f"{_shape(weights[where[k]])} in the file, {_shape(own[k])} in the encoder)"
        )
    return "; ".join(parts)


def load_encoder_file(backbone: nn.Module, name: str, path: str | os.PathLike) -> None:
    """Copy the ImageNet weights of ConvNeXt ``name`` from ``path`` into a timm
    ``features_only`` ``backbone``; EncoderWeightsError names what does not fit."""
    import timm

    full = timm.create_model(name, pretrained=False)  # the converter needs the named shapes
    weights = _timm_names(read_state_dict(path), full)
    own = backbone.state_dict()
    full_keys = set(full.state_dict())
    where = {k: _full_key(k, full_keys) for k in own}
    problem = _mismatch(own, weights, where)
    if problem:
        raise EncoderWeightsError(
            f"{str(path)!r} is not a {name} checkpoint: {problem}; pass the ImageNet weights "
            f"of {name} (timm's model.safetensors or Facebook's .pth of that size)"
        )
    backbone.load_state_dict({k: weights[where[k]] for k in own}, strict=True)
