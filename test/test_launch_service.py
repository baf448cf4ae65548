"""launch/sccosf.launch.py run for real: ``LaunchService`` runs ``generate_launch_description()``
with launch arguments (what ``ros2 launch sccosf_ros sccosf.launch.py arg:=value`` does) in a
subprocess, and a test-side rclpy node checks what came up: the node's topics, the remapped
camera topics, the parameters (``params_file:=`` layered over the package's defaults, launch
arguments over both, read through the node's parameter service), outputs for a pair, and
``rviz:=true`` without rviz2 keeping the node. SIGINT to the launch process ends it all with
exit code 0 (as Ctrl-C on ``ros2 launch``).

The package is found through a throw-away ament prefix (the ament index marker, the share
folder and the two executables launch_ros looks for under ``lib/sccosf_ros``), so no colcon
build is needed. Needs the ``launch`` and ``launch_ros`` packages: skipped where they are not
installed (the pip-only environment: its ``import launch`` finds only this repository's launch/
folder as a namespace package); test/test_launch.py checks the same file without them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAUNCH_FILE = REPO / "launch" / "sccosf.launch.py"
sys.path.insert(0, str(REPO / "test" / "ros"))  # node_harness (importlib import mode)


def _launch_installed() -> bool:
    try:
        import launch_ros  # noqa: F401
        from launch import LaunchService  # noqa: F401
    except ImportError:
        return False
    return True


pytestmark = [
    pytest.mark.ros,
    pytest.mark.skipif(
        not _launch_installed(), reason="the launch and launch_ros packages are not installed"
    ),
]

HANG_GUARD_S = 180.0
NS = "/t_launch_run"
FQN = f"{NS}/sccosf"
RGB_TOPIC, THERMAL_TOPIC = "/cam_launch_run/rgb", "/cam_launch_run/thermal"

# What `ros2 launch` does with a launch file and `name:=value` arguments.
_LAUNCHER = """
import sys
from launch import LaunchDescription, LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource

path, *pairs = sys.argv[1:]
service = LaunchService(argv=pairs)
service.include_launch_description(
    LaunchDescription([
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(path),
            launch_arguments=[tuple(p.split(":=", 1)) for p in pairs],
        )
    ])
)
sys.exit(service.run())
"""
_EXECUTABLE = """#!{python}
import sys
sys.path.insert(0, {repo!r})
from sccosf_ros.ros.{module} import main
sys.exit(main())
"""


@pytest.fixture(scope="module")
def ament_prefix(tmp_path_factory) -> Path:
    """An install prefix holding sccosf_ros as ament and launch_ros look it up."""
    prefix = tmp_path_factory.mktemp("prefix")
    index = prefix / "share" / "ament_index" / "resource_index" / "packages"
    index.mkdir(parents=True)
    (index / "sccosf_ros").touch()
    share = prefix / "share" / "sccosf_ros"
    share.mkdir()
    for name in ("config", "launch", "package.xml"):
        (share / name).symlink_to(REPO / name)
    lib = prefix / "lib" / "sccosf_ros"
    lib.mkdir(parents=True)
    for exe, module in (("sccosf_node", "node"), ("sccosf_lifecycle_node", "lifecycle_node")):
        path = lib / exe
        path.write_text(_EXECUTABLE.format(python=sys.executable, repo=str(REPO), module=module))
        path.chmod(0o755)
    return prefix


def _rviz_installed(env: dict[str, str]) -> bool:
    code = (
        "from ament_index_python.packages import get_package_share_directory as g\n"
        "try:\n    g('rviz2')\nexcept Exception:\n    raise SystemExit(1)\n"
    )
    return subprocess.run([sys.executable, "-c", code], env=env, timeout=120).returncode == 0


def _get_parameters(io, names: list[str]) -> dict[str, object]:
    from rcl_interfaces.srv import GetParameters
    from rclpy.parameter import parameter_value_to_python

    client = io.node.create_client(GetParameters, f"{FQN}/get_parameters")
    io.wait_for(client.service_is_ready, HANG_GUARD_S, "the node's parameter service")
    future = client.call_async(GetParameters.Request(names=names))
    io.wait_for(future.done, HANG_GUARD_S, "get_parameters reply")
    values = [parameter_value_to_python(v) for v in future.result().values]
    return {  # arrays come back as array.array
        n: v if isinstance(v, (str, bool, int, float)) else list(v) for n, v in zip(names, values)
    }


def test_the_launch_file_runs_the_node_with_its_arguments(ament_prefix, nano_checkpoint, tmp_path):
    from node_harness import OUTPUTS, RosIO, image_msg, scene

    from sccosf_ros.pipeline.params import write_params_file

    # A rig file (what `sccosf calibrate` writes): thermal at half the RGB size, registered by
    # a homography; without the layering every pair would be a size mismatch.
    homography = [2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0]
    rig = write_params_file(
        tmp_path / "rig.yaml",
        {
            "registration.homography": homography,
            "inference.height": 64,  # the launch argument below wins over the file
            "thermal.normalization": "fixed",
            "thermal.low": 7000.0,
            "thermal.high": 9000.0,
            "num_threads": 1,
            "backend": "torch",  # the launch file, not the runtime
        },
    )
    env = dict(os.environ, PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
    env["AMENT_PREFIX_PATH"] = os.pathsep.join(
        p for p in (str(ament_prefix), os.environ.get("AMENT_PREFIX_PATH", "")) if p
    )
    rviz = not _rviz_installed(env)  # rviz:=true is the case without rviz2
    args = {
        "namespace": NS,
        "rgb_topic": RGB_TOPIC,
        "thermal_topic": THERMAL_TOPIC,
        "params_file": str(rig),
        "checkpoint": str(nano_checkpoint),
        "inference_height": "32",
        "inference_width": "32",
        "publish_overlay": "false",
        "rviz": str(rviz).lower(),
    }
    log = tmp_path / "launch.log"
    with log.open("w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(LAUNCH_FILE)]
            + [f"{k}:={v}" for k, v in args.items()],
            stdout=f,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=env,
        )
    io = None
    try:
        io = RosIO(NS, FQN, rgb_topic=RGB_TOPIC, thermal_topic=THERMAL_TOPIC)
        io.wait_subscribed(HANG_GUARD_S)  # the node subscribed to the remapped camera topics
        published = {f"{FQN}/{n}" for n in ("fused", "segmentation", "segmentation_color")}
        io.wait_for(
            lambda: published <= set(dict(io.node.get_topic_names_and_types())),
            HANG_GUARD_S,
            "the node's output topics",
        )
        topics = dict(io.node.get_topic_names_and_types())
        assert topics[RGB_TOPIC] == ["sensor_msgs/msg/Image"]
        assert io.node.count_publishers(f"{FQN}/overlay") == 0  # publish_overlay:=false
        params = _get_parameters(
            io,
            ["registration.homography", "inference.height", "inference.width",
             "thermal.normalization", "checkpoint", "publish.overlay", "sync.slop"],
        )  # fmt: skip
        assert params == {
            "registration.homography": homography,  # params_file:=, over the defaults
            "inference.height": 32,  # launch arguments, over the params_file
            "inference.width": 32,
            "thermal.normalization": "fixed",
            "checkpoint": str(nano_checkpoint),
            "publish.overlay": False,
            "sync.slop": 0.05,  # the package's config/sccosf.yaml
        }
        # A pair through the remapped topics (thermal at half size: registered by the rig).
        rgb, thermal = scene(11)
        deadline = time.monotonic() + HANG_GUARD_S
        while True:
            t = time.time_ns()
            io.publish_pair(
                image_msg(rgb, "rgb8", t, "cam"), image_msg(thermal[::2, ::2], "mono16", t, "cam")
            )
            try:  # a retry interval: best-effort inputs may lose the first pairs
                io.wait_for(lambda t=t: len(io.outputs_for(t)) == 3, 2.0, "the outputs")
                break
            except AssertionError:
                assert time.monotonic() < deadline, f"no output:\n{log.read_text()}"
        assert set(io.outputs_for(t)) == set(OUTPUTS) - {"overlay"}
        fused = io.outputs_for(t)["fused"]
        assert (fused.height, fused.width) == rgb.shape[:2]
        text = log.read_text()
        if rviz:  # one warning, and the node above kept running
            assert "rviz2 is not installed" in text and "starting the node without RViz" in text
        assert proc.poll() is None, text
        proc.send_signal(signal.SIGINT)  # Ctrl-C on `ros2 launch`
        rc = proc.wait(HANG_GUARD_S)
    finally:
        if io is not None:
            io.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert rc == 0, text
    assert "inference size 32x32" in text
    assert "process has finished cleanly" in text, text
    assert "Traceback" not in text, text
