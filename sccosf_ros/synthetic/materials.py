"""The generator's materials: what each one is labelled as in MFNet and FMB, and its RGB grain.

The painter records a material id per pixel; labels are a lookup of that id, so they are exact
for whatever RGB and thermal show there.
"""

from __future__ import annotations

import numpy as np

from sccosf_ros.classes import DATASET_CLASSES
from sccosf_ros.synthetic.settings import LAYOUTS

# Material → class name in (MFNet, FMB), in LAYOUTS order (None: unlabeled, id 0).
MATERIAL_CLASS: dict[str, tuple[str | None, str | None]] = {
    "sky": (None, "Sky"),
    "terrain": (None, None),
    "road": (None, "Road"),
    "lane": (None, "Road"),
    "manhole": (None, "Road"),
    "sidewalk": (None, "Sidewalk"),
    "curb": ("curve", "Sidewalk"),
    "building": (None, "Building"),
    "vegetation": (None, "Vegetation"),
    "pole": (None, "Pole"),
    "lamp": (None, "Lamp"),
    "sign": (None, "Sign"),
    "person": ("person", "Person"),
    "car": ("car", "Car"),
    "truck": ("car", "Truck"),
    "bus": ("car", "Bus"),
    "motorcycle": ("bike", "Motorcycle"),
    "bicycle": ("bike", "Bicycle"),
    "car_stop": ("car_stop", None),
    "guardrail": ("guardrail", None),
    "cone": ("color_cone", None),
    "bump": ("bump", "Road"),
}
MATERIALS = tuple(MATERIAL_CLASS)
MATERIAL_ID = {m: i for i, m in enumerate(MATERIALS)}

_GRAIN_AMPLITUDE = {
    "road": 0.09,
    "lane": 0.05,
    "manhole": 0.06,
    "sidewalk": 0.05,
    "curb": 0.05,
    "terrain": 0.12,
    "building": 0.04,
    "vegetation": 0.22,
    "sky": 0.004,
    "pole": 0.02,
    "guardrail": 0.02,
    "bump": 0.05,
    "person": 0.03,
    "car_stop": 0.06,
}


def _grain_table() -> np.ndarray:
    """Fine RGB grain amplitude per material id (texture exists in RGB only; 0 elsewhere)."""
    table = np.zeros(len(MATERIALS), np.float32)
    for material, amplitude in _GRAIN_AMPLITUDE.items():
        table[MATERIAL_ID[material]] = amplitude
    return table


def _label_lut(layout: str) -> np.ndarray:
    """Material id → class id of ``layout``."""
    names = DATASET_CLASSES[layout][0]
    col = LAYOUTS.index(layout)
    lut = np.zeros(len(MATERIALS), np.uint8)
    for material, pair in MATERIAL_CLASS.items():
        if pair[col] is not None:
            lut[MATERIAL_ID[material]] = names.index(pair[col])
    return lut


GRAIN = _grain_table()
LABEL_LUT = {layout: _label_lut(layout) for layout in LAYOUTS}
