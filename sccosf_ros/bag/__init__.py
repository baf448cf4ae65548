"""rosbag2 tools: reading and writing bags without ROS (``bag_io``, ``mcap_salvage``), offline
evaluation (``bag_eval``: its settings ``eval_config``, the pair loop ``eval_loop``, label
matching ``label_matcher``, the contact sheet ``eval_sheet`` on ``contact_sheet``), and the two
tools on a live ROS graph, ``replay`` and ``recorder`` (the only modules here that import rclpy,
inside their functions).
"""
