"""Shared ConvNeXt encoder (paper §3.2, §4.1.2): one set of weights for RGB and thermal.

Both modalities run through the same timm ConvNeXt (``features_only``: 4 stages, strides
4/8/16/32) in one batched call; thermal is replicated to 3 channels first (paper §4.1.2).
ImageNet normalisation happens here, so the network takes images in [0, 1].
"""

from __future__ import annotations

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PretrainedWeightsError(RuntimeError):
    """timm could not provide pretrained encoder weights (offline, no cache, unknown name)."""


def create_convnext(name: str, pretrained: bool = False) -> nn.Module:
    """timm ``features_only`` backbone; a clear error when pretrained weights are unavailable."""
    import timm

    if not timm.is_model(name):
        raise ValueError(
            f"unknown timm encoder {name!r}; use a ConvNeXt such as convnext_atto, "
            "convnext_femto, convnext_pico, convnext_nano, convnext_tiny, convnext_base"
        )
    try:
        return timm.create_model(name, features_only=True, pretrained=pretrained)
    except Exception as e:  # HF hub / network errors come in many types
        if not pretrained:
            raise
        raise PretrainedWeightsError(
            f"could not load pretrained weights for timm model {name!r} "
            f"({type(e).__name__}: {str(e)[:200]}). Either download them once on a machine "
            'with internet (python -c "import timm; timm.create_model('
            f"'{name}', pretrained=True)\") and copy the Hugging Face cache "
            "(~/.cache/huggingface, or point HF_HOME / HF_HUB_CACHE at it, HF_HUB_OFFLINE=1 "
            "to skip the network), or build the model with pretrained_encoder=False."
        ) from e


class SharedEncoder(nn.Module):
    """(rgb (B,3,H,W), thermal (B,1|3,H,W)) in [0,1] → ([F_i^R], [F_i^I]), i = 1..4."""

    def __init__(self, name: str = "convnext_atto", pretrained: bool = False) -> None:
        super().__init__()
        self.name = name
        self.backbone = create_convnext(name, pretrained)
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
