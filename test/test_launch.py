"""launch/sccosf.launch.py without the launch packages: its AST must agree with setup.py, the
node and config/sccosf.yaml; its helper functions (argument → parameter overrides, the rviz2
check) run for real, out of the file itself; and the node must come up with exactly the
command line launch_ros builds from those arguments."""

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
    "namespace",
    "log_level",
    "inference_height",
    "inference_width",
    "publish_fused",
    "publish_segmentation",
    "publish_segmentation_color",
    "publish_overlay",
    "lifecycle",
    "autostart",
}
# Functions of the launch file that need no launch package, run by these tests.
HELPERS = ("_is_true", "_overrides", "_rviz_installed")


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
    ]


def _kw(call: ast.Call, key: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == key), None)


class LaunchSpec:
    """What the launch file does, read from its AST; its helpers compiled from its source."""

    def __init__(self) -> None:
        tree = self.tree = ast.parse(LAUNCH.read_text())
        # Module constants, the package's imports (the parameter table) and the launch-free
        # helpers, executed from the file's own code.
        body = [
            n
            for n in tree.body
            if isinstance(n, ast.Assign)
            or (isinstance(n, ast.ImportFrom) and n.module.startswith("sccosf_ros"))
            or (isinstance(n, ast.FunctionDef) and n.name in HELPERS)
        ]
        self.ns: dict[str, object] = {}
        exec(compile(ast.Module(body=body, type_ignores=[]), str(LAUNCH), "exec"), self.ns)
        c = self.ns
        self.args: dict[str, ast.AST | None] = {}
        for call in _calls(tree, "DeclareLaunchArgument"):
            first = call.args[0]
            if isinstance(first, ast.Constant):
                self.args[first.value] = _kw(call, "default_value")
        # The node parameters' arguments are declared in a comprehension over the table.
        self.args.update(dict.fromkeys(c["PARAMETER_ARGUMENTS"]))
        self.package, self.name = c["PACKAGE"], c["NODE_NAME"]
        self.executable, self.lifecycle_executable = c["EXECUTABLE"], c["LIFECYCLE_EXECUTABLE"]
        node_fn = next(
            n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_node"
        )
        common = next(
            n.value
            for n in ast.walk(node_fn)
            if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "common"
        )
        self.common = common
        self.remaps = {
            tup.elts[0].value: tup.elts[1].args[0].value for tup in _kw(common, "remappings").elts
        }
        # parameters=[*params_files, overrides]: the package's defaults first, then the
        # user's params_file when given (`if arg("params_file")`), then the override dict.
        params = _kw(common, "parameters").elts
        self.layered = isinstance(params[0], ast.Starred) and len(params) == 2
        used = {c.args[0].value for c in _calls(node_fn, "arg") if c.args}
        self.params_file_arg = "params_file" if "params_file" in used else None
        self.params_file_default = self.args["params_file"]
        self.ros_arguments = ast.unparse(_kw(common, "ros_arguments"))
        self.node_fn = node_fn
        # The defaults: PathJoinSubstitution([FindPackageShare(PACKAGE), DEFAULT_PARAMS])
        join = next(
            c
            for c in _calls(node_fn, "PathJoinSubstitution")
            if any(isinstance(e, ast.Name) and e.id == "DEFAULT_PARAMS" for e in c.args[0].elts)
        )
        parts = join.args[0].elts
        assert isinstance(parts[0], ast.Call) and parts[0].func.id == "FindPackageShare"
        self.params_share_pkg = parts[0].args[0].id
        self.params_file_rel = c["DEFAULT_PARAMS"]
        rviz = [
            call
            for call in _calls(tree, "PathJoinSubstitution")
            if any(
                isinstance(e, ast.Constant) and str(e.value).endswith(".rviz")
                for e in call.args[0].elts
            )
        ]
        self.rviz_rel = "/".join(e.value for e in rviz[0].args[0].elts[1:])

    def overrides(self, args: dict[str, str]) -> dict[str, object]:
        """The launch file's own ``_overrides`` for these launch arguments."""
        return self.ns["_overrides"](lambda name: args.get(name, ""))

    def command(self, args: dict[str, str], overrides_file: Path, module: str) -> list[str]:
        """What launch_ros runs for the node: arguments, --ros-args, log level, name and
        namespace remaps, the parameter file, the override dict (a file), topic remaps."""
        cmd = [sys.executable, "-m", module]
        if module.endswith("lifecycle_node") and self.ns["_is_true"](args.get("autostart", "")):
            cmd.append("--autostart")
        cmd += ["--ros-args", "--log-level", args["log_level"], "-r", f"__node:={self.name}"]
        if args.get("namespace"):
            cmd += ["-r", f"__ns:={args['namespace']}"]
        cmd += ["--params-file", str(REPO / self.params_file_rel)]
        if args.get(self.params_file_arg):
            cmd += ["--params-file", args[self.params_file_arg]]
        cmd += ["--params-file", str(overrides_file)]
        for src, arg in self.remaps.items():
            cmd += ["-r", f"{src}:={args[arg]}"]
        return cmd


@pytest.fixture(scope="module")
def spec() -> LaunchSpec:
    return LaunchSpec()


def _setup_py():
    tree = ast.parse((REPO / "setup.py").read_text())
    consts = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    scripts = []
    for call in _calls(tree, "setup"):
        eps = _kw(call, "entry_points")
        for k, v in zip(eps.keys, eps.values):
            if k.value == "console_scripts":
                scripts = [e.value for e in v.elts]
        data_files = ast.unparse(_kw(call, "data_files"))
    return consts, scripts, data_files


def test_launch_file_agrees_with_setup_py_node_and_config(spec):
    from sccosf_ros.pipeline.param_table import SPECS
    from sccosf_ros.ros import node as node_module

    consts, scripts, data_files = _setup_py()
    assert spec.package == consts["PACKAGE"] and spec.params_share_pkg == "PACKAGE"
    assert f"{spec.executable} = sccosf_ros.ros.node:main" in scripts
    assert f"{spec.lifecycle_executable} = sccosf_ros.ros.lifecycle_node:main" in scripts
    assert spec.name == node_module.NODE_NAME
    assert set(spec.args) >= REQUIRED_ARGS
    assert spec.remaps == {
        node_module.RGB_TOPIC: "rgb_topic",
        node_module.THERMAL_TOPIC: "thermal_topic",
    }
    assert spec.params_file_arg == "params_file"
    assert spec.layered and ast.literal_eval(spec.params_file_default) == ""  # optional, on top
    assert "--log-level" in spec.ros_arguments and "log_level" in spec.ros_arguments
    # Every node parameter is an override argument, named after it (. → _), from the table.
    overridden = {s.name: name for name, s in spec.ns["PARAMETER_ARGUMENTS"].items()}
    assert set(overridden) == set(SPECS)
    assert all(arg == name.replace(".", "_") for name, arg in overridden.items())
    # The default parameter file exists, is installed by setup.py, and names this node.
    assert (REPO / spec.params_file_rel).is_file(), spec.params_file_rel
    assert "config/*.yaml" in data_files and "config/*.rviz" in data_files
    assert "launch/*.launch.py" in data_files
    doc = yaml.safe_load((REPO / spec.params_file_rel).read_text())
    assert list(doc) == [f"/**/{spec.name}"]
    assert (REPO / spec.rviz_rel).is_file()


def test_empty_override_arguments_keep_the_files_values(spec):
    assert spec.overrides({"use_sim_time": "false"}) == {"use_sim_time": False}
    got = spec.overrides(
        {
            "use_sim_time": "True",
            "checkpoint": "/m.pt",
            "backend": "onnxruntime",
            "inference_height": "240",
            "inference_width": "320",
            "publish_overlay": "false",
            "publish_fused": "1",
        }
    )
    assert got == {
        "use_sim_time": True,
        "checkpoint": "/m.pt",
        "backend": "onnxruntime",
        "inference.height": 240,
        "inference.width": 320,
        "publish.overlay": False,
        "publish.fused": True,
    }
    with pytest.raises(ValueError, match="inference_height must be a whole number"):
        spec.overrides({"use_sim_time": "false", "inference_height": "abc"})


def test_rviz_is_only_started_when_installed(spec, tmp_path, monkeypatch):
    """rviz:=true without rviz2: a warning and the node alone (no exit 1, no orphan node)."""
    # The launch file's own check, on real ament indexes: none at all (this venv), a ROS
    # prefix without rviz2, and one with it.
    installed = spec.ns["_rviz_installed"]
    monkeypatch.delenv("AMENT_PREFIX_PATH", raising=False)
    assert installed() is False
    index = tmp_path / "opt" / "share" / "ament_index" / "resource_index" / "packages"
    index.mkdir(parents=True)
    (index / "sccosf_ros").touch()
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path / "opt"))
    assert installed() is False
    (index / "rviz2").touch()
    (tmp_path / "opt" / "share" / "rviz2").mkdir()
    assert installed() is True
    ifs = [n for n in ast.walk(spec.node_fn) if isinstance(n, ast.If)]
    guard = next(n for n in ifs if "_rviz_installed" in ast.unparse(n.test))
    assert "rviz2" in ast.unparse(guard.body) and "Node(" in ast.unparse(guard.body)
    orelse = "\n".join(ast.unparse(s) for s in guard.orelse)
    assert "warning(" in orelse and "Node(" not in orelse
    # No rviz2 Node anywhere else in the file (it used to be an unconditional action).
    rviz_nodes = [
        c for c in _calls(spec.tree, "Node") if "rviz2" in ast.unparse(_kw(c, "executable") or c)
    ]
    assert len(rviz_nodes) == 1 and rviz_nodes[0] in list(ast.walk(guard))


def _launch_args(spec: LaunchSpec, nano_checkpoint: Path, **extra: str) -> dict[str, str]:
    args = dict.fromkeys(spec.args, "")
    args.update(
        rgb_topic="/cam_launch/rgb",
        thermal_topic="/cam_launch/thermal",
        params_file="",
        checkpoint=str(nano_checkpoint),
        use_sim_time="false",
        log_level="info",
        lifecycle="false",
        autostart="false",
        rviz="true",  # rviz2 is absent: the node must still run
    )
    args.update(extra)
    return args


def _run_launched_node(spec, args, module, tmp_path, fqn, expected, thermal_step=1):
    """Run the node as launch_ros would, send pairs until the ``expected`` outputs of one
    arrive; check the other outputs have no publisher at all; SIGINT. Returns the log."""
    from node_harness import HANG_GUARD_S, OUTPUTS, NodeProcess, RosIO, image_msg, scene

    from sccosf_ros.pipeline.params import write_params_file

    overrides = write_params_file(
        tmp_path / "overrides.yaml", spec.overrides(args), node_key="/**"
    )
    proc = NodeProcess(spec.command(args, overrides, module), tmp_path / "node.log")
    io = None
    try:
        proc.wait_ready(HANG_GUARD_S)
        io = RosIO("", fqn, rgb_topic=args["rgb_topic"], thermal_topic=args["thermal_topic"])
        io.wait_subscribed()
        rgb, thermal = scene(11)
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            t = time.time_ns()
            io.publish_pair(
                image_msg(rgb, "rgb8", t, "cam"),
                image_msg(thermal[::thermal_step, ::thermal_step], "mono16", t, "cam"),
            )
            try:  # a retry interval: best-effort inputs may lose the first pairs
                io.wait_for(lambda t=t: expected <= set(io.outputs_for(t)), 3.0, "outputs")
                break
            except AssertionError:
                continue
        else:
            raise AssertionError(f"no output through the remapped topics:\n{proc.log()}")
        with io.lock:
            fused = io.outputs_for(t)["fused"]
            assert (fused.height, fused.width) == rgb.shape[:2]  # outputs at the RGB size
        for name in set(OUTPUTS) - expected:  # switched off: not advertised at all
            assert io.node.count_publishers(f"{fqn}/{name}") == 0, name
        rc, _ = proc.interrupt(HANG_GUARD_S)
        assert rc == 0, proc.log()
        return proc.log()
    finally:
        if io is not None:
            io.close()
        proc.kill()


@pytest.mark.ros
def test_node_starts_with_the_launch_files_arguments(spec, nano_checkpoint, tmp_path):
    # A rig file (what `sccosf calibrate` writes): thermal at half the RGB size, registered by
    # a homography. Without the layering the node would reject every pair as size_mismatch.
    from sccosf_ros.pipeline.params import write_params_file

    rig = write_params_file(
        tmp_path / "rig.yaml", {"registration.homography": [2.0, 0, 0, 0, 2.0, 0, 0, 0, 1.0]}
    )
    args = _launch_args(
        spec,
        nano_checkpoint,
        params_file=str(rig),
        namespace="/t_launch",
        inference_height="32",
        inference_width="32",
        publish_overlay="false",
    )
    expected = {"fused", "segmentation", "segmentation_color"}  # publish_overlay:=false
    log = _run_launched_node(
        spec, args, "sccosf_ros.ros.node", tmp_path, "/t_launch/sccosf", expected, thermal_step=2
    )
    assert "inference size 32x32" in log and "Traceback" not in log


@pytest.mark.ros
@pytest.mark.slow
def test_lifecycle_autostart_from_the_launch_files_arguments(spec, nano_checkpoint, tmp_path):
    args = _launch_args(
        spec,
        nano_checkpoint,
        namespace="/t_launch_lc",
        lifecycle="true",
        autostart="true",
        inference_height="32",
        inference_width="32",
    )
    expected = {"fused", "segmentation", "segmentation_color", "overlay"}
    log = _run_launched_node(
        spec, args, "sccosf_ros.ros.lifecycle_node", tmp_path, "/t_launch_lc/sccosf", expected
    )
    assert "configured:" in log and "Traceback" not in log


def test_every_parameter_is_a_launch_argument_typed_from_the_table(spec):
    got = spec.overrides(
        {
            "use_sim_time": "false",
            "sync_slop": "0.2",
            "diagnostics_window": "50",
            "registration_homography": "[2, 0, 0, 0, 2, 0, 0, 0, 1]",
            "backend_cache_dir": "/tmp/c",
        }
    )
    assert got == {
        "use_sim_time": False,
        "sync.slop": 0.2,
        "diagnostics.window": 50,
        "registration.homography": [2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0],
        "backend.cache_dir": "/tmp/c",
    }
    with pytest.raises(ValueError, match="sync_slop must be a number"):
        spec.overrides({"sync_slop": "fast"})
