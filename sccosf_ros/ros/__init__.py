"""The ROS 2 adapter: sccosf_node, topic sync, Image codec (sync/codec also work without rclpy)."""
