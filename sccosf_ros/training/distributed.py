"""Multi-process training set-up for ``torchrun`` (one process per GPU, on one or many nodes).

``torchrun`` exports ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address; a plain
``python``/``sccosf train`` run has none of them and trains as a single process. The backend is
NCCL on CUDA and Gloo on CPU (the CPU path is what the tests exercise).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> DistInfo:
        try:
            world = int(os.environ.get("WORLD_SIZE", "1"))
            rank = int(os.environ.get("RANK", "0"))
            local = int(os.environ.get("LOCAL_RANK", str(rank)))
        except ValueError as e:
            raise RuntimeError(
                f"malformed torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK): {e}"
            ) from e
        if world < 1 or not 0 <= rank < world:
            raise RuntimeError(f"bad torchrun environment: RANK={rank} WORLD_SIZE={world}")
        return cls(rank=rank, world_size=world, local_rank=local)


def init_distributed(info: DistInfo, device: torch.device) -> None:
    """Join the process group (no-op for a single process); NCCL on CUDA, Gloo on CPU."""
    if not info.enabled or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if backend == "nccl" and not dist.is_nccl_available():
        backend = "gloo"
    kwargs = {"device_id": device} if device.type == "cuda" else {}
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size, **kwargs)


def shutdown_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over all processes (identity without a process group)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def barrier() -> None:
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()


T = TypeVar("T")


def broadcast_object(obj: T, src: int = 0) -> T:
    """Send a picklable object from ``src`` to every process (identity without a group)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        box = [obj]
        dist.broadcast_object_list(box, src=src)
        return box[0]
    return obj
