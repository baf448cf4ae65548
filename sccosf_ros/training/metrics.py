"""Moved to ``sccosf_ros.metrics``; this re-export stays until bag/bag_eval.py and bag/demo.py
import from there."""

from sccosf_ros.metrics.fusion import FUSION_METRICS, fusion_metrics
from sccosf_ros.metrics.segmentation import ConfusionMatrix

__all__ = ["FUSION_METRICS", "ConfusionMatrix", "fusion_metrics"]
