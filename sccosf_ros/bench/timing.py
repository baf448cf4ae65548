"""How the benchmarks time and summarise: a synchronised wall clock, warm-up handling and
percentiles, the same for every target and the GPU check.

CUDA work is asynchronous: a timed call is bracketed by ``torch.cuda.synchronize`` so that it
measures the work, not the launch. Figures are medians (p50) and tails (p95) of several timed
calls, never one call: on a shared machine a single figure says little.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def sync(device: Any = None) -> None:
    """Wait for ``device``'s queued work when it is a CUDA device (str or torch.device)."""
    if device is None or not str(device).startswith("cuda"):
        return
    import torch

    torch.cuda.synchronize(device)


def timed_ms(fn: Callable[[], object], device: Any = None) -> float:
    """Wall milliseconds of one call of ``fn``, synchronised on ``device``."""
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return (time.perf_counter() - t0) * 1e3


def repeat(
    once: Callable[[], T], runs: int, *, warmup: int = 0, slow_warmup_s: float | None = None
) -> list[T]:
    """The results of ``runs`` timed calls of ``once`` after ``warmup`` untimed ones.

    With ``slow_warmup_s``, ``once`` returns seconds and a first warm-up call slower than that
    counts as a sample instead (a call that long is not worth repeating just to warm up).
    """
    results: list[T] = []
    for i in range(warmup):
        r = once()
        if i == 0 and slow_warmup_s is not None and isinstance(r, float) and r > slow_warmup_s:
            results.append(r)
            break
    while len(results) < runs:
        results.append(once())
    return results
