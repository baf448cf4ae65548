"""``sccosf synth``: a styled dataset, a styled recording in a custom class set, bad input."""

from __future__ import annotations

import json

import numpy as np

from sccosf_ros.bag.bag_io import BagReader
from sccosf_ros.cli import main
from sccosf_ros.pipeline.image_codec import decode_image
from sccosf_ros.synthetic import read_class_map, render_scene

FOUR = """\
classes:
  - {id: 0, name: background}
  - {id: 1, name: vehicle, synthetic: [car, bike]}
  - {id: 2, name: person, synthetic: [person]}
  - {id: 3, name: barrier, synthetic: [guardrail, color_cone, car_stop]}
"""


def test_styled_dataset_records_its_style(tmp_path, capsys):
    out = tmp_path / "ds"
    args = [str(out), "--n", "3", "--size", "32", "32", "--preview", "0", "--no-progress"]
    assert main(["synth", *args, "--style", "industrial"]) == 0
    assert "style industrial" in capsys.readouterr().out
    meta = json.loads((out / "sccosf_synth.json").read_text())
    assert meta["style"]["name"] == "industrial"
    assert meta["night_fraction"] == 0.3  # the style's day/night mix


def test_styled_bag_in_a_custom_class_set(tmp_path, capsys):
    classes = tmp_path / "classes.yaml"
    classes.write_text(FOUR)
    out = tmp_path / "rec"
    argv = ["synth", str(out), "--bag", "--duration", "0.3", "--size", "40", "56"]
    argv += ["--style", "suburb-dusk", "--classes", str(classes), "--seed", "3", "--no-progress"]
    assert main(argv) == 0
    assert "vehicle" in capsys.readouterr().out
    with BagReader(out) as r:
        msgs = {}
        for topic, ty, _, raw in r.messages():
            msgs.setdefault(topic, r.deserialize(raw, ty))
    scene = render_scene(3, 40, 56, night=False, t=0.0, style="suburb-dusk")
    label = decode_image(msgs["/camera/rgb/labels"])
    np.testing.assert_array_equal(label, read_class_map(classes).apply(scene.label))
    assert label.max() <= 3


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "a"), "--style", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sccosf synth: error: unknown style 'nope'") and "\n" not in err
    bad = tmp_path / "s.yaml"
    bad.write_text("lighting: {exposure: 99}\n")
    assert main(["synth", str(tmp_path / "b"), "--style", str(bad)]) == 2
    assert "lighting.exposure" in capsys.readouterr().err
    assert main(["synth", str(tmp_path / "c"), "--classes", str(bad)]) == 2
    assert "add --bag" in capsys.readouterr().err
