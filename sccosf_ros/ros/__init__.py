"""The ROS 2 adapter on the ROS-free pipeline: sccosf_node and the lifecycle node, parameter
declarations, subscriptions and synchronizer wiring, publishers, /diagnostics, DDS set-up, the
inference worker, and the rclpy probes of ``sccosf bench node``."""
