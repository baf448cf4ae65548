"""rosbag2 tools: reading and writing bags without ROS (``bag_io``, ``mcap_salvage``), offline
evaluation (``bag_eval``), and the two tools on a live ROS graph, ``replay`` and ``recorder``
(the only modules here that import rclpy, inside their functions).
"""
