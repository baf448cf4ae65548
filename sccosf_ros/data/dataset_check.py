"""Check a dataset before anything trains on it: every listed sample decodes, its images and label
have one size, its label ids are classes of the dataset (or 255).

The same check runs as ``sccosf check-dataset`` and inside ``sccosf train`` before step 1, so a
truncated PNG found after hours of training is found in the first minute instead. Each sample is
read exactly as training reads it (``load_raw``), in a thread pool (the PNG decoder releases the
GIL); a problem is one line naming the files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import cv2

from sccosf_ros.data.errors import load_error_message

SHOWN_PROBLEMS = 10  # problems listed by name; the rest are counted


@dataclass
class DatasetReport:
    """What ``check_dataset`` found: samples checked and one line per bad sample."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)  # what was checked ("train (784 images)")

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self, limit: int = SHOWN_PROBLEMS) -> list[str]:
        """The first ``limit`` problems, then how many more there are."""
        shown = self.problems[:limit]
        more = len(self.problems) - len(shown)
        return shown + ([f"... and {more} more bad sample(s)"] if more > 0 else [])

    def summary(self) -> str:
        what = ", ".join(self.parts)
        if self.ok:
            return f"{self.checked} samples checked ({what}): all decode, sizes and ids are valid"
        return (
            f"{len(self.problems)} of {self.checked} samples ({what}) cannot be used; fix or "
            "remove them (the lines above name the files)"
        )


def _check_one(dataset: Any, i: int) -> str | None:
    try:
        dataset.load_raw(i)
    except (ValueError, OSError, cv2.error) as e:
        return load_error_message(dataset, i, e)
    return None


def check_dataset(
    datasets: Iterable[Any],
    *,
    progress: bool = True,
    workers: int | None = None,
    desc: str = "check dataset",
) -> DatasetReport:
    """Read every sample of each dataset (objects with ``load_raw``, ``names``, ``split``);
    returns the report. Files shared by two datasets are read once."""
    from tqdm import tqdm

    jobs: list[tuple[Any, int]] = []
    seen: set[tuple[str, ...]] = set()
    report = DatasetReport()
    for ds in datasets:
        for i in range(len(ds)):
            key = tuple(str(p) for p in ds.paths(i))
            if key not in seen:
                seen.add(key)
                jobs.append((ds, i))
        report.parts.append(f"{ds.split}: {len(ds)} images")
    threads = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        results = pool.map(lambda job: _check_one(*job), jobs)
        for problem in tqdm(
            results,
            total=len(jobs),
            desc=desc,
            unit="img",
            disable=not progress,
            dynamic_ncols=True,
        ):
            report.checked += 1
            if problem is not None:
                report.problems.append(problem)
    return report
