"""launch/sccosf.launch.py without the launch packages: its AST must agree with setup.py, the
node and config/sccosf.yaml, and the node must come up with exactly the arguments it passes."""

from __future__ import annotations

import ast
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
LAUNCH = REPO / "launch" / "sccosf.launch.py"
sys.path.insert(0, str(REPO / "test" / "ros"))  # node_harness (importlib import mode)

REQUIRED_ARGS = {
    "rgb_topic",
    "thermal_topic",
    "checkpoint",
    "params_file",
    "device",
    "backend",
    "use_sim_time",
    "rviz",
}


def _constants(tree: ast.Module) -> dict[str, object]:
    """Module-level NAME = <literal> assignments."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = node.value.value
    return out


def _value(node: ast.AST, consts: dict) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    return node


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
    ]


def _kw(call: ast.Call, key: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == key), None)


class LaunchSpec:
    """What the launch file does, read from its AST."""

    def __init__(self) -> None:
        tree = ast.parse(LAUNCH.read_text())
        consts = _constants(tree)
        self.args: dict[str, object] = {}
        for call in _calls(tree, "DeclareLaunchArgument"):
            default = _kw(call, "default_value")
            self.args[_value(call.args[0], consts)] = default
        nodes = [
            c for c in _calls(tree, "Node") if _value(_kw(c, "executable"), consts) != "rviz2"
        ]
        assert len(nodes) == 1, "one sccosf node in the launch file"
        node = nodes[0]
        self.package = _value(_kw(node, "package"), consts)
        self.executable = _value(_kw(node, "executable"), consts)
        self.name = _value(_kw(node, "name"), consts)
        # remappings=[('rgb/image_raw', arg('rgb_topic')), ...]
        self.remaps = {}
        for tup in _kw(node, "remappings").elts:
            src, dst = tup.elts
            self.remaps[_value(src, consts)] = _value(dst.args[0], consts)
        # parameters=[arg('params_file'), overrides]
        params = _kw(node, "parameters").elts
        self.params_file_arg = _value(params[0].args[0], consts)
        # The params_file default: PathJoinSubstitution([FindPackageShare(PKG), 'config', f])
        join = self.args["params_file"]
        parts = join.args[0].elts
        assert isinstance(parts[0], ast.Call) and parts[0].func.id == "FindPackageShare"
        self.params_share_pkg = _value(parts[0].args[0], consts)
        self.params_file_rel = "/".join(_value(p, consts) for p in parts[1:])
        rviz = [
            c
            for c in _calls(tree, "PathJoinSubstitution")
            if any(
                isinstance(e, ast.Constant) and str(e.value).endswith(".rviz")
                for e in c.args[0].elts
            )
        ]
        self.rviz_rel = "/".join(str(_value(p, consts)) for p in rviz[0].args[0].elts[1:])
        # overrides only for non-empty arguments: `for name in (...)` in _node; use_sim_time always
        loops = [
            n
            for f in tree.body
            if isinstance(f, ast.FunctionDef) and f.name == "_node"
            for n in ast.walk(f)
            if isinstance(n, ast.For) and isinstance(n.iter, ast.Tuple)
        ]
        assert len(loops) == 1, "one `for name in (...)` override loop in _node"
        self.override_names = [_value(e, consts) for e in loops[0].iter.elts]


@pytest.fixture(scope="module")
def spec() -> LaunchSpec:
    return LaunchSpec()


def _setup_py():
    tree = ast.parse((REPO / "setup.py").read_text())
    consts = _constants(tree)
    scripts = []
    for call in _calls(tree, "setup"):
        eps = _kw(call, "entry_points")
        for k, v in zip(eps.keys, eps.values):
            if _value(k, consts) == "console_scripts":
                scripts = [_value(e, consts) for e in v.elts]
        data_files = ast.unparse(_kw(call, "data_files"))
    return consts, scripts, data_files


def test_launch_file_agrees_with_setup_py_node_and_config(spec):
    from sccosf_ros.ros import node as node_module

    consts, scripts, data_files = _setup_py()
    assert spec.package == consts["PACKAGE"] == spec.params_share_pkg
    assert f"{spec.executable} = sccosf_ros.ros.node:main" in scripts
    assert spec.name == node_module.NODE_NAME
    assert set(spec.args) >= REQUIRED_ARGS
    assert spec.remaps == {
        node_module.RGB_TOPIC: "rgb_topic",
        node_module.THERMAL_TOPIC: "thermal_topic",
    }
    assert spec.params_file_arg == "params_file"
    # The default parameter file exists, is installed by setup.py, and names this node.
    assert (REPO / spec.params_file_rel).is_file(), spec.params_file_rel
    assert "config/*.yaml" in data_files and "config/*.rviz" in data_files
    assert "launch/*.launch.py" in data_files
    doc = yaml.safe_load((REPO / spec.params_file_rel).read_text())
    assert list(doc) == [f"/**/{spec.name}"]
    assert (REPO / spec.rviz_rel).is_file()


def test_launch_overrides_are_node_parameters_with_empty_defaults(spec):
    from sccosf_ros.backends import BACKENDS
    from sccosf_ros.pipeline.params import SPECS

    assert set(spec.override_names) == {"checkpoint", "device", "backend"}
    for name in spec.override_names:
        assert name in SPECS, name  # a real node parameter
        assert _value(spec.args[name], {}) == "", name  # '' keeps the parameter file's value
    assert SPECS["backend"].choices == BACKENDS


def test_rviz_config_shows_the_three_picture_outputs(spec):
    doc = yaml.safe_load((REPO / spec.rviz_rel).read_text())
    displays = doc["Visualization Manager"]["Displays"]
    topics = {d["Topic"]["Value"] for d in displays if d["Class"] == "rviz_default_plugins/Image"}
    assert topics == {
        f"/{spec.name}/fused",
        f"/{spec.name}/segmentation_color",
        f"/{spec.name}/overlay",
    }
    for d in displays:  # the node publishes its images reliable
        assert d["Topic"]["Reliability Policy"] == "Reliable"


@pytest.mark.ros
def test_node_starts_with_the_launch_files_arguments(spec, nano_checkpoint, tmp_path):
    from node_harness import NodeProcess, RosIO, image_msg, ns_of, scene

    launch_args = {
        "rgb_topic": "/cam_launch/rgb",
        "thermal_topic": "/cam_launch/thermal",
        "params_file": str(REPO / spec.params_file_rel),
        "checkpoint": str(nano_checkpoint),
        "device": "",
        "backend": "",
        "use_sim_time": "false",
    }
    # What launch_ros runs for this Node: name remap, the file, then the override dict.
    cmd = [
        sys.executable,
        "-m",
        "sccosf_ros.ros.node",
        "--ros-args",
        "-r",
        f"__node:={spec.name}",
        "--params-file",
        launch_args[spec.params_file_arg],
    ]
    cmd += ["-p", f"use_sim_time:={launch_args['use_sim_time']}"]
    for name in spec.override_names:
        if launch_args[name]:
            cmd += ["-p", f"{name}:={launch_args[name]}"]
    for src, arg in spec.remaps.items():
        cmd += ["-r", f"{src}:={launch_args[arg]}"]
    proc = NodeProcess(cmd, tmp_path / "node.log")
    io = None
    try:
        proc.wait_ready()
        io = RosIO(
            "",
            f"/{spec.name}",
            rgb_topic=launch_args["rgb_topic"],
            thermal_topic=launch_args["thermal_topic"],
        )
        io.wait_subscribed()
        rgb, thermal = scene(11)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            t = time.time_ns()
            io.publish_pair(
                image_msg(rgb, "rgb8", t, "cam"), image_msg(thermal, "mono16", t, "cam")
            )
            try:
                io.wait_for(lambda t=t: "fused" in io.outputs_for(t), 3.0, "fused output")
                break
            except AssertionError:
                continue
        else:
            raise AssertionError(f"no output through the remapped topics:\n{proc.log()}")
        with io.lock:
            assert ns_of(io.outputs["fused"][-1].header.stamp) > 0
        rc, _ = proc.interrupt()
        assert rc == 0, proc.log()
    finally:
        if io is not None:
            io.close()
        proc.kill()
