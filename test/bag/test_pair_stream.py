"""``PairStream``: the node's admit → pair over a bag, shared by bag-eval and extract."""

from __future__ import annotations

import pytest

from sccosf_ros.bag.bag_io import BagError, stamp_ns
from sccosf_ros.bag.pair_stream import BagTopics, Label, Pair, PairStream, open_bag
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.processor import PairProcessor
from sccosf_ros.synthetic import write_synthetic_bag


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    # RGB 10 Hz, thermal 5 Hz 4 ms later, one malformed message per image stream
    return write_synthetic_bag(
        tmp_path_factory.mktemp("stream") / "bag",
        duration=1.0,
        rgb_rate=10.0,
        thermal_rate=5.0,
        height=24,
        width=32,
        malformed=1,
        show_progress=False,
    )


def test_pairs_and_labels_come_in_log_time_order_as_the_node_forms_them(bag):
    c = bag.config
    reader, topics = open_bag(bag.path, BagTopics(c.rgb_topic, c.thermal_topic, c.label_topic))
    try:
        processor = PairProcessor(NodeParams.defaults(), None)
        stream = PairStream(reader, processor, topics)
        events = list(stream.events())
        assert stream.expected_pairs() == 6  # 5 good thermal frames + 1 malformed
    finally:
        reader.close()
    pairs = [e for e in events if isinstance(e, Pair)]
    labels = [e for e in events if isinstance(e, Label)]
    assert len(labels) == len(bag.label_stamps) == 10
    # each thermal frame pairs with the RGB frame 4 ms before it
    assert [(stamp_ns(p.rgb), stamp_ns(p.thermal)) for p in pairs] == [
        (t - 4_000_000, t) for t in bag.thermal_stamps
    ]
    c_ = processor.stats.snapshot().counters
    assert c_["malformed_rgb"] + stream.undecodable[c.rgb_topic] == bag.malformed[c.rgb_topic]
    assert stream.unmatched() == {c.rgb_topic: 5, c.thermal_topic: 0}


def test_open_bag_names_a_missing_topic_and_refuses_one_topic_twice(bag):
    c = bag.config
    with pytest.raises(BagError, match="label topic '/x' is not in bag"):
        open_bag(bag.path, BagTopics(c.rgb_topic, c.thermal_topic, "/x"))
    with pytest.raises(BagError, match="must be different topics"):
        open_bag(bag.path, BagTopics(c.rgb_topic, c.rgb_topic))
