"""A brute-force reference of message_filters' approximate-time rule, written for the tests.

Independent of ``sccosf_ros.pipeline.pairing`` (it imports nothing from the package): plain
lists, every combination enumerated, the rule of ros2/message_filters' Python
``ApproximateTimeSynchronizer.add`` spelled out step by step. Tests take expected pair counts
from here instead of from the ``ApproxTimePairer`` they check.

Per arrival of stamp ``t`` on input ``i``:

1. input ``i``'s queue stores ``t`` (a stamp already queued there is replaced in place), then
   loses its smallest stamps while it holds more than ``queue_size``;
2. if ``t`` itself was trimmed, nothing is emitted;
3. for every other input, the candidates are its queued stamps with ``|s - t| <= slop``,
   nearest first (equal distances in queue order); an input with none → nothing;
4. the combinations are walked in odometer order (the first other input's candidate changes
   slowest); the first whose spread ``max - min`` is strictly below ``slop`` is emitted and
   exactly its entries leave the queues. At most one tuple per arrival.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def slop_ns(slop_s: float) -> int:
    """``rclpy.duration.Duration(seconds=slop)``: ``int(seconds * 10**9)``, truncating."""
    return int(slop_s * 1_000_000_000)


def _odometer(lists: list[list[int]]) -> Iterator[list[int]]:
    """Every combination, the last list's entry changing fastest (written out, no itertools)."""
    if not lists:
        yield []
        return
    for head in lists[0]:
        for tail in _odometer(lists[1:]):
            yield [head, *tail]


def reference_pairs(
    events: Iterable[tuple[int, int]], num_inputs: int, queue_size: int, slop_s: float
) -> list[tuple[int, ...]]:
    """``events``: (input, stamp ns) in arrival order → the emitted stamp tuples, in order."""
    slop = slop_ns(slop_s)
    queues: list[list[int]] = [[] for _ in range(num_inputs)]
    out: list[tuple[int, ...]] = []
    for i, t in events:
        mine = queues[i]
        if t not in mine:
            mine.append(t)
        while len(mine) > queue_size:
            mine.remove(min(mine))
        if t not in mine:
            continue
        others = [j for j in range(num_inputs) if j != i]
        candidates = []
        for j in others:
            near = [s for s in queues[j] if abs(s - t) <= slop]
            near = sorted(near, key=lambda s: abs(s - t))  # sorted() is stable: queue order
            candidates.append(near)
        if any(not c for c in candidates):
            continue
        for combo in _odometer(candidates):
            stamps = dict(zip(others, combo))
            stamps[i] = t
            tup = tuple(stamps[k] for k in range(num_inputs))
            if max(tup) - min(tup) < slop:
                for k, s in enumerate(tup):
                    queues[k].remove(s)
                out.append(tup)
                break
    return out


def reference_count(
    events: Iterable[tuple[int, int]],
    num_inputs: int = 2,
    queue_size: int = 10,
    slop_s: float = 0.05,
) -> int:
    """How many tuples :func:`reference_pairs` emits."""
    return len(reference_pairs(events, num_inputs, queue_size, slop_s))
