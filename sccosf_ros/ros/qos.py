"""QoS profiles from parameter values (Isaac ROS style: reliability and depth are parameters)."""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from sccosf_ros.pipeline.param_table import RELIABILITIES


def qos_profile(reliability: str, depth: int) -> QoSProfile:
    """Keep-last ``depth`` (at least 1), volatile, ``best_effort`` or ``reliable``."""
    if reliability not in RELIABILITIES:
        raise ValueError(
            f"QoS reliability must be one of {', '.join(RELIABILITIES)}, got {reliability!r}"
        )
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=max(1, int(depth)),
        reliability=(
            ReliabilityPolicy.BEST_EFFORT
            if reliability == "best_effort"
            else ReliabilityPolicy.RELIABLE
        ),
        durability=DurabilityPolicy.VOLATILE,
    )


def latched_qos() -> QoSProfile:
    """Reliable, transient local, depth 1: a late subscriber still gets the last message."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
