"""sccosf_ros: SC-CoSF RGB-thermal image fusion and semantic segmentation for ROS 2.

Built in layers (README "Package layout"; the order is import-linter's contracts in
``.importlinter``): the core — model, inference, the per-pair pipeline, training, evaluation — is
pure PyTorch/numpy and never imports ROS. rclpy is imported only where a live ROS graph is the
point: ``sccosf_ros.ros`` (the nodes, a thin adapter on the pipeline), ``bag.replay``,
``bag.recorder`` and ``sccosf_ros.demo``.
"""

# The one version source: setup.py reads it, test/test_package.py checks package.xml against it.
__version__ = "0.1.0"
