"""Percentile summaries of latencies and other samples, computed one way everywhere: the node's
``/diagnostics``, bag-eval's metrics and the benchmarks (numpy's linear percentile; the 50th is
the median)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NAN = float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of ``values``, NaN when empty."""
    if not len(values):
        return NAN
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def summarize(values: Sequence[float]) -> dict[str, float]:
    """``mean``, ``p50``, ``p95``, ``max`` and ``n`` of ``values`` (NaN figures when empty)."""
    a = np.asarray(values, dtype=np.float64)
    if not a.size:
        return {"mean": NAN, "p50": NAN, "p95": NAN, "max": NAN, "n": 0}
    p50, p95 = np.percentile(a, [50, 95])
    return {
        "mean": float(a.mean()),
        "p50": float(p50),
        "p95": float(p95),
        "max": float(a.max()),
        "n": int(a.size),
    }
