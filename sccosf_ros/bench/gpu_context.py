"""What every part of the GPU check (``bench.gpu_parts``) shares: the context a part runs in
(device, budget, where its results go), the way it says it cannot run here, the sizes the
issue's targets are judged at, and the optional-package probe."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from sccosf_ros.jsonio import write_json

MFNET_TRAIN_IMAGES = {"train (784)": 784, "train+val (1176, Sigma's protocol)": 1176}
EPOCHS = 500
SIZE = (480, 640)
BATCH = 8


class PartSkipped(Exception):
    """Raised by a part that cannot run here; the message says why (internal: the part's
    process exits with ``SKIPPED_RC`` and the report lists it as skipped)."""


SKIPPED_RC = 3  # a part's exit code for "cannot run here"


@dataclass
class PartContext:
    """What a part gets: device, mode, budget, and where its results go."""

    name: str
    device: torch.device
    json_path: Path
    work: Path  # the part's own folder for files (logs, bags, checkpoints)
    budget_s: float
    quick: bool = False
    plumbing: bool = False
    t0: float = field(default_factory=time.monotonic)
    results: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def time_left(self) -> float:
        return self.budget_s - (time.monotonic() - self.t0)

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.save()

    def row(self, table: str, row: dict) -> None:
        """Append one measurement to ``results[table]`` and save at once."""
        self.results.setdefault(table, []).append(row)
        print(f"[{self.name}] {table}: {row}", flush=True)
        self.save()

    def save(self) -> None:
        write_json(self.json_path, {"results": self.results, "notes": self.notes})

    def enough_time(self, seconds: float, what: str) -> bool:
        """False (and a note) when less than ``seconds`` of the budget is left for ``what``."""
        if self.time_left() >= seconds:
            return True
        self.note(f"{what}: not run, out of this part's time budget")
        return False


def import_status(module: str, version_attr: str = "__version__") -> dict:
    """Whether ``module`` imports here, its version or why not (for the report)."""
    try:
        mod = __import__(module)
    except Exception as e:  # ImportError, or a broken install raising anything
        return {"available": False, "reason": f"{type(e).__name__}: {str(e)[:300]}"}
    return {"available": True, "version": str(getattr(mod, version_attr, "?"))}
