"""``--init-from``: an SC-CoSF checkpoint's weights start the run; the segmentation classifier
starts fresh for another class set; the preset comes from the checkpoint; fresh optimizer."""

from __future__ import annotations

import pytest
import torch

from sccosf_ros.inference import load_checkpoint
from sccosf_ros.training.errors import TrainError
from sccosf_ros.training.init_from import checkpoint_model_settings, class_dependent_keys
from sccosf_ros.training.recipes import resolve
from sccosf_ros.training.trainer import Trainer

H, W = 96, 128


@pytest.fixture(scope="module")
def fmb_root(tmp_path_factory):
    """A synthetic FMB-layout dataset: 15 classes, not the checkpoint's 9 MFNet classes."""
    from sccosf_ros.synthetic import write_dataset

    root = tmp_path_factory.mktemp("fmb") / "fmb"
    write_dataset(root, layout="fmb", n=8, seed=5, height=H, width=W)
    return root


def _differs(a: dict, b: dict, keys) -> list[str]:
    return [k for k in keys if not torch.equal(a[k].float(), b[k].float())]


def test_another_class_set_keeps_encoder_fusion_and_refits_only_the_classifier(
    fmb_root, nano_checkpoint, tmp_path, train_cfg, capsys, one_thread
):
    saved = load_checkpoint(nano_checkpoint)["state_dict"]
    trainer = Trainer(train_cfg(fmb_root, tmp_path / "run", init_from=str(nano_checkpoint)))
    line = capsys.readouterr().err
    own = trainer.model.state_dict()
    fresh = class_dependent_keys(trainer.model)
    assert fresh == ["seg_head.classifier.2.weight", "seg_head.classifier.2.bias"]
    assert own[fresh[0]].shape[0] == 15 and saved[fresh[0]].shape[0] == 9
    # everything else (encoder, Sc-CFM per stage, ReAW, the rest of ICRM) is the checkpoint's
    kept = [k for k in own if k not in fresh]
    assert any(k.startswith("encoder.") for k in kept) and any(
        k.startswith("fusion.3") for k in kept
    )
    assert any(k.startswith("fusion_head.") for k in kept)
    assert _differs(own, saved, kept) == []
    assert "class set differs" in line and "seg_head.classifier.2.weight" in line
    assert "15 classes (background" in line and line.count("\n") == 1
    assert "stay untrained" not in line
    # a fine-tuning run, not a resumed one: step 0, an optimizer without state
    assert trainer.step == 0 and not trainer.optimizer.state
    trainer.fit()
    ckpt = load_checkpoint(tmp_path / "run" / "latest.pt")
    assert ckpt["class_names"][0] == "background" and len(ckpt["class_names"]) == 15
    assert ckpt["meta"]["train_config"]["init_from"] == str(nano_checkpoint)


def test_the_same_class_set_loads_every_weight(
    synth_root, nano_checkpoint, tmp_path, train_cfg, capsys, one_thread
):
    saved = load_checkpoint(nano_checkpoint)["state_dict"]
    trainer = Trainer(train_cfg(synth_root, tmp_path / "run", init_from=str(nano_checkpoint)))
    assert "all weights loaded" in capsys.readouterr().err
    own = trainer.model.state_dict()
    assert _differs(own, saved, own) == []


def test_the_network_comes_from_the_checkpoint_unless_a_preset_is_given(nano_checkpoint, tmp_path):
    from sccosf_ros.inference import save_checkpoint
    from sccosf_ros.model import build_model

    cfg = resolve(None, {"init_from": str(nano_checkpoint), "out": str(tmp_path), "root": "R"})
    assert cfg.preset == "nano" and cfg.model_overrides == {}
    # a checkpoint of a changed nano: its overrides come with it, the user's win
    wide = tmp_path / "wide.pt"
    save_checkpoint(wide, build_model("nano", num_classes=3, reaw_width=4, drop_path_rate=0.1))
    assert checkpoint_model_settings(wide) == ("nano", {"reaw_width": 4})
    cfg = resolve(None, {"init_from": str(wide), "model_overrides": {"d_state": 2}})
    assert cfg.model_overrides == {"reaw_width": 4, "d_state": 2}
    cfg = resolve(None, {"init_from": str(wide), "preset": "tiny"})
    assert cfg.preset == "tiny" and cfg.model_overrides == {}


def test_an_irreconcilable_network_or_a_bad_file_is_one_line(
    synth_root, nano_checkpoint, tmp_path, train_cfg, one_thread
):
    with pytest.raises(TrainError, match=r"holds another network.*reaw_width: 8 → 4.*--preset"):
        Trainer(
            train_cfg(
                synth_root,
                tmp_path / "a",
                init_from=str(nano_checkpoint),
                model_overrides={"reaw_width": 4},
            )
        )
    bad = tmp_path / "notes.pt"
    bad.write_text("not a checkpoint\n")
    with pytest.raises(TrainError, match=r"^--init-from: checkpoint .*notes.pt.* not a PyTorch"):
        resolve(None, {"init_from": str(bad)})
    with pytest.raises(TrainError, match="at most one of init_from"):
        train_cfg(
            synth_root, tmp_path, init_from=str(nano_checkpoint), pretrained="in1k"
        ).validate()


def test_a_fresh_classifier_under_fusion_only_is_said_to_stay_untrained(nano_checkpoint):
    from sccosf_ros.model import build_model
    from sccosf_ros.training.init_from import init_from_checkpoint

    model = build_model("nano", num_classes=4)
    names = ["background", "pallet", "person", "forklift"]
    line = init_from_checkpoint(model, nano_checkpoint, names, fusion_only=True)
    assert "4 classes (background, pallet, person, forklift)" in line
    assert line.endswith("start fresh and stay untrained (--fusion-only freezes them)")
