"""Process-wide runtime settings shared by the ``sccosf`` command and ``sccosf_node``."""

from __future__ import annotations

import os


def passive_openmp() -> None:
    """Let idle OpenMP workers sleep instead of spin; call before torch loads.

    A trade-off, measured with nano at 480×640 on 2 threads on this project's 2-core machine:
    beside one other busy process, spinning workers took 8.8 s per pair and passive ones 0.45 s
    (spinners fight the other process for the cores); on an idle machine spinning is faster,
    0.22 s against 0.44 s. Processes that share the CPU with others by design (the node next to
    camera drivers, the demo and bag tools that run a node and a player) call this; training
    and benchmarks keep OpenMP's default. An explicit OMP_WAIT_POLICY in the environment wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
