"""``sccosf eval --ssim-data-range --mi-units --precision`` end to end on a tiny
``sccosf synth`` dataset: each flag changes the numbers the way it says."""

from __future__ import annotations

import json
import math

import pytest

from sccosf_ros.cli import main


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_paths") / "ds"
    args = ["synth", str(root), "--n", "6", "--size", "48", "64", "--preview", "0"]
    assert main([*args, "--no-progress"]) == 0
    return root


def _eval(root, ckpt, out, *flags: str) -> dict:
    args = ["eval", "--dataset", "synthetic", "--root", str(root), "--out", str(out),
            "--checkpoint", str(ckpt), "--device", "cpu", "--threads", "1",
            "--grid-samples", "0", "--no-progress", *flags]  # fmt: skip
    assert main(args) == 0
    return json.loads((out / "metrics.json").read_text())


@pytest.fixture(scope="module")
def default_run(synth_root, nano_checkpoint, tmp_path_factory):
    return _eval(synth_root, nano_checkpoint, tmp_path_factory.mktemp("eval_default") / "e")


def test_ssim_data_range_and_mi_units(synth_root, nano_checkpoint, default_run, tmp_path):
    flagged = _eval(
        synth_root,
        nano_checkpoint,
        tmp_path / "e",
        "--ssim-data-range",
        "255",
        "--mi-units",
        "bits",
    )
    conv = flagged["conventions"]["fusion_convention"]
    assert conv["ssim_data_range"] == 255.0 and conv["mi_units"] == "bits"
    a, b = default_run["fusion"], flagged["fusion"]
    # the same fused images: MI in bits = MI in nats / ln 2, image by image
    assert b["MI"]["per_image"] == pytest.approx([v / math.log(2) for v in a["MI"]["per_image"]])
    # SSIM with C1, C2 for a 0-255 range instead of 2: other values, the rest unchanged
    assert all(
        abs(x - y) > 1e-6
        for x, y in zip(a["SSIM"]["per_image"], b["SSIM"]["per_image"], strict=True)
    )
    for name in ("EN", "SD", "SF", "AG", "SCD", "VIF", "Qabf"):
        assert b[name]["per_image"] == pytest.approx(a[name]["per_image"]), name
    assert flagged["miou"] == default_run["miou"]  # segmentation is not a fusion metric


def test_precision_bf16_runs_the_network_in_bfloat16(
    synth_root, nano_checkpoint, default_run, tmp_path
):
    half = _eval(synth_root, nano_checkpoint, tmp_path / "e", "--precision", "bf16")
    a, b = default_run["fusion"], half["fusion"]
    # bfloat16 keeps ~3 significant digits: the outputs move a little, not a lot
    moved = a["EN"]["per_image"] != b["EN"]["per_image"]
    assert moved or half["confusion"] != default_run["confusion"]
    assert b["EN"]["per_image"] == pytest.approx(a["EN"]["per_image"], abs=0.2)
    assert half["n_images"] == default_run["n_images"]
