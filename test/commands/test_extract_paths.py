"""``sccosf extract`` from the command line: the summary, one-line errors, and the dataset it
writes going through ``sccosf train`` and ``sccosf eval`` (class set and thermal normalisation
carried by the checkpoint)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from sccosf_ros.class_set import ClassSet, write_class_set
from sccosf_ros.cli import main
from sccosf_ros.inference.checkpoint import load_checkpoint
from sccosf_ros.synthetic import THERMAL_COUNTS, write_synthetic_bag

RGB, THERMAL, LABEL = "/camera/rgb/image_raw", "/camera/thermal/image_raw", "/camera/rgb/labels"
FIXED = ["--thermal-norm", "fixed", "--thermal-range", str(THERMAL_COUNTS[0]),
         str(THERMAL_COUNTS[1])]  # fmt: skip


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "bag"
    write_synthetic_bag(path, duration=2.0, height=32, width=32, show_progress=False)
    return path


def _extract(bag, out, *flags: str) -> int:
    return main(["extract", str(bag), "--rgb-topic", RGB, "--thermal-topic", THERMAL,
                 "--every", "0.1", "--out", str(out), "--quiet", *flags])  # fmt: skip


def test_extract_prints_a_summary_and_records_its_settings(bag, tmp_path, capsys):
    classes = write_class_set(
        ClassSet(("road", "car", "person", "bike", "other"), ((0,) * 3,) * 5), tmp_path / "c.yaml"
    )
    rig = tmp_path / "rig.yaml"
    rig.write_text("sccosf:\n  ros__parameters:\n    sync.slop: 0.04\n")
    out = tmp_path / "ds"
    assert _extract(bag, out, "--params-file", str(rig), "--classes", str(classes), *FIXED) == 0
    said = capsys.readouterr().out
    # 10 Hz RGB, 8.7 Hz thermal: 14 pairs, a few of the slow 32x32 scene below the default
    # near-duplicate threshold
    m = re.search(r"pairs seen 14 / kept (\d+) / skipped as duplicates (\d+) / damaged 0", said)
    assert m and int(m[1]) + int(m[2]) == 14 and int(m[1]) > 7
    meta = yaml.safe_load((out / "dataset.yaml").read_text())
    assert meta["params_files"] == [str(rig.resolve())]
    assert meta["pipeline"]["sync.slop"] == 0.04
    assert meta["thermal_norm"]["mode"] == "fixed"
    assert meta["thermal_norm"]["high"] == float(THERMAL_COUNTS[1])
    assert (out / "classes.yaml").read_text() == classes.read_text()


def test_the_default_records_the_checkpoint_normalisation(bag, tmp_path, nano_checkpoint):
    out = tmp_path / "ds"
    assert _extract(bag, out, "--checkpoint", str(nano_checkpoint)) == 0
    meta = yaml.safe_load((out / "dataset.yaml").read_text())
    assert meta["thermal_norm"] == load_checkpoint(nano_checkpoint)["thermal_norm"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing_topic", "thermal topic '/nope' is not in bag"),
        ("unreadable", "is not an MCAP file"),
        ("not_empty", "is not empty: choose a new --out"),
        ("every", "--every must be >= 0 seconds"),
        ("split", "--split needs three fractions"),
        ("classes", "c.yaml: expected a mapping with a 'classes' list"),
    ],
)
def test_bad_input_is_one_line(bag, tmp_path, capsys, case, expected):
    out, src, flags = tmp_path / "ds", bag, []
    if case == "missing_topic":
        code = main(["extract", str(bag), "--rgb-topic", RGB, "--thermal-topic", "/nope",
                     "--every", "1", "--out", str(out)])  # fmt: skip
    else:
        if case == "unreadable":
            src = tmp_path / "broken.mcap"
            src.write_bytes(b"not a bag at all")
        elif case == "not_empty":
            out.mkdir()
            (out / "x.png").write_bytes(b"")
        elif case == "every":
            flags = ["--every", "-1"]
        elif case == "split":
            flags = ["--split", "0.5", "0.2", "0.2"]
        elif case == "classes":
            (tmp_path / "c.yaml").write_text("- road\n")
            flags = ["--classes", str(tmp_path / "c.yaml")]
        code = _extract(src, out, *flags)
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    if case != "not_empty":
        assert not out.exists()  # nothing written for bad input


def test_an_extracted_dataset_trains_and_evaluates(bag, tmp_path):
    ds = tmp_path / "ds"
    flags = ["--label-topic", LABEL, "--block", "2", "--duplicate-threshold", "0", *FIXED]
    assert _extract(bag, ds, *flags) == 0
    run = tmp_path / "run"
    assert main(["train", "--dataset", "folder", "--root", str(ds), "--out", str(run),
                 "--crop", "32", "32", "--max-iters", "1", "--batch-size", "2", "--workers",
                 "0", "--no-tensorboard", "--no-progress", "--device", "cpu", "--threads", "1",
                 "--max-eval-images", "1"]) == 0  # fmt: skip
    ckpt = load_checkpoint(run / "latest.pt")
    assert ckpt["class_names"] == list(ClassSet.of_dataset("mfnet").names)
    # no --thermal-* flag: trained with the node's normalisation from dataset.yaml
    assert ckpt["thermal_norm"]["mode"] == "fixed"
    assert ckpt["thermal_norm"]["high"] == float(THERMAL_COUNTS[1])
    out = tmp_path / "eval"
    assert main(["eval", "--dataset", "folder", "--root", str(ds), "--split", "test", "--out",
                 str(out), "--checkpoint", str(run / "latest.pt"), "--device", "cpu",
                 "--threads", "1", "--grid-samples", "0", "--no-progress"]) == 0  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_images"] > 0
