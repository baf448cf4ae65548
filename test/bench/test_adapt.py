"""``sccosf bench adapt`` end to end on a tiny version (a few steps, tiny frames): it runs every
step, writes its report, results and grids, and the fine-tuned weights differ from the ones it
started from. The gain itself is the benchmark's to measure, not this test's."""

from __future__ import annotations

import json

import pytest
import torch

from sccosf_ros.bench.adapt import run_adapt
from sccosf_ros.bench.adapt_config import AdaptConfig
from sccosf_ros.bench.adapt_report import write_report
from sccosf_ros.cli import main
from sccosf_ros.inference import load_checkpoint
from sccosf_ros.synthetic import THERMAL_COUNTS


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _weights(path) -> dict[str, torch.Tensor]:
    ckpt = load_checkpoint(path)
    return {k: v for k, v in ckpt["state_dict"].items() if v.is_floating_point()}


def test_tiny_adapt_runs_end_to_end(tmp_path, nano_checkpoint):
    cfg = AdaptConfig(
        out=tmp_path / "adapt",
        checkpoint=nano_checkpoint,
        style="suburb-dusk",
        seeds=(1, 2),
        duration=3.0,
        size=(64, 96),
        every=0.1,
        steps=2,
        batch_size=2,
        crop=(64, 96),
        threads=1,
        grid_rows=2,
        fusion_frames=2,
        progress=False,
    )
    results = run_adapt(cfg)
    paths = write_report(cfg, results)
    out = tmp_path / "adapt"
    for name in ("report.md", "results.json", "grid.png", "fusion_grid.png", "rig.yaml"):
        assert (out / name).is_file(), name
    saved = json.loads(paths["results"].read_text())
    ev = saved["eval"]
    assert set(ev) == {"shipped", "finetuned", "fusion_finetuned"}
    for name in ("shipped", "finetuned"):
        assert 0.0 <= ev[name]["miou"] <= 1.0 and ev[name]["pairs"] > 0
    assert ev["fusion_finetuned"]["fusion_sampled"]["n_frames"] == 2
    assert len([k for k in ev["shipped"]["fusion_sampled"] if k != "n_frames"]) == 9
    assert saved["data"]["labelled"]["images"] > 0
    report = paths["report"].read_text()
    assert "suburb-dusk" in report and "mIoU" in report and "Qabf" in report
    # the mechanism: both fine-tuned checkpoints moved away from the one they started from
    start = _weights(nano_checkpoint)
    for name in ("finetuned", "fusion_finetuned"):
        tuned = _weights(saved["checkpoints"][name])
        assert tuned.keys() == start.keys()
        assert any(not torch.equal(tuned[k], start[k]) for k in start), name
        # trained with the rig's thermal normalisation, read from the extracted dataset.yaml
        norm = load_checkpoint(saved["checkpoints"][name])["thermal_norm"]
        assert norm["mode"] == "fixed" and (norm["low"], norm["high"]) == tuple(
            float(v) for v in THERMAL_COUNTS
        ), norm


def test_bad_settings_are_one_line(tmp_path, capsys, nano_checkpoint):
    base = ["bench", "adapt", "--out", str(tmp_path / "o"), "--checkpoint", str(nano_checkpoint)]
    assert main([*base, "--style", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sccosf bench adapt: error: unknown style 'nope'") and "\n" not in err
    assert main([*base, "--seeds", "3", "3"]) == 2
    assert "--seeds must differ" in capsys.readouterr().err
    assert main([*base, "--checkpoint", str(tmp_path / "missing.pt")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written before the checks pass
