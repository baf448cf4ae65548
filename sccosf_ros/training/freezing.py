"""Frozen parts of the network while fine-tuning: ``--freeze-encoder`` and ``--fusion-only``.

A frozen part gets ``requires_grad=False`` (so the optimizer never sees it: no update, no weight
decay) and stays in eval mode while the rest trains: BatchNorm keeps its running statistics and
stochastic depth is off there. ``--fusion-only`` freezes the segmentation side (ICRM) and turns
its loss off, so the encoder, the Sc-CFM modules and ReAW learn the fused image alone (unlabelled
recordings).
"""

from __future__ import annotations

from torch import nn

# which part each freeze switch holds still: (TrainConfig field, SCCoSF attribute)
FROZEN_PARTS = (("freeze_encoder", "encoder"), ("fusion_only", "seg_head"))


def freeze_parts(model: nn.Module, switches: dict[str, bool]) -> list[nn.Module]:
    """Freeze the parts whose switch is on; returns the frozen modules (kept in eval mode)."""
    frozen = []
    for switch, attr in FROZEN_PARTS:
        part = getattr(model, attr, None)
        if switches.get(switch) and part is not None:
            part.requires_grad_(False)
            part.eval()
            frozen.append(part)
    return frozen


def set_train_mode(model: nn.Module, training: bool, frozen: list[nn.Module]) -> None:
    """``model.train(training)``, the frozen parts staying in eval mode."""
    model.train(training)
    for part in frozen:
        part.eval()
