"""AdamW parameter groups: weight decay on weights, none on the parameters whose role forbids it.

As in Mamba, VMamba, ConvNeXt and the segmentation trainers the paper follows, weight decay (0.01)
applies to the weights of convolutions, linear layers and the S6 projections only. Excluded, by
role (not by tensor rank — Sc-LRB's per-unit LayerNorm scales are 3-D and the S6 Δ bias is 2-D):

* ``norm``: every parameter of a normalisation layer (BatchNorm, LayerNorm incl. timm's
  LayerNorm2d, GroupNorm, Sc-LRB's PairLayerNorm);
* ``bias``: every bias (``bias``, and names ending in ``_bias`` such as S6's ``dt_proj_bias``);
* ``ssm``: the state-space parameters ``A_log`` and ``D`` (and anything flagged
  ``_no_weight_decay``);
* ``layer_scale``: ConvNeXt's per-channel layer scale ``gamma`` (timm excludes it too).
"""

from __future__ import annotations

from torch import nn
from torch.nn.modules.batchnorm import _NormBase

from sccosf_ros.model.sc_lrb import PairLayerNorm

NO_DECAY_ROLES = ("norm", "bias", "ssm", "layer_scale")
NORM_TYPES: tuple[type[nn.Module], ...] = (
    _NormBase,  # BatchNorm*d, SyncBatchNorm, InstanceNorm*d
    nn.LayerNorm,  # timm's LayerNorm2d is a subclass
    nn.GroupNorm,
    nn.LocalResponseNorm,
    PairLayerNorm,
)


def parameter_role(leaf: str, owner: nn.Module, param: nn.Parameter | None = None) -> str:
    """``weight`` (decayed) or one of NO_DECAY_ROLES for the parameter ``owner.<leaf>``."""
    if isinstance(owner, NORM_TYPES):
        return "norm"
    if leaf == "bias" or leaf.endswith("_bias"):
        return "bias"
    if leaf in ("A_log", "D") or getattr(param, "_no_weight_decay", False):
        return "ssm"
    if leaf == "gamma":
        return "layer_scale"
    return "weight"


def parameter_roles(model: nn.Module) -> dict[str, str]:
    """Every trainable parameter's name → role."""
    modules = dict(model.named_modules())
    roles = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        owner_name, _, leaf = name.rpartition(".")
        roles[name] = parameter_role(leaf, modules[owner_name], p)
    return roles


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: ``weight`` parameters with ``weight_decay``, the rest with 0."""
    roles = parameter_roles(model)
    params = dict(model.named_parameters())
    decay = [params[n] for n, r in roles.items() if r == "weight"]
    no_decay = [params[n] for n, r in roles.items() if r != "weight"]
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
