"""Moved to ``sccosf_ros.metrics.fusion``; this re-export stays until bag/bag_eval.py imports
from there."""

from sccosf_ros.metrics.fusion import (
    FUSION_METRICS,
    entropy,
    fusion_metrics,
    standard_deviation,
    to_gray,
)

__all__ = ["FUSION_METRICS", "entropy", "fusion_metrics", "standard_deviation", "to_gray"]
