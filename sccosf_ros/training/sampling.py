"""Which samples each training step sees, on one process or many, reproducibly.

* ``StepBatchSampler``: step ``s`` is global batch ``s % iters_per_epoch`` of epoch
  ``s // iters_per_epoch``; epoch ``e`` is one permutation of the training set (the one
  ``DistributedSampler(shuffle=True, seed)`` draws for a single replica), cut into global batches
  of ``global_batch`` images (the incomplete last batch is dropped). Process ``r`` of ``W`` takes
  the ``r``-th slice of every global batch, so the global batch of a step is the same images
  whatever the number of processes: a 2-GPU run follows the 1-GPU run step for step.
* ``SeededSamples``: each sample's augmentation is drawn from its own seed (seed, epoch, index),
  independent of worker count, worker order, world size and restarts.
* A sample that fails to load does not raise inside the loader worker (whose traceback would
  reach the user): it comes back as ``{LOAD_ERROR: "one line naming the file"}``, the batch
  carries it, and the trainer stops cleanly.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from sccosf_ros.data.errors import load_error_message

LOAD_ERROR = "load_error"


def sample_seed(seed: int, epoch: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0])


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed python/numpy/torch RNGs for one sample, restoring the caller's states afterwards."""
    py, npy, th = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(npy)
        torch.set_rng_state(th)


class SeededSamples(Dataset):
    """Index with ``(epoch, i)``: sample ``i`` with augmentation drawn from its own seed."""

    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.dataset = dataset
        self.seed = int(seed)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        epoch, index = key
        try:
            with seeded(sample_seed(self.seed, epoch, index)):
                return self.dataset[index]
        except (ValueError, OSError, cv2.error) as e:  # a damaged file: report, don't raise
            return {LOAD_ERROR: load_error_message(self.dataset, index, e)}


def epoch_order(n: int, seed: int, epoch: int, shuffle: bool = True) -> list[int]:
    """The permutation of epoch ``epoch`` (DistributedSampler's for one replica)."""
    if not shuffle:
        return list(range(n))
    g = torch.Generator()
    g.manual_seed(seed + epoch)
    return torch.randperm(n, generator=g).tolist()


class StepBatchSampler(Sampler):
    """This process's share of the global batches for steps ``start_step .. max_iters-1``.

    Yields lists of ``(epoch, i)`` of length ``global_batch // world_size``.
    """

    def __init__(
        self,
        n: int,
        global_batch: int,
        *,
        rank: int,
        world_size: int,
        seed: int,
        start_step: int,
        max_iters: int,
        shuffle: bool = True,
    ) -> None:
        if global_batch % world_size:
            raise ValueError(f"global batch {global_batch} not divisible by {world_size}")
        self.n, self.global_batch = n, global_batch
        self.local_batch = global_batch // world_size
        self.rank, self.world_size, self.seed, self.shuffle = rank, world_size, seed, shuffle
        self.start_step, self.max_iters = start_step, max_iters
        self.iters_per_epoch = n // global_batch

    def __len__(self) -> int:
        return max(self.max_iters - self.start_step, 0)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start_step
        lo = self.rank * self.local_batch
        while step < self.max_iters:
            epoch, pos = divmod(step, self.iters_per_epoch)
            order = epoch_order(self.n, self.seed, epoch, self.shuffle)
            for b in range(pos, self.iters_per_epoch):
                if step >= self.max_iters:
                    return
                start = b * self.global_batch + lo
                yield [(epoch, i) for i in order[start : start + self.local_batch]]
                step += 1


def collate(samples: list[dict]) -> dict:
    """Stack a list of dataset samples (all the same size) into a batch; a batch with a sample
    that failed to load is ``{LOAD_ERROR: message}``."""
    for s in samples:
        if LOAD_ERROR in s:
            return {LOAD_ERROR: s[LOAD_ERROR]}
    out = {
        "rgb": torch.stack([s["rgb"] for s in samples]),
        "thermal": torch.stack([s["thermal"] for s in samples]),
        "label": torch.stack([s["label"] for s in samples]),
        "name": [s["name"] for s in samples],
        "night": [s.get("night") for s in samples],
    }
    if all("valid" in s for s in samples):
        out["valid"] = torch.stack([s["valid"] for s in samples])
    return out


def to_device(batch: dict, device: torch.device) -> tuple[torch.Tensor, ...]:
    """rgb, thermal, label and the valid mask (all True when the batch has none) on device."""
    nb = device.type == "cuda"
    label = batch["label"].to(device, non_blocking=nb)
    valid = batch.get("valid")
    return (
        batch["rgb"].to(device, non_blocking=nb),
        batch["thermal"].to(device, non_blocking=nb),
        label,
        torch.ones_like(label, dtype=torch.bool)
        if valid is None
        else valid.to(device, non_blocking=nb),
    )
