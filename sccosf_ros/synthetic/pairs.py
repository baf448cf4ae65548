"""Frame pairs for parity checks: ``n`` rendered scenes, alternately day and night.

``sccosf export`` and the backend tests compare an exported graph with the torch model on
these (``backends.parity.compare`` takes the pairs from its caller): synthetic street scenes,
the data the shipped model was trained on, not noise, so that parity is measured on inputs that
look like the camera's.
"""

from __future__ import annotations

import numpy as np

from sccosf_ros.synthetic.render import render_scene


def frame_pairs(
    n: int, size: tuple[int, int], thermal_raw: bool, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` RGB + thermal pairs at ``size`` (H, W), every second one at night; thermal as raw
    16-bit counts when ``thermal_raw`` (a fixed radiometric normalisation), else 8-bit."""
    pairs = []
    for i in range(n):
        scene = render_scene(seed + i, size[0], size[1], night=bool(i % 2))
        pairs.append((scene.rgb, scene.thermal16 if thermal_raw else scene.thermal8))
    return pairs
