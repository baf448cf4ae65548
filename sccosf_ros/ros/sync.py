"""The node's subscriptions feeding the approximate-time synchroniser.

:func:`make_synchronizer` subscribes the input topics with the real ``message_filters`` when it is
importable and with :class:`Subscriber` (our rclpy subscription filter) otherwise; the pairing
itself is ``message_filters.ApproximateTimeSynchronizer`` or its drop-in
``sccosf_ros.pipeline.pairing.ApproximateTimeSynchronizer`` (same algorithm, see there). The
node asks for ours (``backend="sccosf"``) in every environment: only ours has the backward-jump
reset (``jump_reset``) and can change slop and queue size while running.
An ``admit`` hook per input runs on every arrival before the synchroniser sees it: it counts
the message and keeps malformed ones out of the pairing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sccosf_ros.pipeline.pairing import ApproximateTimeSynchronizer, SimpleFilter

__all__ = ["AdmissionFilter", "Subscriber", "SyncHandle", "make_synchronizer"]


class Subscriber(SimpleFilter):
    """An rclpy subscription as a filter: ``Subscriber(node, msg_type, topic, qos_profile=10)``.

    Like message_filters' Subscriber, the default QoS is reliable depth 10, which does *not*
    receive best-effort camera drivers: pass ``qos_profile=qos_profile_sensor_data``.
    """

    def __init__(self, node: Any, msg_type: Any, topic: str, **kwargs: Any) -> None:
        super().__init__()
        self.node = node
        self.topic = topic
        kwargs.setdefault("qos_profile", 10)
        self.sub = node.create_subscription(msg_type, topic, self.callback, **kwargs)

    def callback(self, msg: Any) -> None:
        self.signalMessage(msg)

    def getTopic(self) -> str:
        return self.topic

    def __getattr__(self, key: str) -> Any:
        # Serve the rclpy Subscription API (topic_name, handle, ...) like message_filters.
        if key == "sub":
            raise AttributeError(key)
        return getattr(self.sub, key)


class AdmissionFilter(SimpleFilter):
    """Passes on the messages ``admit(msg)`` accepts (connect a subscriber to it)."""

    def __init__(self, source: Any, admit: Callable[[Any], bool]) -> None:
        super().__init__()
        self._admit = admit
        source.registerCallback(self.add)

    def add(self, msg: Any) -> None:
        if self._admit(msg):
            self.signalMessage(msg)


@dataclass
class SyncHandle:
    """What :func:`make_synchronizer` built: keep it alive as long as the node listens."""

    synchronizer: Any
    subscribers: list[Any]
    backend: str  # "message_filters" or "sccosf"
    node: Any = field(repr=False, default=None)

    def destroy(self) -> None:
        """Destroy the underlying rclpy subscriptions."""
        for s in self.subscribers:
            sub = getattr(s, "sub", None)
            if sub is not None and self.node is not None:
                self.node.destroy_subscription(sub)
        self.subscribers = []


def make_synchronizer(
    node: Any,
    msg_type: Any | Sequence[Any],
    topics: Sequence[str],
    qos: Any,
    queue_size: int,
    slop: float,
    callback: Callable[..., Any],
    *,
    admit: Sequence[Callable[[Any], bool] | None] | None = None,
    backend: str = "auto",
    jump_reset: float = 0.0,
    on_reset: Callable[[Any], None] | None = None,
) -> SyncHandle:
    """Subscribe ``topics`` and call ``callback(msg_0, ..., msg_n)`` for each synced set.

    ``msg_type``: one type for all topics or one per topic. ``qos``: a QoSProfile (cameras
    publish best effort: use sensor-data QoS). ``backend``: ``auto`` (message_filters when
    importable, else ours), ``message_filters`` or ``sccosf`` (ours). ``admit``: one optional
    hook per topic, called with every arriving message in the subscription callback; only
    messages it returns True for reach the synchroniser. Keep it short. ``jump_reset`` (> 0)
    and ``on_reset``: the backward-jump reset of ``pipeline.pairing``; message_filters has none,
    so ``auto`` then picks ours and ``message_filters`` is refused.
    """
    if backend not in ("auto", "message_filters", "sccosf"):
        raise ValueError(f"backend must be auto, message_filters or sccosf, got {backend!r}")
    if len(topics) < 2:
        raise ValueError(f"need at least 2 topics to synchronise, got {list(topics)}")
    types = list(msg_type) if isinstance(msg_type, (list, tuple)) else [msg_type] * len(topics)
    if len(types) != len(topics):
        raise ValueError(f"{len(types)} message types for {len(topics)} topics")
    hooks = list(admit) if admit is not None else [None] * len(topics)
    if len(hooks) != len(topics):
        raise ValueError(f"{len(hooks)} admit hooks for {len(topics)} topics")
    if jump_reset > 0 and backend == "message_filters":
        raise ValueError("message_filters has no jump reset: use backend sccosf or jump_reset 0")
    sub_cls: Any = Subscriber
    sync_cls: Any = ApproximateTimeSynchronizer
    chosen = "sccosf"
    if backend == "message_filters" or (backend == "auto" and jump_reset <= 0):
        try:
            import message_filters

            sub_cls = message_filters.Subscriber
            sync_cls = message_filters.ApproximateTimeSynchronizer
            chosen = "message_filters"
        except ImportError:
            if backend == "message_filters":
                raise
    subs = [sub_cls(node, t, topic, qos_profile=qos) for t, topic in zip(types, topics)]
    inputs = [s if hook is None else AdmissionFilter(s, hook) for s, hook in zip(subs, hooks)]
    if chosen == "sccosf":
        sync = sync_cls(
            inputs,
            queue_size,
            slop,
            jump_reset=jump_reset,
            on_reset=on_reset,
            clock=lambda: node.get_clock().now().nanoseconds,
        )
    else:
        sync = sync_cls(inputs, queue_size, slop)
    sync.registerCallback(callback)
    return SyncHandle(synchronizer=sync, subscribers=subs, backend=chosen, node=node)
