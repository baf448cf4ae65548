"""NodeStats figures and their /diagnostics form; label_info JSON."""

from __future__ import annotations

import json
import math

import pytest

from sccosf_ros.classes import MFNET_CLASSES, MFNET_PALETTE
from sccosf_ros.pipeline.stats import NodeStats, stall_messages
from sccosf_ros.ros.label_info import label_info_json, parse_label_info


def test_latency_percentiles_and_window():
    s = NodeStats(window=100)
    for v in range(1, 201):  # only the last 100 (101..200) stay
        s.latency("inference", float(v))
    lat = s.snapshot().latency_ms["inference"]
    assert lat["n"] == 100 and lat["max"] == 200.0
    assert lat["p50"] == pytest.approx(150.5) and lat["p95"] == pytest.approx(195.05)
    assert math.isnan(s.snapshot().latency_ms["e2e_age"]["p50"])  # no samples yet


class FakeClock:
    """A steady clock the test moves by hand: stall detection without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_stall_detection(monkeypatch):
    from sccosf_ros.pipeline import stats as stats_module

    clock = FakeClock()
    monkeypatch.setattr(stats_module, "time", clock)
    s = NodeStats()
    snap = s.snapshot()
    assert stall_messages(snap, stall_timeout=10.0) == []  # just started
    snap.uptime_s = 11.0
    assert stall_messages(snap, 10.0) == [
        "no rgb image received in 11.0 s since start",
        "no thermal image received in 11.0 s since start",
    ]
    s.arrived("rgb")
    s.arrived("thermal")
    clock.now += 0.05
    assert stall_messages(s.snapshot(), stall_timeout=0.05) == []  # not over the timeout yet
    clock.now += 0.01
    s.arrived("rgb")
    msgs = stall_messages(s.snapshot(), stall_timeout=0.05)
    assert msgs == ["thermal stream stalled: last image 0.1 s ago"]


@pytest.mark.ros
def test_diagnostic_array_levels_and_keys():
    from diagnostic_msgs.msg import DiagnosticStatus

    from sccosf_ros.ros.diagnostics import diagnostic_array, values_of

    clock = FakeClock()
    s = NodeStats(hold=5.0, clock=clock.monotonic)
    s.arrived("rgb")
    s.arrived("thermal")
    s.count("synced_pairs", 3)
    s.count("processed", 2)
    s.count("dropped_busy", 1)
    s.latency("inference", 10.0)
    s.latency("e2e_age", 12.0)
    first = s.snapshot()
    arr = diagnostic_array(
        first, None, node_name="/ns/sccosf", hardware_id="cpu", stall_timeout=5.0
    )
    assert [st.name for st in arr.status] == [
        "/ns/sccosf: inputs",
        "/ns/sccosf: inference",
        "/ns/sccosf: input quality",
        "/ns/sccosf: sync",
    ]
    assert all(st.level == DiagnosticStatus.OK for st in arr.status)
    inf = values_of(arr, "inference")
    assert (inf["synced_pairs"], inf["processed"], inf["dropped_busy"]) == ("3", "2", "1")
    assert float(inf["inference_p50_ms"]) == 10.0 and float(inf["e2e_age_p95_ms"]) == 12.0
    s.malformed("malformed_rgb", "RGB image rejected: truncated")
    s.count("inference_errors")
    arr = diagnostic_array(
        s.snapshot(), first, node_name="n", hardware_id="cpu", stall_timeout=5.0
    )
    quality = arr.status[2]
    assert quality.level == DiagnosticStatus.WARN and "truncated" in quality.message
    assert quality.message.startswith("malformed RGB image: 1 in the last 5 s, 1 in total")
    assert values_of(arr, "input quality")["malformed_rgb"] == "1"
    assert arr.status[1].level == DiagnosticStatus.WARN  # a model failure within the hold
    # Nothing new since the previous report, but within the hold: still WARN.
    clock.now += 4.9
    held = diagnostic_array(
        s.snapshot(), s.snapshot(), node_name="n", hardware_id="cpu", stall_timeout=5.0
    )
    assert [held.status[i].level for i in (1, 2)] == [DiagnosticStatus.WARN] * 2
    assert held.status[1].message == "pair failed in the model: 1 in the last 5 s, 1 in total"
    # The hold has passed: back to OK, and no stale latency in the text.
    clock.now += 0.1
    again = diagnostic_array(
        s.snapshot(), s.snapshot(), node_name="n", hardware_id="cpu", stall_timeout=5.0
    )
    assert again.status[2].level == DiagnosticStatus.OK
    assert again.status[2].message == "inputs well-formed in the last 5 s (1 in total)"
    assert again.status[1].message.startswith("no pair processed in the last")


@pytest.mark.ros
def test_sync_warn_is_held_after_pairs_form_again():
    from types import SimpleNamespace

    from diagnostic_msgs.msg import DiagnosticStatus

    from sccosf_ros.ros.diagnostics import diagnostic_array

    clock = FakeClock()
    s = NodeStats(hold=5.0, clock=clock.monotonic)

    def report(unpaired=(0, 0)):
        pairer = SimpleNamespace(
            unpaired=lambda: unpaired, resets=0, trimmed=(0, 0), replaced=(0, 0)
        )
        s.record_pairer(pairer)
        snap = s.snapshot(stall_timeout=1.0)
        arr = diagnostic_array(snap, None, node_name="n", hardware_id="cpu", stall_timeout=1.0)
        return arr.status[3]

    s.stamped("rgb", 10**9)
    s.stamped("thermal", 0)
    for _ in range(3):  # both inputs arrive for 3 s, no pair forms
        s.arrived("rgb")
        s.arrived("thermal")
        sync = report(unpaired=(4, 4))
        clock.now += 1.0
    assert sync.level == DiagnosticStatus.WARN
    assert sync.message.startswith("no pair formed in 2.0 s although rgb and thermal arrive")
    assert "(1 in the last 5 s, 1 in total)" in sync.message
    s.arrived("rgb")
    s.arrived("thermal")
    s.paired()
    sync = report(unpaired=(4, 4))
    assert sync.level == DiagnosticStatus.WARN
    assert sync.message == (
        "no pair formed although rgb and thermal arrive: 1 in the last 5 s, 1 in total; "
        "pairing again; unpaired rgb 4, thermal 4 in the last 5 s (8 in total)"
    )
    clock.now += 5.0  # one hold after the stall was last seen
    s.arrived("rgb")
    s.arrived("thermal")
    s.paired()
    sync = report(unpaired=(4, 4))
    assert (sync.level, sync.message) == (DiagnosticStatus.OK, "pairing")


@pytest.mark.ros
def test_flat_field_correction_is_held_with_its_frequency():
    from diagnostic_msgs.msg import DiagnosticStatus

    from sccosf_ros.ros.diagnostics import diagnostic_array, values_of

    clock = FakeClock()
    s = NodeStats(hold=5.0, clock=clock.monotonic)

    def quality():
        arr = diagnostic_array(
            s.snapshot(), None, node_name="n", hardware_id="cpu", stall_timeout=5.0
        )
        return arr.status[2], values_of(arr, "input quality")

    for minute in range(3):  # a 4-frame shutter closure each minute (by stamps)
        for i in range(4):
            s.ffc(i == 0, (minute * 60 + i) * 10**9)
        if minute < 2:
            clock.now += 60.0
    status, values = quality()
    assert status.level == DiagnosticStatus.WARN
    assert status.message == (
        "flat-field correction in progress (thermal frames frozen or uniform, skipped): "
        "4 in the last 5 s, 12 in total; 3 shutter events, every 60.0 s; inputs well-formed"
    )
    assert (values["thermal_ffc_frames"], values["thermal_ffc_events"]) == ("12", "3")
    assert (values["ffc_recent"], values["ffc_mean_interval_s"]) == ("4", "60.0")
    assert values["malformed"] == "0"
    clock.now += 5.0  # one hold later: OK, the totals stay
    status, values = quality()
    assert (status.level, status.message) == (DiagnosticStatus.OK, "inputs well-formed")
    assert (values["thermal_ffc_frames"], values["ffc_recent"]) == ("12", "0")


def test_label_info_json_roundtrip():
    text = label_info_json(MFNET_CLASSES, MFNET_PALETTE, "mfnet")
    d = parse_label_info(text)
    assert d["dataset"] == "mfnet" and d["ignore_index"] == 255
    assert [c["name"] for c in d["classes"]] == list(MFNET_CLASSES)
    assert d["classes"][1] == {"id": 1, "name": "car", "color": [64, 0, 128]}
    with pytest.raises(ValueError):
        parse_label_info(json.dumps({"classes": []}))
    with pytest.raises(ValueError):
        label_info_json(MFNET_CLASSES, MFNET_PALETTE[:3])
