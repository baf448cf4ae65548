"""The per-pair core shared by the ROS node, ``sccosf bag-eval``, the benchmarks and the demo.

No ROS import anywhere in this package: messages are anything with the ``sensor_msgs/Image``
fields. ``image_codec`` (Image ⇄ numpy), ``pairing`` (approximate-time pairing with
message_filters semantics), ``stats`` (counters and latency windows), ``param_table`` (the
node's parameters: the one table), ``params`` (``NodeParams``, validated from the table),
``params_file`` (parameter files, and ``config/sccosf.yaml`` rendered from the table),
``outputs`` (output names, images, messages) and ``processor`` (``PairProcessor``).
"""
