"""Node parameters declared on a real rclpy node (the ROS-free table: test/pipeline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sccosf_ros.pipeline.params import SPECS, ParameterError, read_params_files

CONFIG = Path(__file__).resolve().parents[2] / "config" / "sccosf.yaml"


@pytest.mark.ros
def test_declared_on_a_real_node_from_the_yaml_file():
    import rclpy
    from rclpy.context import Context

    from sccosf_ros.ros.params import declare_and_read

    ctx = Context()
    rclpy.init(
        context=ctx,
        args=[
            "x",
            "--ros-args",
            "--params-file",
            str(CONFIG),
            "-p",
            "sync.slop:=1",
            "-p",
            "inference.height:=64",
            "-p",
            "inference.width:=80",
        ],
    )
    node = rclpy.create_node("sccosf", context=ctx)
    try:
        p = declare_and_read(node)
        assert p == read_params_files(
            [CONFIG], {"sync.slop": 1, "inference.height": 64, "inference.width": 80}
        )
        assert p.sync_slop == 1.0 and p.inference_size == (64, 80)
        assert p.input_qos_reliability == "best_effort"
        desc = node.describe_parameter("thermal.normalization")
        assert "percentile" in desc.description and not desc.read_only  # live
        assert "from the next pair" in desc.additional_constraints
        desc = node.describe_parameter("checkpoint")
        assert desc.read_only and "restart to change" in desc.description
        assert set(SPECS) <= set(node._parameters)
    finally:
        node.destroy_node()
        rclpy.shutdown(context=ctx)


@pytest.mark.ros
def test_wrong_type_from_the_command_line_is_a_parameter_error():
    import rclpy
    from rclpy.context import Context

    from sccosf_ros.ros.params import declare_and_read

    ctx = Context()
    rclpy.init(context=ctx, args=["x", "--ros-args", "-p", "sync.queue_size:=2.5"])
    node = rclpy.create_node("sccosf", context=ctx)
    try:
        with pytest.raises(ParameterError, match=r"sync\.queue_size must be an integer"):
            declare_and_read(node)
    finally:
        node.destroy_node()
        rclpy.shutdown(context=ctx)


@pytest.mark.ros
def test_descriptors_carry_the_tables_ranges_and_out_of_range_is_a_parameter_error():
    import rclpy
    from rclpy.context import Context

    from sccosf_ros.ros.params import declare_and_read

    ctx = Context()
    rclpy.init(context=ctx, args=["x", "--ros-args", "-p", "overlay_alpha:=1.5"])
    node = rclpy.create_node("sccosf", context=ctx)
    try:
        with pytest.raises(ParameterError, match=r"overlay_alpha = 1\.5 is invalid: .*0\.\.1"):
            declare_and_read(node)
    finally:
        node.destroy_node()
        rclpy.shutdown(context=ctx)
    ctx = Context()
    rclpy.init(context=ctx, args=["x"])
    node = rclpy.create_node("sccosf", context=ctx)
    try:
        declare_and_read(node)
        (alpha,) = node.describe_parameter("overlay_alpha").floating_point_range
        assert (alpha.from_value, alpha.to_value) == (0.0, 1.0)
        (quality,) = node.describe_parameter("publish.jpeg_quality").integer_range
        assert (quality.from_value, quality.to_value) == (1, 100)
        desc = node.describe_parameter("publish.jpeg_quality").description
        assert "[1..100]" in desc and "from the next pair" in desc
        assert not node.describe_parameter("thermal.low").floating_point_range  # no range
    finally:
        node.destroy_node()
        rclpy.shutdown(context=ctx)
