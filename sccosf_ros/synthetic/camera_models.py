"""The thermal cameras the synthetic bag writer can emulate, one per preset in config/cameras/.

Each model says what its driver publishes: the encoding, what the values mean, the image size
and the telemetry rows below the image. ``thermal_camera`` renders frames that way; the preset
file of the same name is the node's matching parameter file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThermalCamera:
    """What one thermal camera's driver publishes."""

    name: str  # also the preset file config/cameras/<name>.yaml
    encoding: str  # sensor_msgs/Image encoding: mono16 | 16UC1 | mono8 | 32FC1
    # counts (the renderer's raw counts) | centikelvin | decikelvin | celsius (float) |
    # agc (8-bit, the camera's own per-frame contrast)
    units: str
    size: tuple[int, int] | None  # (rows, cols) of the image itself; None = the RGB size
    telemetry_rows: int = 0  # garbage rows below the image (Boson raw: 2)


CAMERAS: dict[str, ThermalCamera] = {
    cam.name: cam
    for cam in (
        # FLIR Boson 640 in raw Y16: 14-bit counts, 640x512 + 2 telemetry rows = 640x514.
        ThermalCamera("boson640_raw", "mono16", "counts", (512, 640), telemetry_rows=2),
        # FLIR Boson 640 with AGC on: 8-bit, contrast chosen by the camera every frame.
        ThermalCamera("boson640_agc", "mono8", "agc", (512, 640)),
        # FLIR Lepton 3.5 in TLinear mode: 160x120 centikelvin, often published as 16UC1.
        ThermalCamera("lepton35_radiometric", "16UC1", "centikelvin", (120, 160)),
        # Any radiometric driver publishing 32FC1 degrees C, registered to RGB.
        ThermalCamera("generic_celsius_32fc1", "32FC1", "celsius", None),
    )
}
