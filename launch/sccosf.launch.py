"""Launch sccosf_node: ``ros2 launch sccosf_ros sccosf.launch.py [arg:=value ...]``.

Arguments:
  rgb_topic, thermal_topic  camera topics remapped onto the node's rgb/image_raw, thermal/image_raw
  params_file               a parameter file layered over the package's config/sccosf.yaml
                            (e.g. rig.yaml from `sccosf calibrate`); '' = the defaults only
  <parameter>               every node parameter, its dots written as _ (checkpoint, device,
                            backend, inference_height, inference_width, publish_overlay, sync_slop,
                            ...; the table sccosf_ros/pipeline/param_table.py): overrides the
                            file's value when not empty
  namespace                 namespace of the node (its outputs become <namespace>/sccosf/...)
  log_level                 debug | info | warn | error | fatal
  use_sim_time              true when a bag plays with --clock
  lifecycle                 true: the managed node sccosf_lifecycle_node (starts unconfigured)
  autostart                 with lifecycle:=true, configure and activate it at start
  rviz                      true: also start rviz2 with config/sccosf.rviz (when rviz2 is not
                            installed: one warning, the node runs without it)

Equivalent command line (what the launch file runs, for debugging):
  sccosf_node [--autostart] --ros-args --log-level <log_level> -r __node:=sccosf
      -r __ns:=<namespace> --params-file <share>/config/sccosf.yaml
      [--params-file <params_file>] [-p checkpoint:=<checkpoint>] ...
      -p use_sim_time:=<use_sim_time>
      -r rgb/image_raw:=<rgb_topic> -r thermal/image_raw:=<thermal_topic>
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.logging import get_logger
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode, Node
from launch_ros.substitutions import FindPackageShare

from sccosf_ros.pipeline.param_table import (
    NODE_NAME,
    TRUE_WORDS,
    launch_arguments,
    launch_value,
)

PACKAGE = "sccosf_ros"
EXECUTABLE = "sccosf_node"
LIFECYCLE_EXECUTABLE = "sccosf_lifecycle_node"
DEFAULT_PARAMS = "config/sccosf.yaml"  # in the package's share directory, always loaded first
# Launch argument → node parameter, from the parameter table: every parameter, named with _ for
# its dots (inference.height → inference_height), applied only when the argument is not empty.
PARAMETER_ARGUMENTS = launch_arguments()


def _is_true(text):
    return text.strip().lower() in TRUE_WORDS


def _overrides(arg):
    """Node parameters from the non-empty override arguments (typed as the node declares them;
    a wrong type raises one line, which launch prints without a traceback)."""
    overrides = {"use_sim_time": _is_true(arg("use_sim_time"))}
    for name, spec in PARAMETER_ARGUMENTS.items():
        if arg(name):
            overrides[spec.name] = launch_value(name, spec, arg(name))
    return overrides


def _rviz_installed():
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

    try:
        get_package_share_directory("rviz2")
    except (PackageNotFoundError, OSError):  # OSError: no AMENT_PREFIX_PATH at all
        return False
    return True


def _node(context, *args, **kwargs):
    """Build the Node once the arguments are known, so empty overrides keep the file's values."""

    def arg(name):
        return LaunchConfiguration(name).perform(context)

    overrides = _overrides(arg)
    lifecycle = _is_true(arg("lifecycle"))
    # The defaults always load; the user's file (a rig's calibration, ...) overrides them.
    params_files = [
        PathJoinSubstitution([FindPackageShare(PACKAGE), DEFAULT_PARAMS]).perform(context)
    ]
    if arg("params_file"):
        params_files.append(arg("params_file"))
    common = dict(
        package=PACKAGE,
        name=NODE_NAME,
        namespace=arg("namespace"),
        output="screen",
        emulate_tty=True,
        parameters=[*params_files, overrides],
        remappings=[
            ("rgb/image_raw", arg("rgb_topic")),
            ("thermal/image_raw", arg("thermal_topic")),
        ],
        ros_arguments=["--log-level", arg("log_level")],
    )
    if lifecycle:
        autostart = ["--autostart"] if _is_true(arg("autostart")) else []
        actions = [LifecycleNode(executable=LIFECYCLE_EXECUTABLE, arguments=autostart, **common)]
    else:
        actions = [Node(executable=EXECUTABLE, **common)]
    if _is_true(arg("rviz")):
        if _rviz_installed():
            actions.append(
                Node(
                    package="rviz2",
                    executable="rviz2",
                    name="sccosf_rviz",
                    arguments=[
                        "-d",
                        PathJoinSubstitution([FindPackageShare(PACKAGE), "config", "sccosf.rviz"]),
                    ],
                    parameters=[{"use_sim_time": overrides["use_sim_time"]}],
                )
            )
        else:
            get_logger("sccosf.launch").warning(
                "rviz:=true but rviz2 is not installed (apt install ros-$ROS_DISTRO-rviz2): "
                "starting the node without RViz"
            )
    return actions


def generate_launch_description():
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "rgb_topic",
                default_value="/camera/rgb/image_raw",
                description="RGB image topic (sensor_msgs/Image)",
            ),
            DeclareLaunchArgument(
                "thermal_topic",
                default_value="/camera/thermal/image_raw",
                description="thermal image topic (sensor_msgs/Image)",
            ),
            DeclareLaunchArgument(
                "params_file",
                default_value="",
                description="parameter file layered over config/sccosf.yaml (e.g. rig.yaml "
                "from `sccosf calibrate`); '' = the defaults only",
            ),
            *[
                DeclareLaunchArgument(
                    name,
                    default_value="",
                    description=f"parameter {spec.name}: {spec.description}; '' keeps the "
                    "parameter file's value",
                )
                for name, spec in PARAMETER_ARGUMENTS.items()
            ],
            DeclareLaunchArgument(
                "namespace",
                default_value="",
                description="namespace of the node ('' = none)",
            ),
            DeclareLaunchArgument(
                "log_level",
                default_value="info",
                description="debug | info | warn | error | fatal",
            ),
            DeclareLaunchArgument(
                "use_sim_time",
                default_value="false",
                description="use /clock (true when replaying a bag with --clock)",
            ),
            DeclareLaunchArgument(
                "lifecycle",
                default_value="false",
                description="true: run sccosf_lifecycle_node (managed; starts unconfigured)",
            ),
            DeclareLaunchArgument(
                "autostart",
                default_value="false",
                description="with lifecycle:=true: configure and activate at start",
            ),
            DeclareLaunchArgument(
                "rviz",
                default_value="false",
                description="also start rviz2 with config/sccosf.rviz (skipped if not installed)",
            ),
            OpaqueFunction(function=_node),
        ]
    )
