"""``sccosf``: the top-level help names every subcommand and every bench target."""

from __future__ import annotations

import pytest

from sccosf_ros.cli import main
from sccosf_ros.commands.bench import TARGETS


def test_help_lists_every_bench_target(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    bench_line = next(ln for ln in capsys.readouterr().out.splitlines() if "benchmarks:" in ln)
    assert all(name in bench_line for name in TARGETS) and "gpu" in TARGETS
