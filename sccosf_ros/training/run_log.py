"""What a training run writes for people to look at: ``log.csv`` and TensorBoard event files.

The CSV has one row per logged training step (``kind=train``: learning rate, every loss term,
images/s) and one per validation (``kind=val``: mIoU overall / day / night). Resuming truncates
rows past the resumed step, so a crashed run's tail is not duplicated. ``LogWindow`` averages
the loss terms over the steps between two rows; ``short_terms`` names them on the progress bar.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any

BASE_COLUMNS = ("step", "epoch", "kind", "lr")
VAL_COLUMNS = ("val_miou", "val_miou_day", "val_miou_night")
TAIL_COLUMNS = ("images_per_s", "elapsed_s")


class RunLog:
    """CSV + (optional) TensorBoard writer; only the main process should create one."""

    def __init__(
        self, out_dir: Path, *, resume_step: int | None = None, tensorboard: bool = True
    ) -> None:
        self.out_dir = Path(out_dir)
        self.csv_path = self.out_dir / "log.csv"
        self._columns: list[str] | None = None
        if resume_step is not None and self.csv_path.is_file():
            self._truncate_after(resume_step)
        elif self.csv_path.exists():
            self.csv_path.unlink()  # a fresh run starts a fresh log
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(log_dir=str(self.out_dir / "tensorboard"))
            except Exception as e:  # tensorboard missing or broken: the CSV still has it all
                print(
                    f"note: TensorBoard logging is off ({type(e).__name__}: {e}); "
                    f"see {self.csv_path} instead",
                    file=sys.stderr,
                )

    def _truncate_after(self, step: int) -> None:
        with self.csv_path.open(newline="") as f:
            rows = list(csv.DictReader(f))
            f.seek(0)
            header = next(csv.reader(f), None)
        if not header:
            return
        self._columns = header
        keep = [r for r in rows if r.get("step", "").isdigit() and int(r["step"]) <= step]
        with self.csv_path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header)
            w.writeheader()
            w.writerows(keep)

    def _write(self, row: dict) -> None:
        if self._columns is None:
            terms = sorted(k for k in row if k not in (*BASE_COLUMNS, *VAL_COLUMNS, *TAIL_COLUMNS))
            self._columns = [*BASE_COLUMNS, *terms, *VAL_COLUMNS, *TAIL_COLUMNS]
            new = not self.csv_path.exists() or self.csv_path.stat().st_size == 0
            if new:
                with self.csv_path.open("w", newline="") as f:
                    csv.DictWriter(f, fieldnames=self._columns).writeheader()
        with self.csv_path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self._columns, extrasaction="ignore")
            w.writerow({k: _fmt(row.get(k)) for k in self._columns})

    def train(
        self,
        step: int,
        epoch: int,
        lr: float,
        terms: dict[str, float],
        images_per_s: float,
        elapsed_s: float,
    ) -> None:
        self._write(
            {
                "step": step,
                "epoch": epoch,
                "kind": "train",
                "lr": lr,
                **terms,
                "images_per_s": images_per_s,
                "elapsed_s": elapsed_s,
            }
        )
        if self.tb is not None:
            self.tb.add_scalar("train/lr", lr, step)
            self.tb.add_scalar("train/images_per_s", images_per_s, step)
            for k, v in terms.items():
                self.tb.add_scalar(f"train/{k}", v, step)

    def val(self, step: int, epoch: int, result: dict, elapsed_s: float) -> None:
        self._write(
            {
                "step": step,
                "epoch": epoch,
                "kind": "val",
                "val_miou": result.get("miou"),
                "val_miou_day": result.get("miou_day"),
                "val_miou_night": result.get("miou_night"),
                "elapsed_s": elapsed_s,
            }
        )
        if self.tb is not None:
            for key in ("miou", "miou_day", "miou_night"):
                if result.get(key) is not None:
                    self.tb.add_scalar(f"val/{key}", result[key], step)
            for name, v in (result.get("iou") or {}).items():
                if v is not None:
                    self.tb.add_scalar(f"val_iou/{name}", v, step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
            self.tb = None


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def short_terms(terms: dict[str, float]) -> dict[str, str]:
    """The loss terms under short names, 4 decimals: the progress bar's postfix."""
    short = {
        "total": "loss",
        "ce": "ce",
        "fusion": "fus",
        "content": "con",
        "gradient": "grad",
        "color": "col",
    }
    return {short.get(k, k): f"{v:.4f}" for k, v in terms.items() if k in short}


class LogWindow:
    """Loss terms summed over the steps since the last log row, and the time they took."""

    def __init__(self) -> None:
        self.t0, self.n, self.sums = time.perf_counter(), 0, {}

    def add(self, terms: dict[str, float]) -> None:
        for key, v in terms.items():
            self.sums[key] = self.sums.get(key, 0.0) + v
        self.n += 1

    def flush(self, images_per_step: int) -> tuple[dict[str, float], float]:
        """(mean of each term, images/s) over the window; starts a new window."""
        dt = time.perf_counter() - self.t0
        ips = self.n * images_per_step / max(dt, 1e-9)
        mean = {key: v / self.n for key, v in self.sums.items()}
        self.t0, self.n, self.sums = time.perf_counter(), 0, {}
        return mean, ips
