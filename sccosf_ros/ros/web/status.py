"""What ``/api/status`` reports: the newest ``/diagnostics`` figures as JSON, the parameters in
force, the class legend, the streams and the web view's own counters.

The node hands over the ``DiagnosticArray`` it has just published (one reference, converted
only when a client asks); the standalone viewer hands over the ones it receives on
``/diagnostics``. Levels are written as words (OK, WARN, ERROR, STALE).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

LEVELS = {0: "OK", 1: "WARN", 2: "ERROR", 3: "STALE"}


def _level(value: Any) -> str:
    n = value[0] if isinstance(value, bytes | bytearray) else int(value)
    return LEVELS.get(n, str(n))


def diagnostics_json(array: Any) -> list[dict[str, Any]]:
    """A ``diagnostic_msgs/DiagnosticArray`` → ``[{name, level, message, values}]``."""
    return [
        {
            "name": st.name,
            "level": _level(st.level),
            "message": st.message,
            "hardware_id": st.hardware_id,
            "values": {kv.key: kv.value for kv in st.values},
        }
        for st in array.status
    ]


class StatusBoard:
    """The pieces of ``/api/status``, set from any thread, read by the HTTP threads."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._lock = threading.Lock()
        self._diagnostics: dict[str, Any] = {}  # status name → its newest array
        self._diag_at: float | None = None
        self._params: Callable[[], dict[str, Any]] | None = None
        self._legend: dict[str, Any] | None = None

    def set_diagnostics(self, array: Any) -> None:
        """The newest ``DiagnosticArray`` (statuses of several nodes are kept side by side)."""
        with self._lock:
            for st in array.status:
                self._diagnostics[st.name] = st
            self._diag_at = time.monotonic()

    def set_parameters(self, source: Callable[[], dict[str, Any]]) -> None:
        self._params = source

    def set_legend(self, legend: dict[str, Any] | None) -> None:
        """``label_info_dict``'s form: ``{"dataset", "classes": [{"id","name","color"}]}``."""
        with self._lock:
            self._legend = legend

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            statuses = list(self._diagnostics.values())
            diag_at, legend = self._diag_at, self._legend
        params = self._params() if self._params is not None else {}

        class _Array:  # diagnostics_json reads .status
            status = statuses

        return {
            "title": self.title,
            "diagnostics": diagnostics_json(_Array),
            "diagnostics_age_s": None if diag_at is None else time.monotonic() - diag_at,
            "parameters": {k: _jsonable(v) for k, v in params.items()},
            "legend": legend,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)
