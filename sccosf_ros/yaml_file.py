"""Reading a YAML file a person wrote (``classes.yaml``, a scene style, ``dataset.yaml``) with one
line for what went wrong: each caller passes its own error type, so that ``cli.main`` prints the
line its command's users know."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from sccosf_ros.errors import SccosfError


def read_yaml(path: str | os.PathLike, error: type[SccosfError]) -> Any:
    """The parsed document at ``path``; an unreadable file or bad YAML raises ``error`` naming the
    file and the first line of the reader's complaint."""
    p = Path(path)
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise error(f"{p}: cannot read it as YAML ({first})") from None
