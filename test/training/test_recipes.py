"""Recipes: the paper's settings as files, precedence defaults < recipe < flags, the dry run."""

from __future__ import annotations

import argparse
import json

import pytest

from sccosf_ros.commands import train as train_cmd
from sccosf_ros.training.recipes import RecipeError, available_recipes, load_recipe

ABLATIONS = [f"mfnet-ablation-{k}" for k in "abcdef"]


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train_cmd.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture(scope="module")
def mfnet_root(tmp_path_factory):
    from sccosf_ros.synthetic import write_dataset

    root = tmp_path_factory.mktemp("recipes") / "mfnet"
    write_dataset(root, layout="mfnet", n=20, seed=5, height=48, width=64, progress=False)
    return root


def test_every_recipe_is_installed_and_resolves():
    assert {"mfnet-paper", "fmb-paper", *ABLATIONS} <= set(available_recipes())
    paper = load_recipe("mfnet-paper").values
    assert paper["preset"] == "paper" and paper["pretrained"] == "in1k"
    assert paper["epochs"] == 500 and paper["batch_size"] == 8
    assert paper["lr"] == 6e-5 and paper["weight_decay"] == 0.01 and paper["poly_power"] == 0.9
    assert paper["crop"] == [480, 640] and paper["scales"] == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    assert paper["train_splits"] == ["train", "val"] and paper["val_split"] == "test"
    fmb = load_recipe("fmb-paper").values
    assert fmb["dataset"] == "fmb" and fmb["train_splits"] == ["train"]
    demo = load_recipe("nano-synthetic-demo").values  # the shipped model (models/README.md)
    assert demo["preset"] == "nano" and demo["max_iters"] == 1200
    assert demo["model_overrides"] == {"reaw_output": "luma_weights"}
    assert demo["fusion_loss"] == {"gamma_mode": "exposure"} and demo["camera_augment"] is True
    for name, letter in zip(ABLATIONS, "ABCDEF", strict=True):
        values = load_recipe(name).values
        assert values["ablation"] == letter
        assert {k: v for k, v in values.items() if k != "ablation"} == paper, name


def test_flags_override_the_recipe_and_the_recipe_overrides_defaults(tmp_path):
    args = _parse("--recipe", "mfnet-paper", "--root", "R", "--out", str(tmp_path))
    cfg = train_cmd.config_from_args(args)
    assert cfg.preset == "paper" and cfg.lr == 6e-5 and cfg.epochs == 500  # recipe > default
    assert cfg.num_workers == 2 and cfg.amp  # untouched defaults
    args = _parse(
        "--recipe", "mfnet-paper", "--root", "R", "--out", str(tmp_path), "--lr", "1e-3",
        "--max-iters", "7", "--scale-range", "1", "1", "--train-split", "train",
        "--val-split", "val", "--pretrained", "in22k", "--no-amp", "--workers", "0",
        "--warmup-iters", "3",
    )  # fmt: skip
    cfg = train_cmd.config_from_args(args)
    assert cfg.lr == 1e-3 and cfg.max_iters == 7 and cfg.epochs is None
    assert cfg.scale_range == (1.0, 1.0) and cfg.scales is None  # the flag's alternative wins
    assert cfg.warmup_iters == 3 and cfg.warmup_epochs is None
    assert cfg.train_splits == ("train",) and cfg.val_split == "val"
    assert cfg.pretrained == "in22k" and not cfg.amp and cfg.num_workers == 0
    assert cfg.preset == "paper"  # not given: still the recipe's
    assert cfg.recipe.startswith("mfnet-paper")


def test_bad_recipes_are_one_clear_error(tmp_path):
    with pytest.raises(RecipeError, match=r"no recipe 'nope'.*mfnet-paper"):
        load_recipe("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("preset: paper\nlearning_rate: 1\n")
    with pytest.raises(RecipeError, match=r"unknown key\(s\) learning_rate"):
        load_recipe(bad)
    bad.write_text("lr: fast\n")
    with pytest.raises(RecipeError, match="lr must be a number"):
        load_recipe(bad)
    bad.write_text("base: mfnet-paper\nepochs: 2.5\n")
    with pytest.raises(RecipeError, match="epochs must be a whole number"):
        load_recipe(bad)


def test_dry_run_writes_the_resolved_run(mfnet_root, tmp_path, capsys):
    from sccosf_ros.cli import main

    out = tmp_path / "dry"
    rc = main(
        ["train", "--recipe", "mfnet-paper", "--root", str(mfnet_root), "--out", str(out),
         "--dry-run"]
    )  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    info = json.loads((out / "train_config.json").read_text())
    for key in (
        "preset", "pretrained", "epochs", "global_batch_size", "lr", "weight_decay", "crop",
        "train_splits", "val_split", "n_train_images", "time_estimate",
    ):  # fmt: skip
        assert key in info, key
    names = {s: (mfnet_root / f"{s}.txt").read_text().split() for s in ("train", "val", "test")}
    assert not set(names["train"]) & set(names["val"])  # distinct splits in the fixture
    assert info["n_train_images"] == len(set(names["train"]) | set(names["val"]))
    assert info["n_val_images"] == len(names["test"]) and info["val_split"] == "test"
    assert info["train_splits"] == ["train", "val"] and info["global_batch_size"] == 8
    assert info["preset"] == "paper" and info["pretrained"] == "in1k"
    assert info["pretrained_weights"] == "convnext_base.fb_in1k"
    assert info["epochs"] == 500 and info["lr"] == 6e-5 and info["crop"] == [480, 640]
    est = info["time_estimate"]
    assert est["hours"] > 0 and "sccosf bench train" in est["source"]
    assert est["hours"] == pytest.approx(
        info["max_iters"] * 8 / est["images_per_s_per_process"] / 3600
    )
    assert not (out / "latest.pt").exists()  # nothing trained
    assert "dry run" in capsys.readouterr().out


def test_dry_run_estimate_from_a_measured_file(mfnet_root, tmp_path, capsys):
    from sccosf_ros.cli import main

    measured = tmp_path / "gpu.json"
    measured.write_text(
        json.dumps(
            {
                "env": {"device": "cuda", "device_name": "Some GPU", "torch": "x"},
                "results": [
                    {"preset": "paper", "crop": [480, 640], "batch_size": 8,
                     "train_images_per_s": 20.0}
                ],
            }
        )
    )  # fmt: skip
    out = tmp_path / "dry"
    args = [
        "train", "--recipe", "fmb-paper", "--dataset", "mfnet", "--root", str(mfnet_root),
        "--out", str(out), "--dry-run", "--throughput-json", str(measured), "--epochs", "2",
    ]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    info = json.loads((out / "train_config.json").read_text())
    est = info["time_estimate"]
    assert est["images_per_s_per_process"] == 20.0 and "used as measured" in est["source"]
    assert est["measured_on"] == "Some GPU"
    assert info["max_iters"] == 2 * (10 // 8)  # fmb-paper trains on train only here
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main([*args[:-4], "--throughput-json", str(bad)]) == 2
    assert "not `sccosf bench train --json` output" in capsys.readouterr().err


def test_train_without_required_inputs_is_one_line(tmp_path, capsys):
    from sccosf_ros.cli import main

    assert main(["train", "--dataset", "mfnet", "--root", "x", "--max-iters", "1"]) == 2
    assert "give --out" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path), "--root", "x", "--max-iters", "1"]) == 2
    assert "give --dataset" in capsys.readouterr().err
    assert main(["train", "--recipe", "nope", "--out", str(tmp_path)]) == 2
    assert "no recipe 'nope'" in capsys.readouterr().err
