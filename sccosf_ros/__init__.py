"""sccosf_ros: SC-CoSF RGB-thermal image fusion and semantic segmentation for ROS 2.

The core (``model``, ``inference``, ``training``, ``bag``) is pure PyTorch/numpy and never imports
ROS; ``sccosf_ros.ros`` is the thin rclpy adapter on top.
"""

# The one version source: setup.py reads it, test/test_package.py checks package.xml against it.
__version__ = "0.1.0"
