"""``sccosf train`` flags end to end on a tiny ``sccosf synth`` dataset (2 steps, CPU):
``--ablation``, ``--scales``, ``--grad-clip`` and ``--no-sync-bn`` each change what runs."""

from __future__ import annotations

import json

import pytest
import torch
from train_cli import H, W
from train_cli import train as _train

from sccosf_ros.cli import main
from sccosf_ros.inference import load_checkpoint


def test_ablation_scales_grad_clip_and_no_sync_bn_reach_the_run(synth_root, tmp_path, monkeypatch):
    import sccosf_ros.data.transforms as transforms

    clips, sizes = [], []
    real_clip, real_resize = torch.nn.utils.clip_grad_norm_, transforms.resize_joint

    def spy_clip(params, max_norm, *a, **kw):
        clips.append(max_norm)
        return real_clip(params, max_norm, *a, **kw)

    def spy_resize(rgb, thermal, label, size, *a, **kw):
        sizes.append(tuple(size))
        return real_resize(rgb, thermal, label, size, *a, **kw)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy_clip)
    monkeypatch.setattr(transforms, "resize_joint", spy_resize)
    out = tmp_path / "run"
    flags = ["--ablation", "B", "--scales", "0.75", "--grad-clip", "0.5", "--no-sync-bn"]
    assert _train(synth_root, out, *flags) == 0

    # --grad-clip: every step clipped at the given norm
    assert clips == [0.5, 0.5]
    # --scales 0.75: every training sample rescaled to exactly 0.75 (a uniform draw in
    # 0.5-1.75, the default, would not give one size for 4 samples)
    train_sizes = [s for s in sizes if s != (H, W)]
    assert len(train_sizes) >= 4 and set(train_sizes) == {(36, 48)}
    # --ablation B: the checkpoint's network has no Sc-FGB (paper Table 4, variant B)
    ckpt = load_checkpoint(out / "latest.pt")
    assert ckpt["model"]["config"]["ablation"] == "B"
    assert ckpt["model"]["config"]["use_sc_fgb"] is False
    assert not [k for k in ckpt["state_dict"] if ".fgb." in k]
    # --no-sync-bn only acts under torchrun (test_distributed runs two processes with the
    # default); one process records the choice.
    info = json.loads((out / "train_config.json").read_text())
    assert info["sync_bn"] is False and info["config"]["grad_clip"] == 0.5
    assert info["scales"] == [0.75] and info["ablation"] == "B"


def test_without_the_flags_the_run_differs(synth_root, tmp_path, monkeypatch):
    clips = []
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda *a, **k: clips.append(a))
    out = tmp_path / "plain"
    assert _train(synth_root, out) == 0
    assert clips == []  # no clipping by default
    ckpt = load_checkpoint(out / "latest.pt")
    assert ckpt["model"]["config"]["ablation"] is None
    assert [k for k in ckpt["state_dict"] if ".fgb." in k]
    info = json.loads((out / "train_config.json").read_text())
    assert info["sync_bn"] is True and info["scales"] is None


def _as_centikelvin(src, dst):
    """The synth set in the RGB/ Modal/ Label/ layout with 16-bit centikelvin thermal images:
    8-bit value v → v x 0.2 °C, so a [0, 51] °C window gives back v / 255."""
    import shutil

    import cv2

    for sub in ("RGB", "Modal", "Label"):
        (dst / sub).mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file():
            shutil.copy(f, dst / f.name)
    for png in sorted((src / "images").glob("*.png")):
        bgra = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(dst / "RGB" / png.name), bgra[..., :3])
        cv2.imwrite(str(dst / "Modal" / png.name), bgra[..., 3].astype("uint16") * 20 + 27315)
        shutil.copy(src / "labels" / png.name, dst / "Label" / png.name)
    return dst


def test_thermal_flags_train_on_temperatures_and_the_checkpoint_records_them(synth_root, tmp_path):
    from sccosf_ros.data.datasets import build_dataset
    from sccosf_ros.thermal import ThermalNorm

    root = _as_centikelvin(synth_root, tmp_path / "ck")
    out = tmp_path / "temp"
    flags = ["--thermal-norm", "temperature", "--thermal-units", "centikelvin"]
    assert _train(root, out, *flags, "--thermal-window", "0", "51") == 0
    record = load_checkpoint(out / "latest.pt")["thermal_norm"]
    assert (record["mode"], record["units"]) == ("temperature", "centikelvin")
    assert (record["window_low"], record["window_high"]) == (0.0, 51.0)
    # the network saw the temperatures as the 8-bit set's v / 255
    ds16, ds8 = (
        build_dataset("synthetic", root, "train"),
        build_dataset("synthetic", synth_root, "train"),
    )
    ds16.thermal_norm = ThermalNorm.from_dict(record)
    assert ds16[0]["thermal"].shape == ds8[0]["thermal"].shape
    torch.testing.assert_close(ds16[0]["thermal"], ds8[0]["thermal"], atol=1e-4, rtol=0)
    # sccosf eval reads the 16-bit set with the checkpoint's normalisation: the same labels
    # and fusion metrics as the 8-bit set with --thermal-norm auto (v / 255)
    metrics = {}
    for name, data, extra in (("16", root, []), ("8", synth_root, ["--thermal-norm", "auto"])):
        args = ["eval", "--dataset", "synthetic", "--root", str(data), "--out",
                str(tmp_path / f"eval{name}"), "--checkpoint", str(out / "latest.pt"),
                "--device", "cpu", "--threads", "1", "--grid-samples", "0", "--no-progress",
                *extra]  # fmt: skip
        assert main(args) == 0
        metrics[name] = json.loads((tmp_path / f"eval{name}" / "metrics.json").read_text())
    assert metrics["16"]["confusion"] == metrics["8"]["confusion"]
    for m, v in metrics["8"]["fusion"].items():
        assert metrics["16"]["fusion"][m]["mean"] == pytest.approx(v["mean"], rel=1e-3), m
    # a temperature run on counts without a scale is one line, before training
    assert _train(root, tmp_path / "bad", "--thermal-norm", "temperature") == 2


def test_the_summary_lists_no_tensorboard_folder_it_did_not_write(synth_root, tmp_path, capsys):
    out = tmp_path / "no_tb"
    assert _train(synth_root, out, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["tensorboard"] is None and not (out / "tensorboard").exists()
    assert _train(synth_root, out, "--resume", "--max-iters", "3") == 0
    logs = [ln for ln in capsys.readouterr().out.splitlines() if "logs:" in ln]
    assert logs == [f"  logs:          {out / 'log.csv'}, {out / 'train_config.json'}"], logs
