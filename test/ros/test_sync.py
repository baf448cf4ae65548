"""The node's subscriptions + synchroniser (make_synchronizer) on real rclpy."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sccosf_ros.pipeline.image_codec import decode_image
from sccosf_ros.pipeline.pairing import stamp_to_ns
from sccosf_ros.ros.sync import make_synchronizer

MS = 1_000_000  # ns
S = 1_000_000_000


def test_make_synchronizer_validates_arguments():
    with pytest.raises(ValueError, match="backend"):
        make_synchronizer(None, object, ["a", "b"], 10, 5, 0.1, print, backend="x")
    with pytest.raises(ValueError, match="at least 2 topics"):
        make_synchronizer(None, object, ["a"], 10, 5, 0.1, print)
    with pytest.raises(ValueError, match="message types"):
        make_synchronizer(None, [object] * 3, ["a", "b"], 10, 5, 0.1, print)
    with pytest.raises(ValueError, match="admit hooks"):
        make_synchronizer(None, object, ["a", "b"], 10, 5, 0.1, print, admit=[None])


# --------------------------------------------------------------------------- real rclpy
def _image(stamp_ns, frame_id, value):
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from sccosf_ros.pipeline.image_codec import encode_image

    header = Header(frame_id=frame_id)
    header.stamp.sec, header.stamp.nanosec = divmod(stamp_ns, S)
    return encode_image(np.full((2, 3), value, np.uint8), "mono8", header=header, msg_type=Image)


@pytest.mark.ros
def test_rclpy_round_trip_best_effort_publishers(ros_context):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    node = rclpy.create_node("sync_test_sub", context=ros_context)
    pub_node = rclpy.create_node("sync_test_pub", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(pub_node)
    try:
        pairs, arrivals = [], [0, 0]

        def hook(i):
            def admit(msg):  # count every arrival; keep odd-valued RGB frames out
                arrivals[i] += 1
                return i == 1 or msg.data[0] % 2 == 0

            return admit

        handle = make_synchronizer(
            node,
            Image,
            ["cam/rgb", "cam/thermal"],
            qos_profile_sensor_data,
            queue_size=10,
            slop=0.02,
            callback=lambda a, b: pairs.append((a, b)),
            backend="sccosf",
            admit=[hook(0), hook(1)],
        )
        assert handle.backend == "sccosf" and len(handle.subscribers) == 2
        assert handle.subscribers[0].getTopic() == "cam/rgb"
        pub_rgb = pub_node.create_publisher(Image, "cam/rgb", qos_profile_sensor_data)
        pub_th = pub_node.create_publisher(Image, "cam/thermal", qos_profile_sensor_data)

        deadline = time.monotonic() + 120.0  # hang guards
        while time.monotonic() < deadline and (
            pub_rgb.get_subscription_count() < 1 or pub_th.get_subscription_count() < 1
        ):
            executor.spin_once(timeout_sec=0.05)
        # RGB at 3× the thermal rate; thermal stamps 5 ms after every third RGB frame.
        k = 0
        while time.monotonic() < deadline and len(pairs) < 5:
            base = (100 + k) * S // 30
            pub_rgb.publish(_image(base, "rgb_frame", k % 256))
            if k % 6 == 0:
                pub_th.publish(_image(base + 5 * MS, "thermal_frame", k % 256))
            k += 1
            for _ in range(3):
                executor.spin_once(timeout_sec=0.01)
        assert len(pairs) >= 5, f"got {len(pairs)} pairs, arrivals {arrivals}"
        for rgb, th in pairs:
            assert rgb.header.frame_id == "rgb_frame" and th.header.frame_id == "thermal_frame"
            assert stamp_to_ns(th.header.stamp) - stamp_to_ns(rgb.header.stamp) == 5 * MS
            assert (decode_image(rgb) == decode_image(th)).all()
            assert decode_image(rgb).shape == (2, 3)
            assert decode_image(rgb)[0, 0] % 2 == 0  # what admit refused never paired
        assert arrivals[0] > arrivals[1] >= len(pairs)
        handle.destroy()
        assert handle.subscribers == []
        deadline = time.monotonic() + 120.0
        while time.monotonic() < deadline and pub_rgb.get_subscription_count() > 0:
            executor.spin_once(timeout_sec=0.05)
        assert pub_rgb.get_subscription_count() == 0
    finally:
        executor.shutdown()
        node.destroy_node()
        pub_node.destroy_node()
