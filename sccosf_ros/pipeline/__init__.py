"""The per-pair core shared by the ROS node, ``sccosf bag-eval``, the benchmarks and the demo.

No ROS import anywhere in this package: messages are anything with the ``sensor_msgs/Image``
fields. ``image_codec`` (Image ⇄ numpy), ``pairing`` (approximate-time pairing with
message_filters semantics), ``worker`` (latest-only slot and inference thread), ``stats``
(counters and latency windows), ``params`` (the node's parameters and parameter files),
``outputs`` (output names, images, messages) and ``processor`` (``PairProcessor``).
"""
