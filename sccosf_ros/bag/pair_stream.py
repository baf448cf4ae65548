"""The live node's input side over a recorded bag: read → deserialize → admit → pair.

Shared by ``sccosf bag-eval`` (which then runs the model on each pair) and ``sccosf extract``
(which writes each pair as a dataset sample), so both see exactly the pairs the node would form:
every RGB and thermal ``sensor_msgs/Image`` or ``CompressedImage`` goes through
``PairProcessor.admit`` (malformed messages and shutter / flat-field correction thermal frames
are counted and never paired) and the node's approximate-time pairing (``ApproxTimePairer``
with ``sync.slop``, ``sync.queue_size`` and ``sync.jump_reset``). Messages of the optional
label topic are handed on as they come, unpaired.

``open_bag`` opens a bag and resolves the requested topics (a ``<base>`` topic the bag only
holds as image_transport's ``<base>/compressed`` is read from there), with one-line errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from sccosf_ros.bag.bag_io import BagError, BagReader
from sccosf_ros.pipeline.pairing import ApproxTimePairer, stamp_to_ns
from sccosf_ros.pipeline.processor import PairProcessor


class BagTopics(NamedTuple):
    """The image topics of one run, as found in the bag (label: None without one)."""

    rgb: str
    thermal: str
    label: str | None = None


def open_bag(bag: Path, topics: BagTopics) -> tuple[BagReader, BagTopics]:
    """Open ``bag`` and check that the topics exist and carry images (BagError otherwise).

    Returns the open reader and the topics as found (``<topic>/compressed`` where only that is
    in the bag). The caller closes the reader.
    """
    names = [t for t in topics if t]
    if len(set(names)) < len(names):
        raise BagError("RGB, thermal and label topics must be different topics")
    reader = BagReader(bag).open()
    try:
        found = BagTopics(
            rgb=reader.image_topic(topics.rgb, "RGB"),
            thermal=reader.image_topic(topics.thermal, "thermal"),
            # raw, or PNG as image_transport's compressed plugin writes it
            label=reader.image_topic(topics.label, "label") if topics.label else None,
        )
    except BaseException:
        reader.close()
        raise
    return reader, found


class Pair(NamedTuple):
    """One synchronized pair: the RGB message's log time and both deserialized messages."""

    log_ns: int
    rgb: Any
    thermal: Any


class Label(NamedTuple):
    """One deserialized message of the label topic."""

    msg: Any


def _no_note(kind: str, message: str) -> None:
    del kind, message


class PairStream:
    """The pairs (and label messages) of a bag, in the order the node would form them.

    Args:
        reader: an open ``BagReader``.
        processor: the ``PairProcessor`` whose ``admit`` checks each image message (its
            ``NodeStats`` count the rejections) and whose parameters set the pairing.
        topics: the topics as ``open_bag`` found them.
        note: ``note(kind, message)`` for each message the deserializer rejects.
        on_reset: told each time stamps jump back and the pairing restarts.
    """

    def __init__(
        self,
        reader: BagReader,
        processor: PairProcessor,
        topics: BagTopics,
        note: Callable[[str, str], None] | None = None,
        on_reset: Callable[[Any], None] | None = None,
    ) -> None:
        p = processor.params
        self.reader, self.processor, self.topics = reader, processor, topics
        self.note = note or _no_note
        self.pairer = ApproxTimePairer(
            num_inputs=2,
            queue_size=p.sync_queue_size,
            slop=p.sync_slop,
            jump_reset=p.sync_jump_reset,
            on_reset=on_reset,
        )
        self.stream = {topics.rgb: "rgb", topics.thermal: "thermal"}
        self.names = [t for t in topics if t]
        self.received = dict.fromkeys(self.names, 0)
        self.undecodable = dict.fromkeys(self.names, 0)  # CDR the deserializer rejects
        self.admitted = dict.fromkeys(self.names, 0)  # well-formed images fed to the pairing
        self.stamps: dict[str, list[int]] = {t: [] for t in self.names}  # [first, last]

    def expected_pairs(self) -> int:
        """At most this many pairs can form (the smaller image topic's message count)."""
        return min(self.reader.count([self.topics.rgb]), self.reader.count([self.topics.thermal]))

    def events(self) -> Iterator[Pair | Label]:
        """Each pair as it forms and each label message as it arrives, in log-time order.

        A storage error part-way raises ``BagReadError`` (after the events before it)."""
        for topic, msgtype, log_ns, raw in self.reader.messages(self.names):
            yield from self._feed(topic, msgtype, log_ns, raw)

    def _feed(self, topic: str, msgtype: str, log_ns: int, raw: bytes) -> Iterator[Pair | Label]:
        self.received[topic] += 1
        try:
            msg = self.reader.deserialize(raw, msgtype)
        except Exception as e:  # corrupt CDR: any failure inside the deserializer
            self.undecodable[topic] += 1
            self.note("undecodable", f"{topic}: undecodable CDR ({type(e).__name__})")
            return
        stamp = stamp_to_ns(msg.header.stamp)
        seen = self.stamps[topic]
        self.stamps[topic] = [min(seen[0], stamp), max(seen[1], stamp)] if seen else [stamp] * 2
        if topic == self.topics.label:
            yield Label(msg)
            return
        stream = self.stream[topic]
        if not self.processor.admit(stream, msg):
            return
        self.admitted[topic] += 1
        index = 0 if stream == "rgb" else 1
        for (rgb_log_ns, rgb_msg), (_, th_msg) in self.pairer.add(index, stamp, (log_ns, msg)):
            yield Pair(rgb_log_ns, rgb_msg, th_msg)

    def unmatched(self) -> dict[str, int]:
        """Per image topic: well-formed messages that never became part of a pair."""
        return {t: self.admitted[t] - self.pairer.emitted for t in self.topics[:2]}
