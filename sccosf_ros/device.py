"""Device resolution, once: ``auto`` → CUDA when available, else CPU."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sccosf_ros.errors import SccosfError

if TYPE_CHECKING:
    import torch

DEVICES_HELP = "auto | cpu | cuda | cuda:N"


class DeviceError(SccosfError, ValueError):
    """A device name that is unknown or not available on this machine."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → cuda when available, else cpu; a clear error for unknown/unavailable ones."""
    import torch

    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as e:
        raise DeviceError(f"unknown device {name!r}: use {DEVICES_HELP}") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device {name!r} requested but CUDA is not available; use cpu or auto")
    if dev.type not in ("cpu", "cuda"):
        raise DeviceError(f"unsupported device {name!r}: use {DEVICES_HELP}")
    return dev
