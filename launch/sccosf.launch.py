"""Launch sccosf_node: ``ros2 launch sccosf_ros sccosf.launch.py [arg:=value ...]``.

Arguments:
  rgb_topic, thermal_topic  camera topics remapped onto the node's rgb/image_raw, thermal/image_raw
  params_file               parameter file (default: the package's config/sccosf.yaml)
  checkpoint, device        override the file's values when not empty
  backend                   torch | onnxruntime | openvino | tensorrt; overrides when not empty
  use_sim_time              true when a bag plays with --clock
  rviz                      true: also start rviz2 with config/sccosf.rviz

Equivalent command line (what the launch file runs, for debugging):
  sccosf_node --ros-args -r __node:=sccosf --params-file <params_file>
      [-p checkpoint:=<checkpoint>] [-p device:=<device>] [-p backend:=<backend>]
      -p use_sim_time:=<use_sim_time>
      -r rgb/image_raw:=<rgb_topic> -r thermal/image_raw:=<thermal_topic>
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = "sccosf_ros"
EXECUTABLE = "sccosf_node"
NODE_NAME = "sccosf"


def _node(context, *args, **kwargs):
    """Build the Node once the arguments are known, so empty overrides keep the file's values."""

    def arg(name):
        return LaunchConfiguration(name).perform(context)

    overrides = {"use_sim_time": arg("use_sim_time").lower() in ("true", "1", "yes")}
    for name in ("checkpoint", "device", "backend"):
        if arg(name):
            overrides[name] = arg(name)
    return [
        Node(
            package=PACKAGE,
            executable=EXECUTABLE,
            name=NODE_NAME,
            output="screen",
            emulate_tty=True,
            parameters=[arg("params_file"), overrides],
            remappings=[
                ("rgb/image_raw", arg("rgb_topic")),
                ("thermal/image_raw", arg("thermal_topic")),
            ],
        )
    ]


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
                default_value=PathJoinSubstitution(
                    [FindPackageShare(PACKAGE), "config", "sccosf.yaml"]
                ),
                description="sccosf_node parameter file",
            ),
            DeclareLaunchArgument(
                "checkpoint",
                default_value="",
                description="checkpoint file; '' keeps the parameter file's value",
            ),
            DeclareLaunchArgument(
                "device",
                default_value="",
                description="auto | cpu | cuda | cuda:N; '' keeps the parameter file's value",
            ),
            DeclareLaunchArgument(
                "backend",
                default_value="",
                description="torch | onnxruntime | openvino | tensorrt; '' keeps the "
                "parameter file's value",
            ),
            DeclareLaunchArgument(
                "use_sim_time",
                default_value="false",
                description="use /clock (true when replaying a bag with --clock)",
            ),
            DeclareLaunchArgument(
                "rviz",
                default_value="false",
                description="also start rviz2 with config/sccosf.rviz",
            ),
            OpaqueFunction(function=_node),
            Node(
                package="rviz2",
                executable="rviz2",
                name="sccosf_rviz",
                arguments=[
                    "-d",
                    PathJoinSubstitution([FindPackageShare(PACKAGE), "config", "sccosf.rviz"]),
                ],
                parameters=[{"use_sim_time": LaunchConfiguration("use_sim_time")}],
                condition=IfCondition(LaunchConfiguration("rviz")),
            ),
        ]
    )
