"""``--init-from CKPT``: fine-tune from an SC-CoSF checkpoint (not ``--resume``: fresh optimizer,
schedule and step 0).

The shared ConvNeXt encoder, the Sc-CFM fusion module of each stage and the ReAW fusion head keep
the checkpoint's weights, and so does ICRM when the class set is the checkpoint's. When the
dataset's class set differs (other names or another count), the parameters whose shape depends on
the number of classes (ICRM's last classifier layer; found by building the network for another
class count) start fresh, and one line says which. The network's config (preset and overrides)
comes from the checkpoint unless the run names a preset; a preset whose architecture differs from
the checkpoint's cannot be reconciled and is one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from sccosf_ros.inference import (
    CheckpointError,
    checkpoint_config,
    load_checkpoint,
    trained_with,
    weights_mismatch,
)
from sccosf_ros.training.errors import TrainError

_SHOWN_NAMES = 4  # class names shown in the info line


def read_init_checkpoint(path: str | Path) -> dict:
    """The checkpoint (loaded with weights_only); TrainError naming ``--init-from``."""
    try:
        return load_checkpoint(path)
    except CheckpointError as e:
        raise TrainError(f"--init-from: {e}") from e


def checkpoint_model_settings(path: str | Path) -> tuple[str, dict[str, Any]]:
    """``(preset, overrides)`` for ``build_model`` that rebuild the checkpoint's network."""
    from sccosf_ros.model.network import PRESETS, RUNTIME_FIELDS

    ckpt = read_init_checkpoint(path)
    try:
        config, _ = checkpoint_config(ckpt)
    except CheckpointError as e:
        raise TrainError(f"--init-from {path}: {e}") from e
    preset = ckpt["model"].get("preset")
    if preset not in PRESETS:  # a hand-built config: every field that differs from nano
        preset = "nano"
    base = PRESETS[preset].to_dict()
    overrides = {
        k: v for k, v in config.to_dict().items() if k not in RUNTIME_FIELDS and base[k] != v
    }
    return preset, overrides


def class_dependent_keys(model: torch.nn.Module) -> list[str]:
    """The state-dict keys whose shape depends on the number of classes (ICRM's classifier
    output), found by building the same network for one class more on the meta device."""
    from sccosf_ros.model.network import SCCoSF

    with torch.device("meta"):
        other = SCCoSF(model.config, num_classes=model.num_classes + 1)
    own = model.state_dict()
    return [k for k, v in other.state_dict().items() if k in own and own[k].shape != v.shape]


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN_NAMES])
    return f"{len(names)} classes ({shown}{', ...' if len(names) > _SHOWN_NAMES else ''})"


def _check_same_network(model: torch.nn.Module, ckpt: dict, path: str) -> None:
    from sccosf_ros.model.network import config_differences

    try:
        saved, _ = checkpoint_config(ckpt)
    except CheckpointError as e:
        raise TrainError(f"--init-from {path}: {e}") from e
    diff = config_differences(saved, model.config)
    if diff:
        raise TrainError(
            f"--init-from {path} holds another network ({trained_with(ckpt)}) than this run "
            f"builds: {'; '.join(diff[:3])}{'; ...' if len(diff) > 3 else ''}; leave out "
            "--preset (the checkpoint's network is then used) or start from a checkpoint of "
            "that preset"
        )


def init_from_checkpoint(
    model: torch.nn.Module, path: str | Path, class_names: list[str], *, fusion_only: bool = False
) -> str:
    """Load ``path``'s weights into ``model`` (built for ``class_names``); returns the info
    line saying what was kept and what was re-initialised (``fusion_only``: that it stays so)."""
    path = str(path)
    ckpt = read_init_checkpoint(path)
    _check_same_network(model, ckpt, path)
    state = dict(ckpt["state_dict"])
    theirs = [str(n) for n in ckpt["class_names"]]
    fresh: list[str] = []
    if theirs != list(class_names):
        fresh = class_dependent_keys(model)
        for k in fresh:
            state.pop(k, None)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as e:
        raise TrainError(
            f"--init-from {path}: its weights do not fit: {weights_mismatch(model, state)}"
        ) from e
    missing = [k for k in missing if k not in fresh]
    if missing or unexpected:
        raise TrainError(
            f"--init-from {path}: its weights do not fit: {weights_mismatch(model, state)}"
        )
    kept = "encoder, Sc-CFM fusion modules, ReAW fusion head"
    if not fresh:
        return f"init-from {path}: all weights loaded ({kept}, ICRM; same {_names(theirs)})"
    return (
        f"init-from {path}: {kept} and the rest of ICRM loaded; the class set differs "
        f"(checkpoint: {_names(theirs)}; dataset: {_names(list(class_names))}), so "
        f"{', '.join(fresh)} start fresh"
        + (" and stay untrained (--fusion-only freezes them)" if fusion_only else "")
    )
