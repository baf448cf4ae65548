"""RGB + thermal frame pairs from the synthetic street renderer, for the checks and benchmarks
that need camera-like input: the export's parity check (``backends.parity.compare`` takes the
pairs from its caller) and every benchmark, the GPU check included.

Rendered street scenes, the data the shipped model was trained on, not noise: the model, the
colouring and the codecs see what a camera would give them.
"""

from __future__ import annotations

import numpy as np

from sccosf_ros.synthetic.render import render_scene


def frame_pair(
    height: int, width: int, *, seed: int = 0, raw_thermal: bool = False, night: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(rgb uint8 HxWx3 in RGB order, thermal HxW) of scene ``seed``.

    thermal: uint8 (0..255, what a dataset image holds) or, with ``raw_thermal``, the camera's
    uint16 counts (around ``synthetic.THERMAL_COUNTS``, as a mono16 driver publishes them).
    ``night``: None lets the seed decide, as for a dataset image.
    """
    scene = render_scene(seed, height, width, night=night)
    return scene.rgb, scene.thermal16 if raw_thermal else scene.thermal8


def frame_pairs(
    n: int, size: tuple[int, int], thermal_raw: bool, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` pairs at ``size`` (H, W) from scenes ``seed``, ``seed + 1``, ..., every second
    one at night; thermal as raw 16-bit counts when ``thermal_raw``, else 8-bit."""
    return [
        frame_pair(*size, seed=seed + i, raw_thermal=thermal_raw, night=bool(i % 2))
        for i in range(n)
    ]
