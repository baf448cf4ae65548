"""The benchmarks' test frames: one RGB + thermal pair from the synthetic street renderer.

Every bench and the GPU check time the same kind of input: a rendered scene (``synthetic``),
not noise, so that the model, the colouring and the codecs see what a camera would give them.
"""

from __future__ import annotations

import numpy as np


def frame_pair(
    height: int, width: int, *, seed: int = 0, raw_thermal: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(rgb uint8 HxWx3 in RGB order, thermal HxW) of scene ``seed``.

    thermal: uint8 (0..255, what a dataset image holds) or, with ``raw_thermal``, the camera's
    uint16 counts (around ``synthetic.THERMAL_COUNTS``, as a mono16 driver publishes them).
    """
    from sccosf_ros.synthetic import render_scene

    scene = render_scene(seed, height=height, width=width)
    return scene.rgb, scene.thermal16 if raw_thermal else scene.thermal8
