"""rosbag2 tools: reading and writing bags without ROS (``bag_io``, ``mcap_salvage``), the node's
input side over a bag (``pair_stream``: admit and pair, shared by bag-eval and extract), offline
evaluation (``bag_eval``: its settings ``eval_config``, the pair loop ``eval_loop``, label
matching ``label_matcher``, the contact sheet ``eval_sheet`` on ``contact_sheet``), a recording
turned into a training set (``extract``), and the two
tools on a live ROS graph, ``replay`` and ``recorder`` (the only modules here that import rclpy,
inside their functions).
"""
