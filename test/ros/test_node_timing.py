"""Rates and latency of the node, in-process (MultiThreadedExecutor) with real DDS topics.

The node runs the real ``Predictor`` around the bench's tiny ``TrivialModel`` (and a wrapper that
sleeps, to play a slow model), so timing comes from the ROS path and the worker, not from torch.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from node_harness import OUTPUTS, RosIO, image_msg, ns_of, scene

pytestmark = pytest.mark.ros


class SlowPredictor:
    """A real predictor that takes ``delay`` seconds longer per pair (a heavy model)."""

    def __init__(self, inner, delay: float) -> None:
        self.inner, self.delay = inner, delay
        self.class_names, self.palette = inner.class_names, inner.palette
        self.dataset, self.device = inner.dataset, inner.device
        self.calls = 0

    def predict(self, rgb, thermal):
        self.calls += 1
        time.sleep(self.delay)
        return self.inner.predict(rgb, thermal)


def _stream(
    io: RosIO,
    duration: float,
    rgb_hz: float,
    thermal_hz: float | None,
    seed: int = 0,
    thermal_offset: float = 0.004,
):
    """Publish RGB at rgb_hz and thermal at thermal_hz (jittered stamps and send times) in
    real time; returns {rgb stamp: monotonic send time}, thermal stamps."""
    rng = np.random.default_rng(seed)
    rgb, thermal = scene(seed)
    events = []
    for k in range(int(duration * rgb_hz)):
        events.append((k / rgb_hz + rng.uniform(-0.003, 0.003), "rgb"))
    if thermal_hz:
        for k in range(int(duration * thermal_hz)):
            events.append(
                (k / thermal_hz + thermal_offset + rng.uniform(-0.008, 0.008), "thermal")
            )
    events.sort()
    base_ns = time.time_ns()
    t0 = time.monotonic()
    rgb_sent, thermal_sent = {}, []
    for at, kind in events:
        delay = t0 + at + 0.002 - time.monotonic()  # drivers publish a bit after exposure
        if delay > 0:
            time.sleep(delay)
        stamp = base_ns + int(at * 1e9)
        if kind == "rgb":
            io.rgb_pub.publish(image_msg(rgb, "bgr8", stamp, "rgb_optical"))
            rgb_sent[stamp] = time.monotonic()
            if not thermal_hz:  # synced pairs with equal stamps
                io.thermal_pub.publish(image_msg(thermal, "mono16", stamp, "thermal_optical"))
                thermal_sent.append(stamp)
        else:
            io.thermal_pub.publish(image_msg(thermal, "mono16", stamp, "thermal_optical"))
            thermal_sent.append(stamp)
    return rgb_sent, thermal_sent


def _warm_up(io: RosIO, timeout: float = 30.0) -> None:
    """Pairs until one output arrives (discovery done), then forget everything received."""
    rgb, thermal = scene(99)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = time.time_ns()
        io.publish_pair(image_msg(rgb, "bgr8", t, "w"), image_msg(thermal, "mono16", t, "w"))
        time.sleep(0.3)
        with io.lock:
            if io.outputs["segmentation"]:
                break
    else:
        raise AssertionError("node never answered during warm-up")
    time.sleep(0.5)
    with io.lock:
        io.outputs.clear()
        io.received_at.clear()


def test_rgb_30hz_thermal_9hz_gives_outputs_at_the_thermal_rate(start_node, ros_io_factory):
    from sccosf_ros.bench.node import trivial_predictor

    ns = "/t_rate"
    node = start_node(ns, trivial_predictor(), **{"sync.slop": 0.05, "sync.queue_size": 10})
    io = ros_io_factory(ns)
    io.wait_subscribed()
    _warm_up(io)
    synced0 = node.stats.snapshot().counters["synced_pairs"]
    rgb_sent, thermal_sent = _stream(io, duration=3.0, rgb_hz=30.0, thermal_hz=9.0)
    time.sleep(1.0)
    with io.lock:
        stamps = [ns_of(m.header.stamp) for m in io.outputs["segmentation"]]
    synced = node.stats.snapshot().counters["synced_pairs"] - synced0
    n_th = len(thermal_sent)
    # Every thermal frame has an RGB frame within 17 ms (< slop): one pair per thermal frame.
    assert n_th - 2 <= synced <= n_th, (synced, n_th)
    assert 0.8 * n_th <= len(stamps) <= n_th, (len(stamps), n_th)
    assert set(stamps) <= set(rgb_sent)  # outputs carry RGB stamps
    th = np.array(thermal_sent)
    for s in stamps:  # ... of an RGB frame that had a thermal partner within slop
        assert np.abs(th - s).min() < 0.05e9
    rate = (len(stamps) - 1) / ((max(stamps) - min(stamps)) / 1e9)
    assert 7.0 <= rate <= 11.0, rate


def test_slow_model_keeps_latency_bounded_and_drops_pairs(start_node, ros_io_factory):
    from sccosf_ros.bench.node import trivial_predictor

    delay = 0.25
    ns = "/t_slow"
    slow = SlowPredictor(trivial_predictor(), delay)
    node = start_node(ns, slow)
    io = ros_io_factory(ns)
    io.wait_subscribed()
    _warm_up(io)
    c0 = node.stats.snapshot().counters
    duration = 3.0
    rgb_sent, _ = _stream(io, duration=duration, rgb_hz=30.0, thermal_hz=None, seed=1)
    time.sleep(2 * delay + 0.5)
    c = node.stats.snapshot().counters
    with io.lock:
        got = list(zip(io.outputs["segmentation"], io.received_at["segmentation"]))
    latencies = [recv - rgb_sent[ns_of(m.header.stamp)] for m, recv in got]
    processed = c["processed"] - c0["processed"]
    dropped = c["dropped_busy"] - c0["dropped_busy"]
    synced = c["synced_pairs"] - c0["synced_pairs"]
    assert dropped > 0
    # Everything synced was either processed or replaced while the model was busy.
    assert processed + dropped == synced, (processed, dropped, synced)
    assert processed <= duration / delay + 2
    assert len(latencies) == processed
    # A pair waits at most one model run, then takes one: ~2 x delay, never a growing queue
    # (90 pairs x 0.25 s would be ~20 s behind at the end without the one-slot buffer).
    assert max(latencies) < 4 * delay + 0.5, latencies
    # The last outputs are as fresh as the first ones.
    assert latencies[-1] < 4 * delay + 0.5
    for name in OUTPUTS:
        assert len(io.outputs[name]) == processed, name
