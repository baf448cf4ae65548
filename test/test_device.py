"""device.py: ``auto`` and the errors for unknown or unavailable devices."""

from __future__ import annotations

import pytest
import torch

from sccosf_ros.device import DeviceError, resolve_device
from sccosf_ros.errors import SccosfError


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu-ish")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_a_bad_device_is_a_one_line_user_error():
    with pytest.raises(DeviceError) as info:
        resolve_device("tpu-ish")
    assert isinstance(info.value, SccosfError) and "\n" not in info.value.message
