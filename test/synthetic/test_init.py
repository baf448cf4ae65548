"""The package's import boundary: ``sccosf_ros.synthetic`` stands on its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sccosf_ros.synthetic as synthetic


@pytest.mark.parametrize("prefix", ["sccosf_ros.training", "rclpy", "torch"])
def test_import_pulls_in_neither_training_nor_ros(prefix):
    code = (
        "import sccosf_ros.synthetic, sys; "
        f"bad = sorted(m for m in sys.modules if m.startswith({prefix!r})); "
        "assert not bad, bad"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr


def test_public_api_is_exported():
    for name in synthetic.__all__:
        assert hasattr(synthetic, name), name
    assert synthetic.THERMAL_COUNTS == (7000, 9000)
    assert synthetic.LAYOUTS == ("mfnet", "fmb")
    assert synthetic.METADATA_FILE == "sccosf_synth.json"
