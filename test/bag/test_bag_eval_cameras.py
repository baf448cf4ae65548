"""bag-eval with the camera presets of config/cameras on bags in each camera's format.

Each bag carries what the camera's driver publishes (encoding, units, size, telemetry rows) and
FFC bursts (frozen repeats, then closed-shutter frames). The run layers config/sccosf.yaml, the
preset and a rig file (the homography from the thermal size onto RGB), as a robot would.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sccosf_ros.bag.bag_io import IMAGE, BagReader, BagWriter, stamp_ns
from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.pipeline.image_codec import decode_image, encode_image
from sccosf_ros.pipeline.outputs import OUTPUT_NAMES as OUTPUTS
from sccosf_ros.pipeline.params import write_params_file
from sccosf_ros.synthetic import write_synthetic_bag

CONFIG = Path(__file__).resolve().parents[2] / "config"
H, W = 48, 64  # RGB size where the camera allows a small one


def _camera_bag(path: Path, camera: str, **kw):
    options = dict(duration=2.5, height=H, width=W, ffc_period=1.0)  # 2 FFC bursts
    return write_synthetic_bag(path, camera=camera, show_progress=False, **{**options, **kw})


def _rig(path: Path, thermal_hw: tuple[int, int], rgb_hw: tuple[int, int]) -> Path:
    """A rig file whose homography scales the (cropped) thermal image onto the RGB image."""
    sy, sx = rgb_hw[0] / thermal_hw[0], rgb_hw[1] / thermal_hw[1]
    return write_params_file(path, {"registration.homography": [sx, 0, 0, 0, sy, 0, 0, 0, 1]})


def _bag_eval(bag, out: Path, ckpt: Path, *param_files: Path, extra: tuple = ()) -> dict:
    c = bag.config
    args = ["bag-eval", str(bag.path), "--out", str(out), "--quiet", "--backend", "torch"]
    args += ["--rgb-topic", c.rgb_topic, "--thermal-topic", c.thermal_topic]
    if c.label_topic:
        args += ["--label-topic", c.label_topic]
    for f in (CONFIG / "sccosf.yaml", *param_files):
        args += ["--params-file", str(f)]
    args += ["--checkpoint", str(ckpt), "--device", "cpu", *extra]
    assert sccosf_main(args) == 0
    return json.loads((out / "metrics.json").read_text())


def _outputs(m: dict) -> dict[str, list]:
    """Output topic → its decoded images, in order."""
    with BagReader(m["output_bag"]) as r:
        return {
            name: [decode_image(r.deserialize(raw, ty)) for _, ty, _, raw in r.messages([t])]
            for name in OUTPUTS
            for t in [f"/sccosf/{name}"]
        }


def _ffc_skipped(m: dict) -> int:
    """Thermal frames bag-eval skipped as FFC frames."""
    return int(m["thermal_ffc"]["frames"])


def _check_run(m: dict, bag, rgb_hw: tuple[int, int]) -> None:
    """Every thermal frame formed a pair but the FFC frames, which the preset's settings skip
    (all of them), nothing was malformed, and every output is at the RGB size."""
    c = bag.config
    assert m["malformed"][c.thermal_topic] == 0 and m["malformed"][c.rgb_topic] == 0
    assert m["size_mismatch"] == 0 and m["inference_errors"] == 0
    assert _ffc_skipped(m) == len(bag.ffc_stamps)
    assert m["pairs"] == len(bag.thermal_stamps) - _ffc_skipped(m)
    outputs = _outputs(m)
    assert all(len(images) == m["pairs"] for images in outputs.values())
    assert all(img.shape[:2] == rgb_hw for images in outputs.values() for img in images)


def _clean_twin(bag, out: Path) -> Path:
    """The same bag with the telemetry rows cut off every thermal frame (what a driver without
    telemetry would have sent)."""
    c = bag.config
    with BagReader(bag.path) as r, BagWriter(out, storage=r.storage) as w:
        for topic in r.topics():
            w.add_topic(topic, IMAGE)
        for topic, ty, log, raw in r.messages():
            msg = r.deserialize(raw, ty)
            if topic == c.thermal_topic:
                rows = c.thermal_camera.telemetry_rows
                image = np.ascontiguousarray(decode_image(msg)[:-rows])
                msg = encode_image(image, msg.encoding, header=msg.header, msg_type=type(msg))
            w.write(topic, log, msg)
    return out


def test_boson_raw_telemetry_rows_never_reach_the_model(tmp_path, nano_checkpoint, one_thread):
    bag = _camera_bag(tmp_path / "in", "boson640_raw")
    assert len(bag.ffc_stamps) == 7  # bursts at 1.0 and 2.0 s
    # the thermal view ends 4 rows above the RGB image's bottom: rows below the (cropped)
    # image would land inside the RGB image
    rig = _rig(tmp_path / "rig.yaml", (512, 640), (H - 4, W))
    preset = CONFIG / "cameras" / "boson640_raw.yaml"
    m = _bag_eval(bag, tmp_path / "out", nano_checkpoint, preset, rig)
    _check_run(m, bag, (H, W))
    assert m["thermal_norm"]["mode"] == "percentile"
    # the twin without telemetry, uncropped, gives the very same outputs: the two garbage rows
    # (values up to 65535 among ~8000 counts) changed nothing, not even the percentiles
    twin = _clean_twin(bag, tmp_path / "twin")
    crop0 = ("--thermal-crop", "0", "0", "0", "0")
    m_twin = _bag_eval(
        bag_like(bag, twin), tmp_path / "out_twin", nano_checkpoint, preset, rig, extra=crop0
    )
    assert m_twin["pairs"] == m["pairs"]
    ours, theirs = _outputs(m), _outputs(m_twin)
    for name in OUTPUTS:
        for a, b in zip(ours[name], theirs[name], strict=True):
            np.testing.assert_array_equal(a, b)
    # control: left in (no crop), the telemetry rows do change what the model sees
    m_raw = _bag_eval(bag, tmp_path / "out_raw", nano_checkpoint, preset, rig, extra=crop0)
    fused = zip(ours["fused"], _outputs(m_raw)["fused"], strict=True)
    assert any(not np.array_equal(a, b) for a, b in fused)


def bag_like(bag, path: Path):
    """``bag`` with its files at ``path`` (the twin has the same topics and stamps)."""
    from dataclasses import replace

    return replace(bag, path=path)


@pytest.mark.parametrize(
    "camera,thermal_hw,norm",
    [("boson640_agc", (512, 640), "fixed"), ("generic_celsius_32fc1", None, "temperature")],
)
def test_camera_presets_process_every_pair(
    tmp_path, nano_checkpoint, one_thread, camera, thermal_hw, norm
):
    bag = _camera_bag(tmp_path / "in", camera)
    files = [CONFIG / "cameras" / f"{camera}.yaml"]
    if thermal_hw is not None:  # the 32FC1 camera is registered to RGB: no rig needed
        files.append(_rig(tmp_path / "rig.yaml", thermal_hw, (H, W)))
    m = _bag_eval(bag, tmp_path / "out", nano_checkpoint, *files)
    _check_run(m, bag, (H, W))
    assert m["thermal_norm"]["mode"] == norm
    if camera == "boson640_agc":
        assert (m["thermal_norm"]["low"], m["thermal_norm"]["high"]) == (0.0, 255.0)
    else:
        assert m["thermal_norm"]["units"] == "celsius"


def test_lepton_160x120_beside_720p_rgb(tmp_path, nano_checkpoint, one_thread):
    """A Lepton's 160x120 centikelvin at 8.7 Hz beside 1280x720 RGB: an 8x/6x scale gap that
    the rig's homography bridges; the network runs small, the outputs come at 720p."""
    bag = _camera_bag(
        tmp_path / "in",
        "lepton35_radiometric",
        duration=0.6,
        height=720,
        width=1280,
        ffc_period=0.3,
        ffc_duration=0.2,  # one short burst: a frozen frame, then a shutter frame
        label_topic=None,
    )
    assert len(bag.thermal_stamps) == 5 and len(bag.ffc_stamps) == 2
    rig = _rig(tmp_path / "rig.yaml", (120, 160), (720, 1280))
    preset = CONFIG / "cameras" / "lepton35_radiometric.yaml"
    size = ("--input-size", "72", "128", "--sheet-rows", "2")
    m = _bag_eval(bag, tmp_path / "out", nano_checkpoint, preset, rig, extra=size)
    _check_run(m, bag, (720, 1280))
    norm = m["thermal_norm"]
    assert (norm["mode"], norm["units"]) == ("temperature", "centikelvin")
    assert (norm["window_low"], norm["window_high"]) == (-10.0, 40.0)
    assert m["input_size"] == [72, 128]


@pytest.mark.parametrize(
    "camera", ["boson640_raw", "lepton35_radiometric", "boson640_agc", "generic_celsius_32fc1"]
)
def test_ffc_frames_are_skipped_and_counted(tmp_path, nano_checkpoint, one_thread, camera):
    """Done when (issue 22): FFC frames (frozen repeats, closed shutter) skipped and counted,
    none fused, every good pair processed, with each preset's own FFC settings.

    boson640_raw: its frozen frames repeat the image rows while the telemetry rows carry a new
    frame counter, as a real Boson's do: only a comparison of the cropped image finds them."""
    bag = _camera_bag(tmp_path / "in", camera)
    thermal_hw = {"boson640_raw": (512, 640), "boson640_agc": (512, 640)}.get(camera, (120, 160))
    files = [CONFIG / "cameras" / f"{camera}.yaml"]
    if camera != "generic_celsius_32fc1":  # registered to RGB already: no rig needed
        files.append(_rig(tmp_path / "rig.yaml", thermal_hw, (H, W)))
    m = _bag_eval(bag, tmp_path / "out", nano_checkpoint, *files)
    good = [t for t in bag.thermal_stamps if t not in bag.ffc_stamps]
    assert m["pairs"] == len(good)
    assert m["thermal_ffc"]["frames"] == len(bag.ffc_stamps) == 7
    assert m["thermal_ffc"]["events"] == 2  # the bursts at 1 s and 2 s
    # every good thermal frame paired with its nearest RGB frame; no FFC frame was fused
    nearest = sorted(min(bag.rgb_stamps, key=lambda s, t=t: abs(s - t)) for t in good)
    with BagReader(m["output_bag"]) as r:
        fused = r.messages(["/sccosf/fused"])
        stamps = [stamp_ns(r.deserialize(raw, ty)) for _, ty, _, raw in fused]
    assert stamps == nearest
