"""SC-CoSF network (paper §3.2), pure PyTorch: no ROS import anywhere below this package."""

from sccosf_ros.model.network import PRESETS, SCCoSF, SCCoSFConfig, SCCoSFOutput, build_model

__all__ = ["PRESETS", "SCCoSF", "SCCoSFConfig", "SCCoSFOutput", "build_model"]
