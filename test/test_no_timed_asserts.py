"""CI guard: no test asserts on a duration or a rate.

Speed is measured by the benchmarks (``sccosf bench ...``); a test that compares a wall-clock
figure fails on a loaded machine for no fault of the code. Tests wait for the behaviour itself
with a generous hang-guard deadline instead. This AST check finds an ``assert`` whose comparison
involves a timing-like name (``elapsed``, ``took``, ``seconds``, ``latency``, ``*_s``, ``*_hz``,
``rate``, ``fps``, ...) or a clock call (``time.time()``, ``perf_counter()``, ``monotonic()``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TEST_ROOT = Path(__file__).resolve().parent

# A name (or attribute, or string subscript key) that holds a duration or a rate.
TIMED_NAME = re.compile(
    r"""^(
        elapsed | took | wall | duration | durations | latency | latencies | seconds | secs
        | rate | rates | fps | hz | throughput | speed | speedup | ms
        | .*_(s|sec|secs|seconds|ms|hz|fps|rate|latency|elapsed|took|duration|per_s|over_.*)
        | (elapsed|latency|duration|rate|took|wall|seconds|throughput|speedup)_.*
        | t_?(start|end|stop|0|1)
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Message time, not wall time: header stamps, sync slop, clock jumps in a bag or sim time are
# data the code computes exactly.
DATA_TIME = re.compile(r"stamp|slop|jump|back_s|offset", re.IGNORECASE)
# ``assert clock() < deadline``: a hang guard (the deadline is generous), not a speed check.
HANG_GUARD = re.compile(r"deadline", re.IGNORECASE)
# A line (or the line above) may state why a comparison of timing figures is an invariant that
# load cannot break (e.g. a pair's end-to-end age includes its inference time).
PRAGMA = "# timing-invariant:"
CLOCKS = {"time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns"}


def _names_in(node: ast.AST) -> list[str]:
    """Identifiers a comparison operand reads: names, attribute names, string subscript keys."""
    out = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            out.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            out.append(sub.attr)
        elif (
            isinstance(sub, ast.Subscript)
            and isinstance(sub.slice, ast.Constant)
            and isinstance(sub.slice.value, str)
        ):
            out.append(sub.slice.value)
    return out


def _is_zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0 and node.value is not False


def _is_set(node: ast.AST) -> bool:
    if isinstance(node, (ast.Set, ast.SetComp)):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("set", "frozenset")
    )


def _is_clock_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    return name in CLOCKS


def _timed_reason(cmp: ast.Compare) -> str | None:
    """Why this comparison looks like a timing check (None: it does not)."""
    if not any(isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for op in cmp.ops):
        return None  # equality and membership on a timing value are exact, not speed checks
    operands = (cmp.left, *cmp.comparators)
    if len(operands) == 2 and any(_is_zero(o) for o in operands):
        return None  # "a figure was measured" (> 0, >= 0): no load makes it fail
    if any(_is_set(o) for o in operands):
        return None  # subset checks on the keys of a timings dict
    if any(HANG_GUARD.search(n) for o in operands for n in _names_in(o)):
        return None
    for operand in operands:
        for sub in ast.walk(operand):
            if _is_clock_call(sub):
                return "a clock call"
        for name in _names_in(operand):
            if TIMED_NAME.match(name) and not DATA_TIME.search(name):
                return f"the timing name {name!r}"
    return None


def timed_asserts(source: str, filename: str = "<test>") -> list[str]:
    """``file:line: reason`` for every assert in ``source`` that compares a duration or rate."""
    found = []
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Assert):
            continue
        end = node.end_lineno or node.lineno
        if any(PRAGMA in line for line in lines[max(0, node.lineno - 2) : end]):  # or above
            continue
        for sub in ast.walk(node.test):
            if isinstance(sub, ast.Compare) and (reason := _timed_reason(sub)):
                found.append(f"{filename}:{node.lineno}: assert compares {reason}")
                break
    return found


def test_the_test_tree_has_no_timed_asserts():
    found = []
    for path in sorted(TEST_ROOT.rglob("*.py")):
        found += timed_asserts(path.read_text(), str(path.relative_to(TEST_ROOT.parent)))
    assert not found, "timing belongs in a benchmark, not a test assert:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "snippet",
    [
        "t0 = time.monotonic()\nrun()\nassert time.monotonic() - t0 < 2.0\n",
        "took = stop()\nassert took < 10.0, took\n",
        "assert proc.wait() == 0 and elapsed <= 1.5\n",
        "assert 7.0 <= rate <= 11.0\n",
        "assert max(latencies) < 4 * delay + 0.5\n",
        "assert activate_s < 30\n",
        "assert parts['scan_speed']['seconds'] < 20\n",
        "assert result['train_over_forward'] > 1.0\n",
        "assert stats.wall_s >= 3\n",
        "assert time.perf_counter() - start < 5\n",
        "assert output_hz > 5\n",
        "assert 0 <= rate <= 11\n",
        "assert 0.1 < elapsed\n",
    ],
)
def test_the_guard_catches_timed_asserts(snippet):
    assert timed_asserts(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "assert rc == 0, log\n",
        "assert len(stamps) == processed\n",
        "assert stats.published == {'rgb': 6}\n",
        "assert 0 <= miou <= 1\n",
        "assert saved % interval == 0 and 0 <= reached - saved <= interval\n",
        "assert parts['scan_speed']['status'] == 'timeout'\n",
        "assert args.rate == 2.0\n",  # an option's value, not a measured rate
        "assert r['p50_ms'] > 0\n",  # a figure was measured
        "assert time.monotonic() < deadline, 'no output'\n",  # a hang guard
        "assert max(ts) - min(ts) < p.slop_ns\n",  # message stamps
        "assert {'model', 'total'} <= set(out.timings_ms)\n",
        "assert e2e_ms >= inference_ms  # timing-invariant: e2e includes inference\n",
    ],
)
def test_the_guard_passes_behaviour_checks(snippet):
    assert timed_asserts(snippet) == []
