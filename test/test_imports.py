"""The core stays ROS-free, at any depth.

Two checks: (1) no module outside the ROS-graph modules imports a ROS package anywhere in its
source, function-level and TYPE_CHECKING imports included (an AST walk: what import-time checks
cannot see); (2) importing every other module in a fresh interpreter loads no ROS package.
The layer order itself is checked by import-linter (``make lint``, ``.importlinter``;
``test/test_layers.py`` runs it).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sccosf_ros"

# Python packages that belong to a ROS graph (rclpy, the message and launch packages). cv_bridge
# is not among them: it is an optional pixel converter the codec uses offline too.
ROS_PACKAGES = {
    "rclpy",
    "rcl_interfaces",
    "sensor_msgs",
    "std_msgs",
    "builtin_interfaces",
    "diagnostic_msgs",
    "lifecycle_msgs",
    "rosgraph_msgs",
    "vision_msgs",
    "message_filters",
    "launch",
    "launch_ros",
    "launch_testing",
    "rosbag2_py",
    "image_transport",
}

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
