"""``sccosf params``: list the table, write config/sccosf.yaml from it, check a file against it."""

from __future__ import annotations

from sccosf_ros.cli import main
from sccosf_ros.commands.params import diff_summary
from sccosf_ros.pipeline.params_file import render_defaults, source_defaults_path


def test_check_passes_on_the_committed_file(capsys):
    assert main(["params", "--check"]) == 0
    assert "matches the parameter table" in capsys.readouterr().out
    assert source_defaults_path().read_text() == render_defaults()


def test_write_defaults_then_check_a_changed_file(tmp_path, capsys):
    path = tmp_path / "sub" / "p.yaml"
    assert main(["params", "--write-defaults", str(path)]) == 0
    assert path.read_text() == render_defaults()
    assert main(["params", "--check", str(path)]) == 0
    path.write_text(path.read_text().replace("slop: 0.05", "slop: 0.1"))
    capsys.readouterr()
    assert main(["params", "--check", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "1 line(s) differ" in out and "slop: 0.05" not in out
    assert main(["params", "--write-defaults", str(path), "--check"]) == 1  # checks, no write
    assert main(["params", "--check", str(tmp_path / "none.yaml")]) == 1


def test_write_defaults_to_stdout_and_list(capsys):
    assert main(["params", "--write-defaults", "-"]) == 0
    assert capsys.readouterr().out == render_defaults()
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    assert "sync.slop" in out and "live" in out and "restart" in out


def test_unwritable_path_is_one_error_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["params", "--write-defaults", str(blocker / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sccosf params: error: cannot write") and err.count("\n") == 1


def test_diff_summary():
    assert diff_summary("a\nb\n", "a\nb\n") == ""
    assert (
        diff_summary("a\nb\n", "a\nc\n")
        == "1 line(s) differ (1 expected instead), first at line 2: 'b'"
    )
