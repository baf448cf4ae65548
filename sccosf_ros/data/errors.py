"""What a user sees when a dataset cannot be opened or one of its samples cannot be read."""

from __future__ import annotations

import contextlib
from typing import Any

from sccosf_ros.errors import SccosfError


class DatasetError(SccosfError, ValueError):
    """A dataset that cannot be opened, or a sample that cannot be read; names the file."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A folder or file the dataset needs is missing."""


def load_error_message(dataset: Any, index: int, error: Exception) -> str:
    """One line: what failed, for which sample and files."""
    names = getattr(dataset, "names", None)
    name = names[index] if names is not None and index < len(names) else str(index)
    text = " ".join(str(error).split()) or type(error).__name__
    paths = getattr(dataset, "paths", None)
    files = ""
    if paths is not None:
        with contextlib.suppress(Exception):
            shown = [str(p) for p in paths(index)]
            if not any(p in text for p in shown):
                files = f" ({', '.join(shown)})"
    prefix = f"sample {name!r}"
    if text.startswith(prefix):  # the error named the sample already (e.g. sizes differ)
        return text
    return f"{prefix}{files}: {text}"
