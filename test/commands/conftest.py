"""Fixtures of the command tests; ``sccosf train`` helpers live in train_cli.py beside this."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test folders on sys.path; the train tests import
# train_cli by name.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from train_cli import make_synth_root  # noqa: E402


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    """A tiny synthetic dataset, one per test module."""
    return make_synth_root(tmp_path_factory.mktemp("synth") / "ds")
