"""``sccosf export --opset``: the number reaches torch's exporter (a real export of nano takes a
minute on a loaded 2-core machine; test/backends/test_onnx_export.py runs real exports at the
default opset), and an opset the exporter cannot write is one clear error."""

from __future__ import annotations

import pytest
import torch

from sccosf_ros.cli import main


class _Stop(Exception):
    pass


def test_opset_reaches_the_exporter(nano_checkpoint, tmp_path, monkeypatch, capsys):
    seen = []

    def spy_export(*args, **kwargs):
        seen.append(kwargs.get("opset_version"))
        raise _Stop("recorded")  # stop before tracing: the value is what this test checks

    monkeypatch.setattr(torch.onnx, "export", spy_export)
    out = tmp_path / "m.onnx"
    base = ["export", "--checkpoint", str(nano_checkpoint), "--out", str(out)]
    base += ["--height", "32", "--width", "32", "--check-pairs", "0"]
    for opset in ("19", "21"):
        assert main([*base, "--opset", opset]) == 2
        assert "_Stop: recorded" in capsys.readouterr().err  # the exporter's failure, reported
    assert main(base) == 2
    capsys.readouterr()
    assert seen == [19, 21, 18]  # given, given, the default
    assert not out.exists()


def test_an_opset_below_18_is_refused_before_exporting(nano_checkpoint, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    args = ["export", "--checkpoint", str(nano_checkpoint), "--out", str(out)]
    code = main([*args, "--height", "32", "--width", "32", "--opset", "17"])
    err = capsys.readouterr().err
    assert code == 2 and "opset 17 is too old" in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("bad", ["x", "18.5"])
def test_a_non_integer_opset_is_an_argument_error(bad, capsys):
    with pytest.raises(SystemExit) as info:
        main(["export", "--out", "m.onnx", "--opset", bad])
    assert info.value.code == 2 and "--opset" in capsys.readouterr().err
