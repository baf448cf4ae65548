"""Where installed files live: the shipped checkpoint and the share/ files, with or without ROS."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE = "sccosf_ros"
SHIPPED_CHECKPOINT = "sccosf_nano_synthetic.pt"


def share_dirs() -> list[Path]:
    """Candidate share directories, most specific first: ament index, prefix, source tree."""
    dirs: list[Path] = []
    try:  # a colcon install or a ROS distro
        from ament_index_python.packages import get_package_share_directory

        dirs.append(Path(get_package_share_directory(PACKAGE)))
    except Exception:
        pass
    dirs.append(Path(sys.prefix) / "share" / PACKAGE)  # pip install (data_files)
    dirs.append(Path(__file__).resolve().parents[1])  # source tree / editable install
    return dirs


def find_share_file(relative: str) -> Path | None:
    for d in share_dirs():
        p = d / relative
        if p.exists():
            return p
    return None


def default_checkpoint() -> Path:
    """$SCCOSF_CHECKPOINT if set, else the shipped demo checkpoint (models/)."""
    env = os.environ.get("SCCOSF_CHECKPOINT")
    if env:
        return Path(env)
    found = find_share_file(f"models/{SHIPPED_CHECKPOINT}")
    return (
        found
        if found is not None
        else Path(__file__).resolve().parents[1] / "models" / (SHIPPED_CHECKPOINT)
    )
