"""The core stays ROS-free, at any depth.

Two checks: (1) no module outside the ROS-graph modules imports a ROS package anywhere in its
source, function-level and TYPE_CHECKING imports included (an AST walk: what import-time checks
cannot see); (2) importing every other module in a fresh interpreter loads no ROS package.
The layer order itself is checked by import-linter (``make lint`` runs ``lint-imports`` on
``.importlinter``, whose forbidden-module list this test reads).
"""

from __future__ import annotations

import ast
import configparser
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sccosf_ros"

REPO = PACKAGE.parent


def _ros_contract() -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(REPO / ".importlinter")
    return config["importlinter:contract:ros"]


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.splitlines() if v.strip()]


# Python packages that belong to a ROS graph (rclpy, the message and launch packages), as the
# import-linter contract lists them. cv_bridge is not among them: it is an optional pixel
# converter the codec uses offline too.
ROS_PACKAGES = set(_lines(_ros_contract()["forbidden_modules"]))

# Where a live ROS graph is the point (DESIGN.md "Layers"): the node, replay, record, demo.
ALLOWED = ("ros/", "demo/", "bag/replay.py", "bag/recorder.py")


def ros_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a ROS package in ``source``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.split(".")[0] in ROS_PACKAGES]
    return sorted(found)


def test_ros_imports_finds_function_level_imports():
    src = "def f():\n    if True:\n        from rclpy.node import Node\n    import std_msgs.msg\n"
    assert ros_imports(src) == [(3, "rclpy.node"), (4, "std_msgs.msg")]
    assert ros_imports("import numpy\nfrom sccosf_ros.ros import node\n") == []


def _holds_allowed(folder: str) -> bool:
    return any(a.startswith(folder) for a in ALLOWED)


def test_the_import_linter_contract_covers_every_module_outside_the_graph_modules():
    # import-linter's forbidden contract lists its source modules; a new module must be in it
    # (or in one of the allowed places), or `make lint` would not see its ROS imports.
    sources = set(_lines(_ros_contract()["source_modules"]))
    assert {"rclpy", "sensor_msgs", "std_msgs", "launch"} <= ROS_PACKAGES
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        folder = rel.removesuffix("__init__.py")
        if rel.startswith(ALLOWED) or (rel.endswith("__init__.py") and _holds_allowed(folder)):
            continue  # (a package holding allowed modules cannot be a source: AST test only)
        parts = ["sccosf_ros", *rel.removesuffix(".py").split("/")]
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if not any(".".join(parts[:n]) in sources for n in range(2, len(parts) + 1)):
            missing.append(".".join(parts))
    assert missing == [], f"add to .importlinter's ros contract source_modules: {missing}"


def test_no_ros_import_outside_the_ros_graph_modules():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(ALLOWED):
            continue
        bad += [f"sccosf_ros/{rel}:{line}: {mod}" for line, mod in ros_imports(path.read_text())]
    assert bad == [], "ROS imports outside " + ", ".join(ALLOWED) + ":\n" + "\n".join(bad)


CHECK = r"""
import importlib, json, pkgutil, sys
import sccosf_ros

allowed = sys.argv[1:]
names = sorted(m.name for m in pkgutil.walk_packages(sccosf_ros.__path__, "sccosf_ros.")
               if not any(m.name.startswith(a) for a in allowed))
ros = {"rclpy", "rcl_interfaces", "sensor_msgs", "std_msgs", "message_filters"}
pulled = {}
for name in names:
    before = set(sys.modules)
    importlib.import_module(name)
    bad = sorted({m.split(".")[0] for m in set(sys.modules) - before} & ros)
    if bad:
        pulled[name] = bad
print(json.dumps({"checked": names, "pulled": pulled}))
"""


def test_importing_the_core_loads_no_ros():
    allowed = [
        "sccosf_ros." + a.removesuffix("/").removesuffix(".py").replace("/", ".") for a in ALLOWED
    ]
    res = subprocess.run(
        [sys.executable, "-c", CHECK, *allowed],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert "sccosf_ros.pipeline.processor" in report["checked"]
    assert "sccosf_ros.bag.bag_eval" in report["checked"]
    assert report["pulled"] == {}, f"these modules import ROS at import time: {report['pulled']}"
