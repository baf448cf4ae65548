"""Scores of SC-CoSF's two outputs: segmentation (``segmentation``) and image fusion (``fusion``;
beside it ``fusion_baselines``, ``colour_fidelity`` and ``fusion_comparison``, which scores the
fused image and the baselines alike, on ``ycbcr``).

One segmentation evaluator serves training validation, ``sccosf eval``, ``sccosf bag-eval`` and
the demo. ROS-free, and torch-optional: inputs may be numpy arrays or torch tensors, but nothing
here imports torch.
"""

from sccosf_ros.metrics.fusion import FUSION_METRICS, fusion_metrics
from sccosf_ros.metrics.segmentation import ConfusionMatrix, SegmentationEvaluator

__all__ = ["FUSION_METRICS", "ConfusionMatrix", "SegmentationEvaluator", "fusion_metrics"]
