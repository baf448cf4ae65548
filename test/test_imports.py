"""The core stays ROS-free: no module outside sccosf_ros/ros/ imports rclpy when imported."""

from __future__ import annotations

import json
import subprocess
import sys

CHECK = r"""
import importlib, json, pkgutil, sys
import sccosf_ros

names = sorted(m.name for m in pkgutil.walk_packages(sccosf_ros.__path__, "sccosf_ros.")
               if not m.name.startswith("sccosf_ros.ros."))
pulled = {}
for name in names:
    before = set(sys.modules)
    importlib.import_module(name)
    new = {m.split(".")[0] for m in set(sys.modules) - before}
    bad = sorted(new & {"rclpy", "rcl_interfaces", "sensor_msgs", "message_filters"})
    if bad:
        pulled[name] = bad
print(json.dumps({"checked": names, "pulled": pulled}))
"""


def test_no_module_outside_ros_imports_rclpy():
    res = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300, check=True
    )
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert "sccosf_ros.pipeline.processor" in report["checked"]
    assert "sccosf_ros.bag.bag_eval" in report["checked"]
    assert report["pulled"] == {}, f"these modules import ROS at import time: {report['pulled']}"
