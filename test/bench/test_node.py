"""``sccosf bench node``: bad input is one error line and exit code 2, before any benchmark."""

from __future__ import annotations

import argparse
import json

import pytest

from sccosf_ros.bench import node as bench_node
from sccosf_ros.bench.errors import BenchError
from sccosf_ros.bench.node_e2e import bench_e2e
from sccosf_ros.cli import main


@pytest.fixture(autouse=True)
def _real_auto(real_auto_backend):
    """These tests are about the real ``auto`` choice (conftest pins it to torch elsewhere)."""


def test_a_missing_checkpoint_is_refused_at_start(tmp_path, capsys):
    missing = tmp_path / "missing.pt"
    assert main(["bench", "node", "--checkpoint", str(missing)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sccosf bench node: error: --checkpoint")
    assert str(missing) in lines[0]
    assert captured.out == ""  # nothing was timed


@pytest.mark.parametrize(
    "argv",
    [["--height", "0"], ["--width", "-5"], ["--rates", "10", "0"], ["--duration", "nan"]],
)
def test_sizes_and_rates_must_be_positive(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "node", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argv[0]}" in err and "Traceback" not in err


def test_size_rate_and_the_backends_compared():
    parser = argparse.ArgumentParser()
    bench_node.add_arguments(parser)
    args = parser.parse_args(["--size", "640x480", "--rate", "10"])
    assert (args.size, args.rates, args.backend) == ((640, 480), [10.0, 30.0], "auto")
    assert bench_node.e2e_backends(args) == ["torch", "auto"]  # side by side
    args = parser.parse_args(["--backend", "torch"])
    assert bench_node.e2e_backends(args) == ["torch"]
    args = parser.parse_args(["--backend", "openvino", "--baseline", "none"])
    assert bench_node.e2e_backends(args) == ["openvino"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--size", "640"])


@pytest.mark.ros
@pytest.mark.slow
def test_a_node_that_does_not_start_is_one_line_naming_its_error(tmp_path):
    parser = argparse.ArgumentParser()
    bench_node.add_arguments(parser)
    args = parser.parse_args(["--rates", "10", "--duration", "1"])
    with pytest.raises(BenchError) as exc:
        bench_e2e(args, tmp_path / "gone.pt", "nano", tmp_path)
    text = str(exc.value)
    assert "\n" not in text and text.startswith("the nano node did not start (node exited")
    assert "sccosf_node: error:" in text and "gone.pt" in text


@pytest.mark.ros
@pytest.mark.slow
def test_json_and_markdown_outputs(tmp_path, capsys):
    out, md = tmp_path / "node.json", tmp_path / "node.md"
    argv = ["--size", "64x48", "--pairs", "3", "--skip-e2e", "--backend", "torch"]
    assert main(["bench", "node", *argv, "--json", str(out), "--markdown", str(md)]) == 0
    printed = capsys.readouterr().out
    results = json.loads(out.read_text())
    assert results["env"]["size"] == [48, 64] and results["env"]["dds"].startswith("DDS:")
    overhead = results["overhead_ms"]
    assert set(bench_node.STAGES) <= set(overhead) and overhead["ROS path total"]["n"] == 2
    assert "| nano preprocess |" in printed  # the Predictor's own stages
    assert results["overhead_messages_received"] > 0  # the loopback subscriber got them
    assert "| ROS path total |" in md.read_text() and "| ROS path total |" in printed
