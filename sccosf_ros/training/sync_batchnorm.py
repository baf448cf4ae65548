"""SyncBatchNorm for DDP training on GPUs *and* on CPU (Gloo).

Under DDP each process sees a slice of the global batch; plain BatchNorm normalises with that
slice's statistics, SyncBatchNorm with the whole global batch's (DCR and ReAW use BatchNorm, and
MRFS trains with SyncBatchNorm). On GPUs this is PyTorch's ``nn.SyncBatchNorm``. That one runs
CUDA kernels only, and DDP refuses it (and any subclass) on CPU, so for CPU processes (Gloo)
``CpuSyncBatchNorm`` does the same arithmetic with differentiable all-reduces
(``torch.distributed.nn.functional.all_reduce``): global mean, then global biased variance for
normalising, unbiased variance for the running statistics, exactly as BatchNorm over the
concatenated batch. Both keep BatchNorm's state dict, so checkpoints load into the plain
network.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn


def _all_reduce(t: torch.Tensor) -> torch.Tensor:
    from torch.distributed.nn.functional import all_reduce  # differentiable

    return all_reduce(t, op=dist.ReduceOp.SUM)


class CpuSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm over the global batch of CPU processes (any input (N, C, ...))."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {x.dim()}D input)")

    def _needs_cpu_sync(self, x: torch.Tensor) -> bool:
        return (
            x.device.type == "cpu"
            and self.training
            and dist.is_available()
            and dist.is_initialized()
            and dist.get_world_size() > 1
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._needs_cpu_sync(x):
            return super().forward(x)
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        n_local = torch.tensor([float(x.numel() // x.shape[1])])
        stats = _all_reduce(torch.cat([x.sum(dims), n_local.to(x.dtype)]))
        count = stats[-1]
        mean = stats[:-1] / count
        centred = x - mean.view(shape)
        var = _all_reduce((centred * centred).sum(dims)) / count  # biased: for normalising
        y = centred * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = (
                    1.0 / float(self.num_batches_tracked)
                    if self.momentum is None
                    else self.momentum
                )
                unbiased = var.detach() * count / (count - 1).clamp(min=1.0)
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(unbiased, momentum)
        return y


def convert_sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """Every ``BatchNorm*d`` in ``module`` → synchronised BatchNorm for ``device``'s processes
    (``nn.SyncBatchNorm`` on GPUs, ``CpuSyncBatchNorm`` on CPU), same parameters and
    statistics. Call before moving the module to the device; returns the module."""
    if device.type != "cpu":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return _convert_cpu(module)


def _convert_cpu(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(
        module, CpuSyncBatchNorm
    ):
        sync = CpuSyncBatchNorm(
            module.num_features,
            module.eps,
            module.momentum,
            module.affine,
            module.track_running_stats,
        )
        if module.affine:
            with torch.no_grad():
                sync.weight.copy_(module.weight)
                sync.bias.copy_(module.bias)
            sync.weight.requires_grad_(module.weight.requires_grad)
            sync.bias.requires_grad_(module.bias.requires_grad)
        if module.track_running_stats:
            sync.running_mean = module.running_mean
            sync.running_var = module.running_var
            sync.num_batches_tracked = module.num_batches_tracked
        sync.train(module.training)
        return sync
    for name, child in module.named_children():
        module.add_module(name, _convert_cpu(child))
    return module
