"""Result files people read: standard JSON (NaN → null), written atomically, and list summaries."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np


def json_safe(x: Any) -> Any:
    """``x`` with NaN/inf → None and numpy scalars → Python numbers, so it is standard JSON."""
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    if isinstance(x, np.ndarray):
        return json_safe(x.tolist())
    if isinstance(x, np.floating | np.integer | np.bool_):
        return json_safe(x.item())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, os.PathLike):
        return os.fspath(x)
    return x


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``json_safe(data)`` to ``path`` through a temporary file (never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(json_safe(data), indent=2) + "\n")
    os.replace(tmp, path)
    return path
