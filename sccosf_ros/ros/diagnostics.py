"""Health figures of ``sccosf_node`` and their ``/diagnostics`` form (diagnostic_msgs).

``diagnostic_array`` turns a ``sccosf_ros.pipeline.stats.NodeStats`` snapshot into a
``DiagnosticArray`` with four statuses (``<node>: inputs``, ``<node>: inference``,
``<node>: input quality``, ``<node>: sync``).

Keys (values are strings, as diagnostic_msgs wants):
  inputs:        rgb_received, thermal_received, rgb_rate_hz, thermal_rate_hz,
                 since_last_rgb_s, since_last_thermal_s (``never`` before the first),
                 stall_timeout_s, hold_s
  inference:     synced_pairs, processed, dropped_busy, inference_errors, inference_p50_ms,
                 inference_p95_ms, model_p50_ms, overhead_p50_ms, overhead_p95_ms,
                 e2e_age_p50_ms, e2e_age_p95_ms, e2e_age_max_ms, stamp_age_p50_ms, output_rate_hz
  input quality: malformed (total), malformed_rgb, malformed_thermal, size_mismatch,
                 thermal_nan_rejected, thermal_nan_frames, last_malformed_reason,
                 malformed_recent (rejections in the last ``hold_s``), since_last_malformed_s
                 (``never`` before the first), thermal_ffc_frames, thermal_ffc_events,
                 ffc_recent (frames skipped in the last ``hold_s``), ffc_mean_interval_s
                 (between shutter events, by stamps; ``unknown`` before the second),
                 since_last_ffc_s, hold_s
  sync:          synced_pairs, sync_resets, unpaired_rgb, unpaired_thermal, trimmed_rgb,
                 trimmed_thermal, replaced_rgb, replaced_thermal, since_last_pair_s
                 (``never`` before the first), stamp_offset_s (last RGB − last thermal stamp),
                 slop_s, hold_s
Latencies (ms, over the last ``diagnostics.window`` pairs) are defined in
``sccosf_ros.pipeline.stats``.
Levels (a fault is *held*: WARN while it lasts and for ``diagnostics.hold`` s after it last
occurred, its line saying "N in the last <hold> s, M in total"; see
``sccosf_ros.pipeline.fault_hold``):
inputs WARN while an input sends nothing for ``stall_timeout`` s (or never since start) and while
a stall of an input that had been arriving is held; inference WARN while a model failure is
held ("no pair processed" rather than old latencies when nothing ran since the last report);
input quality WARN while a rejection (malformed RGB/thermal, size mismatch, NaN thermal) or a
skipped shutter frame ("flat-field correction in progress", ``thermal.ffc.*``) is held;
sync WARN while "both inputs arrive but no pair forms for ``stall_timeout`` s" is held, with the
stamp offset between the streams in the message. Unpaired messages and pairing resets are
counted in the sync line at OK: a faster camera leaves messages unpaired by design.
ERROR is not used.
"""

from __future__ import annotations

from typing import Any

from sccosf_ros.pipeline.fault_hold import Held, counts_text
from sccosf_ros.pipeline.stats import (
    FFC,
    REJECTIONS,
    STREAMS,
    StatsSnapshot,
    pairing_stall_message,
    stall_messages,
)

_NEVER = Held(recent=0, total=0, active=False, since_last=None)
# How the input-quality line names each rejection (NodeStats.malformed kinds).
_REJECTION_TEXT = {
    "size_mismatch": "RGB/thermal size mismatch",
    "malformed_rgb": "malformed RGB image",
    "malformed_thermal": "malformed thermal image",
    "thermal_nan_rejected": "thermal with NaN/Inf rejected",
}


def _fmt(v: float) -> str:
    return "nan" if v != v else f"{v:.2f}"


def diagnostic_array(
    snap: StatsSnapshot,
    previous: StatsSnapshot | None,
    *,
    node_name: str,
    hardware_id: str,
    stall_timeout: float,
    stamp: Any = None,
    slop: float = float("nan"),
) -> Any:
    """``snap`` as a ``diagnostic_msgs/DiagnosticArray`` (rates relative to ``previous``; WARNs
    from the faults ``snap.held`` holds)."""
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    c = snap.counters
    prev = previous.counters if previous is not None else dict.fromkeys(c, 0)
    dt = snap.taken_at - previous.taken_at if previous is not None else snap.uptime_s
    dt = max(dt, 1e-6)

    def rate(key: str) -> str:
        return f"{(c[key] - prev[key]) / dt:.2f}"

    def status(name: str, level: bytes, message: str, values: dict[str, object]):
        return DiagnosticStatus(
            level=level,
            name=f"{node_name}: {name}",
            message=message,
            hardware_id=hardware_id,
            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()],
        )

    def since(stream: str) -> str:
        s = snap.since_last[stream]
        return "never" if s is None else f"{s:.3f}"

    held = snap.held
    hold = snap.hold_s
    stalls = stall_messages(snap, stall_timeout)
    inputs = status(
        "inputs",
        DiagnosticStatus.WARN if stalls else DiagnosticStatus.OK,
        "; ".join(stalls) if stalls else "rgb and thermal streaming",
        {
            "rgb_received": c["rgb_received"],
            "thermal_received": c["thermal_received"],
            "rgb_rate_hz": rate("rgb_received"),
            "thermal_rate_hz": rate("thermal_received"),
            "since_last_rgb_s": since("rgb"),
            "since_last_thermal_s": since("thermal"),
            "stall_timeout_s": stall_timeout,
            "hold_s": hold,
        },
    )
    lat = snap.latency_ms
    failed = held.get("inference_errors", _NEVER)
    if failed.held:
        inference_text = f"pair failed in the model: {counts_text(failed, hold)}"
    elif c["processed"] == prev["processed"]:
        inference_text = f"no pair processed in the last {dt:.1f} s"
    else:
        inference_text = (
            f"inference p50 {_fmt(lat['inference']['p50'])} ms, "
            f"end-to-end p95 {_fmt(lat['e2e_age']['p95'])} ms"
        )
    inference = status(
        "inference",
        DiagnosticStatus.WARN if failed.held else DiagnosticStatus.OK,
        inference_text,
        {
            "synced_pairs": c["synced_pairs"],
            "processed": c["processed"],
            "dropped_busy": c["dropped_busy"],
            "inference_errors": c["inference_errors"],
            "inference_p50_ms": _fmt(lat["inference"]["p50"]),
            "inference_p95_ms": _fmt(lat["inference"]["p95"]),
            "model_p50_ms": _fmt(lat["model"]["p50"]),
            "overhead_p50_ms": _fmt(lat["overhead"]["p50"]),
            "overhead_p95_ms": _fmt(lat["overhead"]["p95"]),
            "e2e_age_p50_ms": _fmt(lat["e2e_age"]["p50"]),
            "e2e_age_p95_ms": _fmt(lat["e2e_age"]["p95"]),
            "e2e_age_max_ms": _fmt(lat["e2e_age"]["max"]),
            "stamp_age_p50_ms": _fmt(lat["stamp_age"]["p50"]),
            "output_rate_hz": rate("processed"),
        },
    )
    rejected = [
        f"{_REJECTION_TEXT[kind]}: {counts_text(h, hold)}"
        for kind in REJECTIONS
        if (h := held.get(kind, _NEVER)).held
    ]
    if rejected:
        quality_text = "; ".join(rejected) + f" (last: {snap.last_malformed_reason})"
    elif c["malformed"]:
        quality_text = f"inputs well-formed in the last {hold:g} s ({c['malformed']} in total)"
    else:
        quality_text = "inputs well-formed"
    ffc = held.get(FFC, _NEVER)
    if ffc.held:
        quality_text = f"{_ffc_text(snap, ffc)}; {quality_text}"
    interval = snap.ffc_interval_s
    quality = status(
        "input quality",
        DiagnosticStatus.WARN if rejected or ffc.held else DiagnosticStatus.OK,
        quality_text,
        {
            "malformed": c["malformed"],
            "malformed_rgb": c["malformed_rgb"],
            "malformed_thermal": c["malformed_thermal"],
            "size_mismatch": c["size_mismatch"],
            "thermal_nan_rejected": c["thermal_nan_rejected"],
            "thermal_nan_frames": c["thermal_nan_frames"],
            "last_malformed_reason": snap.last_malformed_reason,
            "malformed_recent": sum(held.get(k, _NEVER).recent for k in REJECTIONS),
            "since_last_malformed_s": _since_last(snap, REJECTIONS),
            "thermal_ffc_frames": c["thermal_ffc_frames"],
            "thermal_ffc_events": c["thermal_ffc_events"],
            "ffc_recent": ffc.recent,
            "ffc_mean_interval_s": "unknown" if interval is None else f"{interval:.1f}",
            "since_last_ffc_s": _since_last(snap, (FFC,)),
            "hold_s": hold,
        },
    )
    sync = _sync_status(snap, stall_timeout, slop, status)
    arr = DiagnosticArray(status=[inputs, inference, quality, sync])
    if stamp is not None:
        arr.header.stamp = stamp
    return arr


def _ffc_text(snap: StatsSnapshot, ffc: Held) -> str:
    """The held flat-field correction line: frames skipped, events and how often they come."""
    c = snap.counters
    events = c["thermal_ffc_events"]
    every = "" if snap.ffc_interval_s is None else f", every {snap.ffc_interval_s:.1f} s"
    return (
        "flat-field correction in progress (thermal frames frozen or uniform, skipped): "
        f"{counts_text(ffc, snap.hold_s)}; {events} shutter event{'s' * (events != 1)}{every}"
    )


def _since_last(snap: StatsSnapshot, keys: tuple[str, ...]) -> str:
    """Seconds since the newest occurrence of any of ``keys`` (``never`` before the first)."""
    ages = [h.since_last for k in keys if (h := snap.held.get(k)) and h.since_last is not None]
    return f"{min(ages):.3f}" if ages else "never"


def _sync_status(snap: StatsSnapshot, stall_timeout: float, slop: float, status: Any) -> Any:
    from diagnostic_msgs.msg import DiagnosticStatus

    c, hold = snap.counters, snap.hold_s
    stall = pairing_stall_message(snap, stall_timeout, slop)
    no_pair = snap.held.get("no_pair", _NEVER)
    rgb, thermal = snap.last_stamp_ns.get("rgb"), snap.last_stamp_ns.get("thermal")
    offset = "unknown" if rgb is None or thermal is None else f"{(rgb - thermal) / 1e9:.6f}"
    if stall:
        parts = [f"{stall} ({counts_text(no_pair, hold)})" if no_pair.total else stall]
    elif no_pair.held:
        parts = [
            "no pair formed although rgb and thermal arrive: "
            f"{counts_text(no_pair, hold)}; pairing again"
        ]
    else:
        parts = ["pairing"]
    unpaired = [snap.held.get(f"unpaired_{s}", _NEVER) for s in STREAMS]
    if any(h.held for h in unpaired):
        parts.append(
            f"unpaired rgb {unpaired[0].recent}, thermal {unpaired[1].recent} in the last "
            f"{hold:g} s ({c['unpaired_rgb'] + c['unpaired_thermal']} in total)"
        )
    if c["sync_resets"]:
        resets = snap.held.get("sync_resets", _NEVER)
        parts.append(f"reset after stamps jumped back: {counts_text(resets, hold)}")
    return status(
        "sync",
        DiagnosticStatus.WARN if stall or no_pair.held else DiagnosticStatus.OK,
        "; ".join(parts),
        {
            "synced_pairs": c["synced_pairs"],
            "sync_resets": c["sync_resets"],
            "unpaired_rgb": c["unpaired_rgb"],
            "unpaired_thermal": c["unpaired_thermal"],
            "trimmed_rgb": c["trimmed_rgb"],
            "trimmed_thermal": c["trimmed_thermal"],
            "replaced_rgb": c["replaced_rgb"],
            "replaced_thermal": c["replaced_thermal"],
            "since_last_pair_s": "never" if snap.since_pair is None else f"{snap.since_pair:.3f}",
            "stamp_offset_s": offset,
            "slop_s": slop,
            "hold_s": hold,
        },
    )


def values_of(array: Any, name_suffix: str) -> dict[str, str]:
    """The key/values of the status whose name ends with ``name_suffix`` (for tools/tests)."""
    for st in array.status:
        if st.name.endswith(name_suffix):
            return {kv.key: kv.value for kv in st.values}
    raise KeyError(f"no diagnostic status ending with {name_suffix!r}")
