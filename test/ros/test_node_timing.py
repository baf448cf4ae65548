"""The node at camera rates, in-process (its own executor thread) with real DDS topics:
which pairs form, which are processed and which are dropped. The rates and latencies these give
are benchmark figures (``sccosf bench node``); the asserts here hold on any loaded machine.

The node runs the real ``Predictor`` around the bench's tiny ``TrivialModel`` (and a wrapper that
sleeps, to play a slow model), so timing comes from the ROS path and the worker, not from torch.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from node_harness import HANG_GUARD_S, OUTPUTS, RosIO, image_msg, ns_of, scene

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


def _warm_up(io: RosIO) -> None:
    """Pairs until one output arrives (discovery done), then forget everything received."""
    rgb, thermal = scene(99)
    deadline = time.monotonic() + HANG_GUARD_S
    sent = []
    while time.monotonic() < deadline:
        t = time.time_ns()
        sent.append(t)
        io.publish_pair(image_msg(rgb, "bgr8", t, "w"), image_msg(thermal, "mono16", t, "w"))
        try:  # a retry interval: publish again when this pair got lost in discovery
            io.wait_for(lambda: io.outputs["segmentation"], 0.3, "a warm-up output")
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("node never answered during warm-up")
    # The outputs of every warm-up pair that will come (the newest one's), then a clean slate.
    io.wait_for(lambda: ns_of(io.outputs["segmentation"][-1].header.stamp) == sent[-1])
    with io.lock:
        io.outputs.clear()
        io.received_at.clear()


def _settled(node, c0: dict, n_rgb: int, n_thermal: int) -> dict:
    """Counters since ``c0`` once the node has taken in what was sent (or the hang guard ran
    out: best-effort DDS may drop a frame) and the worker has finished with every pair."""

    def delta() -> dict:
        c = node.stats.snapshot().counters
        return {k: c[k] - c0[k] for k in c}

    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        d = delta()
        if d["rgb_received"] >= n_rgb and d["thermal_received"] >= n_thermal:
            break
        time.sleep(0.05)

    def idle():
        d = delta()
        return d if d["processed"] + d["dropped_busy"] == d["synced_pairs"] else None

    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        if d := idle():
            return d
        time.sleep(0.05)
    raise AssertionError(f"pairs still waiting after {HANG_GUARD_S} s: {delta()}")


def test_rgb_30hz_thermal_9hz_gives_one_output_per_thermal_frame(start_node, ros_io_factory):
    """30 Hz RGB and 9 Hz thermal: one pair per thermal frame, with the RGB frame next to it.
    The output rate this gives is a benchmark figure (``sccosf bench node``), not a test's."""
    from sccosf_ros.bench.node import trivial_predictor

    ns = "/t_rate"
    node = start_node(ns, trivial_predictor(), **{"sync.slop": 0.05, "sync.queue_size": 10})
    io = ros_io_factory(ns)
    io.wait_subscribed()
    _warm_up(io)
    c0 = node.stats.snapshot().counters
    rgb_sent, thermal_sent = _stream(io, duration=3.0, rgb_hz=30.0, thermal_hz=9.0)
    d = _settled(node, c0, len(rgb_sent), len(thermal_sent))
    n_th = d["thermal_received"]
    io.wait_for(lambda: len(io.outputs["segmentation"]) >= d["processed"], what="the outputs")
    with io.lock:
        stamps = [ns_of(m.header.stamp) for m in io.outputs["segmentation"]]
    # Every thermal frame has an RGB frame within 17 ms (< slop): one pair per thermal frame
    # (the pairer may hold back the last ones until a newer frame shows they are the best).
    assert n_th - 2 <= d["synced_pairs"] <= n_th, (d, n_th)
    assert d["processed"] >= 1 and len(stamps) == d["processed"], (len(stamps), d)
    assert stamps == sorted(set(stamps))  # each pair once, never an older one after a newer
    assert set(stamps) <= set(rgb_sent)  # outputs carry RGB stamps
    th = np.array(thermal_sent)
    for s in stamps:  # ... of an RGB frame that had a thermal partner within slop
        assert np.abs(th - s).min() < 0.05e9


def test_slow_model_keeps_only_the_newest_pair(start_node, ros_io_factory):
    """A model slower than the camera: pairs that arrive while it runs replace each other in a
    one-slot buffer, so the node never falls behind. Shown by the counts and the stamps (the
    latency this gives is measured by ``sccosf bench node``)."""
    from sccosf_ros.bench.node import trivial_predictor

    delay = 0.25
    ns = "/t_slow"
    slow = SlowPredictor(trivial_predictor(), delay)
    node = start_node(ns, slow)
    io = ros_io_factory(ns)
    io.wait_subscribed()
    _warm_up(io)
    c0 = node.stats.snapshot().counters
    calls0 = slow.calls
    rgb_sent, thermal_sent = _stream(io, duration=3.0, rgb_hz=30.0, thermal_hz=None, seed=1)
    d = _settled(node, c0, len(rgb_sent), len(thermal_sent))
    processed, dropped, synced = d["processed"], d["dropped_busy"], d["synced_pairs"]
    io.wait_for(lambda: all(len(io.outputs[n]) >= processed for n in OUTPUTS), what="the outputs")
    with io.lock:
        stamps = [ns_of(m.header.stamp) for m in io.outputs["segmentation"]]
        counts = {n: len(io.outputs[n]) for n in OUTPUTS}
    # 90 pairs in 3 s for a model that takes 0.25 s each: most are replaced while it runs.
    assert dropped > 0 and processed < synced, d
    # Everything synced was either processed or replaced while the model was busy.
    assert processed + dropped == synced, d
    assert slow.calls - calls0 == processed
    assert counts == dict.fromkeys(OUTPUTS, processed)
    # Newest first: the outputs go forward in time, and the last one is the newest pair the
    # node formed (a FIFO queue would still be working through old pairs, or drop nothing).
    assert stamps == sorted(set(stamps)) and set(stamps) <= set(rgb_sent)
    last = node.stats.snapshot().last_stamp_ns
    assert stamps[-1] == min(last["rgb"], last["thermal"]), (stamps[-1], last)
