"""Process-wide runtime settings shared by the ``sccosf`` command and ``sccosf_node``."""

from __future__ import annotations

import os


def passive_openmp() -> None:
    """Let idle OpenMP workers sleep instead of spin; call before torch loads.

    On a shared or busy CPU (a robot computer running drivers, a CI box) spinning workers make
    torch's multi-threaded CPU kernels 10-100x slower: nano at 480×640 on 2 threads beside one
    other busy process took 8.8 s per pair spinning and 0.45 s passive. An explicit
    OMP_WAIT_POLICY in the environment wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
