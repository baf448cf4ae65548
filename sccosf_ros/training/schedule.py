"""Learning-rate schedule of the paper (§4.1): polynomial decay (power 0.9) with linear warm-up.

``lr(step) = base_lr · poly(step) · warm(step)`` where

* ``poly(step) = (1 - step / max_iters) ** power`` (floored at ``min_lr``), the usual
  segmentation schedule (SegFormer, CMX, Sigma), and
* ``warm(step)`` rises linearly from ``warmup_ratio`` to 1 over the first ``warmup_iters`` steps
  (mmseg's "linear" warm-up applied on top of the regular schedule).

The factor is a closed-form function of the step, so the scheduler's state is just its step
counter: resuming from a checkpoint restores the exact learning rate.
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LRScheduler


def poly_warmup_factor(
    step: int,
    max_iters: int,
    *,
    power: float = 0.9,
    warmup_iters: int = 0,
    warmup_ratio: float = 1e-6,
    min_lr_ratio: float = 0.0,
) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based, the step about to run)."""
    if max_iters <= 0:
        raise ValueError(f"max_iters must be positive, got {max_iters}")
    progress = min(max(step, 0), max_iters) / max_iters
    factor = max((1.0 - progress) ** power, min_lr_ratio)
    if warmup_iters > 0 and step < warmup_iters:
        k = (1.0 - step / warmup_iters) * (1.0 - warmup_ratio)
        factor *= 1.0 - k
    return factor


class PolyWarmupLR(LRScheduler):
    """Scheduler around :func:`poly_warmup_factor`; call ``.step()`` once per iteration.

    Its ``state_dict`` holds plain numbers only, so it saves inside a ``weights_only`` checkpoint.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        max_iters: int,
        *,
        power: float = 0.9,
        warmup_iters: int = 0,
        warmup_ratio: float = 1e-6,
        min_lr_ratio: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if max_iters <= 0:
            raise ValueError(f"max_iters must be positive, got {max_iters}")
        if warmup_iters < 0:
            raise ValueError(f"warmup_iters must be >= 0, got {warmup_iters}")
        self.max_iters = int(max_iters)
        self.power = float(power)
        self.warmup_iters = int(warmup_iters)
        self.warmup_ratio = float(warmup_ratio)
        self.min_lr_ratio = float(min_lr_ratio)
        super().__init__(optimizer, last_epoch)

    def factor(self, step: int) -> float:
        return poly_warmup_factor(
            step,
            self.max_iters,
            power=self.power,
            warmup_iters=self.warmup_iters,
            warmup_ratio=self.warmup_ratio,
            min_lr_ratio=self.min_lr_ratio,
        )

    def get_lr(self) -> list[float]:  # ``last_epoch`` counts optimizer steps here
        f = self.factor(self.last_epoch)
        return [base * f for base in self.base_lrs]

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()
