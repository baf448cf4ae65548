"""ros/probes.py: the camera-like messages a bench publishes decode to its frames, one stamp."""

from __future__ import annotations

from sccosf_ros.ros.probes import camera_pair
from sccosf_ros.synthetic.pairs import frame_pair


def test_camera_messages_decode_to_the_frames_with_one_stamp():
    from sccosf_ros.pipeline.image_codec import decode_rgb, decode_thermal
    from sccosf_ros.pipeline.pairing import stamp_to_ns

    rgb, thermal = frame_pair(24, 32, raw_thermal=True)
    m_rgb, m_th = camera_pair(rgb, thermal, 1_500_000_000_123)
    assert (m_rgb.encoding, m_th.encoding) == ("bgr8", "mono16")
    assert stamp_to_ns(m_rgb.header.stamp) == stamp_to_ns(m_th.header.stamp) == 1_500_000_000_123
    assert (decode_rgb(m_rgb) == rgb).all() and (decode_thermal(m_th) == thermal).all()
