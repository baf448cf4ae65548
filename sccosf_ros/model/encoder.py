"""Shared ConvNeXt encoder (paper §3.2, §4.1.2): one set of weights for RGB and thermal.

Both modalities run through the same timm ConvNeXt (``features_only``: 4 stages, strides
4/8/16/32) in one batched call; thermal is replicated to 3 channels first (paper §4.1.2).
ImageNet normalisation happens here, so the network takes images in [0, 1].

Pretrained weights come from timm, named ``<model>.<tag>``. For ConvNeXt-B the plain name
``convnext_base`` resolves to ``fb_in22k_ft_in1k`` (ImageNet-22k pre-training, fine-tuned on
1k); ``fb_in1k`` is ImageNet-1k only, which is what the RGB-T peers start from. Choose with
``pretrained_encoder``: True (timm's default tag), ``"in1k"``, ``"in22k"`` or an explicit tag
(see ``pretrained_tag``), or a local weights file (``encoder_weights.py``). ``drop_path_rate``
is timm's stochastic depth over the ConvNeXt blocks (0 in the presets, as in the paper).
"""

from __future__ import annotations

import torch
from torch import nn

from sccosf_ros.errors import SccosfError
from sccosf_ros.model.encoder_weights import (
    EncoderWeightsError,
    is_weights_file,
    load_encoder_file,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PretrainedWeightsError(SccosfError, RuntimeError):
    """timm could not provide pretrained encoder weights (offline, no cache, unknown name)."""


# Pre-training data a tag comes from; the first tag of the model's list that matches is used.
_FOREIGN = ("in22k", "in12k", "clip", "laion", "dino", "lvd", "eupe")


def _is_in1k_only(tag: str) -> bool:
    return tag.endswith("in1k") and not any(k in tag for k in _FOREIGN)


def _is_in22k_ft_in1k(tag: str) -> bool:
    return tag.startswith(("fb_in22k", "in22k")) and tag.endswith("in1k")


def pretrained_tag(name: str, source: str) -> str:
    """timm pretrained tag of encoder ``name`` for ``source``: ``in1k`` (ImageNet-1k only),
    ``in22k`` (ImageNet-22k pre-training fine-tuned on 1k, 224 px) or an explicit tag.

    ``convnext_base``: in1k → ``fb_in1k``, in22k → ``fb_in22k_ft_in1k``; ``convnext_atto``:
    in1k → ``d2_in1k`` (no 22k weights exist). ValueError if there is none.
    """
    import timm

    tags = [m.split(".", 1)[1] for m in timm.list_pretrained(f"{name}.*")]
    if source in tags:
        return source
    pick = {"in1k": _is_in1k_only, "in22k": _is_in22k_ft_in1k}.get(source)
    if pick is None:
        raise ValueError(
            f"unknown pretrained weights {source!r} for {name}: use in1k, in22k or one of "
            f"timm's tags: {', '.join(tags) or 'none'}"
        )
    found = [t for t in tags if pick(t)]
    if not found:
        raise ValueError(
            f"timm has no {source} weights for {name} (tags: {', '.join(tags) or 'none'})"
        )
    return found[0]


def timm_model_name(name: str, pretrained: bool | str) -> str:
    """What ``timm.create_model`` is asked for: ``name`` or ``name.tag`` (a file: ``name``)."""
    if isinstance(pretrained, str) and pretrained and not is_weights_file(pretrained):
        return f"{name}.{pretrained_tag(name, pretrained)}"
    return name


def create_convnext(
    name: str, pretrained: bool | str = False, drop_path_rate: float = 0.0
) -> nn.Module:
    """timm ``features_only`` backbone; ``pretrained``: False, True (timm's default tag),
    ``"in1k"``, ``"in22k"``, a tag or a weights file. A one-line error when the weights are
    unavailable."""
    import timm

    if not timm.is_model(name):
        raise ValueError(
            f"unknown timm encoder {name!r}; use a ConvNeXt such as convnext_atto, "
            "convnext_femto, convnext_pico, convnext_nano, convnext_tiny, convnext_base"
        )
    rate = float(drop_path_rate)
    if is_weights_file(pretrained):
        backbone = timm.create_model(name, features_only=True, drop_path_rate=rate)
        try:
            load_encoder_file(backbone, name, str(pretrained))
        except EncoderWeightsError as e:
            raise PretrainedWeightsError(str(e)) from e
        return backbone
    full = timm_model_name(name, pretrained)
    try:
        return timm.create_model(
            full, features_only=True, pretrained=bool(pretrained), drop_path_rate=rate
        )
    except Exception as e:  # HF hub / network errors come in many types
        if not pretrained:
            raise
        reason = " ".join(f"{type(e).__name__}: {e}".split())[:200]  # one line
        raise PretrainedWeightsError(
            f"could not load pretrained weights for timm model {full!r} ({reason}). Either "
            'download them once on a machine with internet (python -c "import timm; '
            f"timm.create_model('{full}', pretrained=True)\") and copy the Hugging Face "
            "cache (~/.cache/huggingface, or point HF_HOME / HF_HUB_CACHE at it, "
            "HF_HUB_OFFLINE=1 to skip the network), or train without pretrained weights "
            "(pretrained_encoder=False; sccosf train --pretrained none)."
        ) from e


class SharedEncoder(nn.Module):
    """(rgb (B,3,H,W), thermal (B,1|3,H,W)) in [0,1] → ([F_i^R], [F_i^I]), i = 1..4."""

    def __init__(
        self, name: str = "convnext_atto", pretrained: bool | str = False, drop_path: float = 0.0
    ) -> None:
        super().__init__()
        self.name = name
        self.backbone = create_convnext(name, pretrained, drop_path)
        self.channels: list[int] = list(self.backbone.feature_info.channels())
        self.reductions: list[int] = list(self.backbone.feature_info.reduction())
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)

    def forward(
        self, rgb: torch.Tensor, thermal: torch.Tensor
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        if thermal.shape[1] == 1:
            thermal = thermal.expand(-1, 3, -1, -1)
        x = torch.cat((rgb, thermal), dim=0).sub_(self.mean).div_(self.std)  # (2B,3,H,W)
        feats = self.backbone(x)
        b = rgb.shape[0]
        return [f[:b] for f in feats], [f[b:] for f in feats]
