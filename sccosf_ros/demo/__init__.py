"""``sccosf demo`` (``make demo``): the whole product on this machine, in a minute or two.

1. write a synthetic RGB-thermal rosbag2 (RGB 10 Hz rgb8, thermal 8.7 Hz mono16 raw counts,
   mono8 labels; ``sccosf_ros.synthetic``) and the node's parameter file for it,
   ``demo_params.yaml`` (the shipped checkpoint, the thermal range it was trained with);
2. start the real ``sccosf_node`` as a subprocess with ``config/sccosf.yaml`` + that file and
   ``use_sim_time`` (``ros.node_process``);
3. replay the bag to it with ``/clock`` (``bag.replay.BagPlayer``) while a recorder node writes
   the node's outputs, ``/diagnostics`` and ``~/label_info`` to a rosbag2;
4. write ``outputs/demo/``: ``contact_sheet.png``, ``preview.gif`` (RGB | thermal | fused |
   overlay), ``metrics.json`` (mIoU of the recorded segmentation against the bag's labels
   matched by stamp, latency from ``/diagnostics``, counts), ``recorded_bag/``, ``input_bag/``,
   ``node.log``, and ``bag_eval/`` (the same bag through ``sccosf bag-eval`` with the same
   parameter files, for comparison);
5. print where to look.

Modules, one concept each: ``config`` (settings, the node's parameters, checks), ``run`` (the
steps above in order), ``live`` (node subprocess + player + recorder on a live ROS graph: the
only module here that imports rclpy), ``analysis`` (``metrics.json`` from the recorded bag),
``pictures`` (contact sheet and preview GIF), ``summary`` (the printed report).

Unless ``ROS_DOMAIN_ID`` is set, the demo picks a private domain on localhost so it never talks to
(or disturbs) other ROS 2 processes (``ros.dds.isolate_ros_domain``); its own DDS participant
(player and recorder) gets the package's large-image profile, as the node does
(``ros.dds.large_image_profile``). The node subprocess is always stopped, also on errors and
Ctrl-C (SIGINT, then SIGTERM, then SIGKILL).
"""

from sccosf_ros.demo.config import PARAMS_FILE, DemoConfig, DemoError, demo_param_values
from sccosf_ros.demo.run import run_demo

__all__ = ["PARAMS_FILE", "DemoConfig", "DemoError", "demo_param_values", "run_demo"]
