"""The file that marks a folder written by ``sccosf synth``: its name, layouts and reader.

``sccosf synth`` writes ``METADATA_FILE`` (layout, seed, sizes, per-image day/night) into every
synthetic dataset; the dataset readers look for it to pick the layout and the day/night split.
It lives here, below both the writer (``sccosf_ros.synthetic``) and the readers, so neither
imports the other.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sccosf_ros.data.errors import DatasetError

LAYOUTS = ("mfnet", "fmb")  # on-disk layouts a synthetic dataset imitates
METADATA_FILE = "sccosf_synth.json"


def read_metadata(root: str | os.PathLike) -> dict[str, Any] | None:
    """The ``METADATA_FILE`` of a synthetic dataset folder, or None if there is none."""
    path = Path(root) / METADATA_FILE
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DatasetError(f"{path} is not a readable sccosf synth metadata file: {e}") from e
    if not isinstance(meta, dict) or meta.get("layout") not in LAYOUTS:
        raise DatasetError(f"{path}: expected a JSON object with 'layout' in {LAYOUTS}")
    return meta
