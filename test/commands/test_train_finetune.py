"""``sccosf train`` fine-tuning flags end to end (2 CPU steps): ``--recipe finetune``,
``--init-from``, ``--freeze-encoder``, ``--fusion-only``, ``--drop-path``, ``--pretrained FILE``,
``--allow-overlap``; bad input is one ``error:`` line."""

from __future__ import annotations

import json
import shutil

import timm
import torch
from train_cli import train as _train

from sccosf_ros.cli import main
from sccosf_ros.inference import load_checkpoint


def test_finetune_recipe_with_init_from_and_the_freeze_flags(
    synth_root, nano_checkpoint, tmp_path, capsys
):
    out = tmp_path / "run"
    flags = ["--recipe", "finetune", "--init-from", str(nano_checkpoint)]
    flags += ["--freeze-encoder", "--fusion-only", "--drop-path", "0.1"]
    assert _train(synth_root, out, *flags, "--json") == 0
    err = capsys.readouterr().err
    assert f"init-from {nano_checkpoint}: all weights loaded" in err
    info = json.loads((out / "train_config.json").read_text())
    assert info["recipe"].startswith("finetune") and info["lr"] == 5e-4  # the recipe's
    assert info["max_iters"] == 2 and info["crop"] == [32, 32]  # flags win
    assert info["init_from"] == str(nano_checkpoint) and info["preset"] == "nano"
    assert info["freeze_encoder"] and info["fusion_only"] and info["drop_path"] == 0.1
    ckpt = load_checkpoint(out / "latest.pt")
    assert ckpt["model"]["config"]["drop_path_rate"] == 0.1
    saved = load_checkpoint(nano_checkpoint)["state_dict"]
    for k in ("encoder.backbone.stem_0.weight", "seg_head.classifier.2.weight"):  # frozen
        assert torch.equal(ckpt["state_dict"][k], saved[k]), k
    trained = [k for k in saved if k.startswith(("fusion_head.", "fusion."))]
    assert any(not torch.equal(ckpt["state_dict"][k], saved[k]) for k in trained)


def test_pretrained_file_right_and_wrong(synth_root, tmp_path, capsys):
    atto = tmp_path / "atto.pth"
    torch.save(timm.create_model("convnext_atto").state_dict(), atto)
    assert _train(synth_root, tmp_path / "ok", "--pretrained", str(atto)) == 0
    ckpt = load_checkpoint(tmp_path / "ok" / "latest.pt")
    assert ckpt["model"]["config"]["pretrained_encoder"] == str(atto)
    info = json.loads((tmp_path / "ok" / "train_config.json").read_text())
    assert info["pretrained_weights"] == str(atto)
    capsys.readouterr()
    femto = tmp_path / "femto.safetensors"
    from safetensors.torch import save_file

    save_file(timm.create_model("convnext_femto").state_dict(), str(femto))
    assert _train(synth_root, tmp_path / "bad", "--pretrained", str(femto)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "error:" in err and "not a convnext_atto checkpoint" in err


def test_overlap_is_refused_unless_allowed(synth_root, tmp_path, capsys):
    root = tmp_path / "ds"
    shutil.copytree(synth_root, root)
    first = (root / "train.txt").read_text().split()[0]
    with (root / "test.txt").open("a") as f:
        f.write(f"{first}\n")
    assert _train(root, tmp_path / "a") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "refusing to train" in err and first in err
    assert _train(root, tmp_path / "b", "--allow-overlap") == 0
    assert "warning: training images also in the held-out" in capsys.readouterr().err
    assert main(["train", "--recipe", "finetune", "--out", str(tmp_path / "c")]) == 2
    assert "no dataset" in capsys.readouterr().err
