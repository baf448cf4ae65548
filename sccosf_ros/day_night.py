"""The day/night split names of the paper's per-condition scores (MFNet: Table 1's day and
night columns), shared by the dataset readers (which tag each sample) and the evaluator (which
scores each split)."""

from __future__ import annotations

DAY = "day"
NIGHT = "night"


def mfnet_day_night(name: str) -> str | None:
    """MFNet's day/night split by name suffix: ``00001D`` → ``"day"``, ``01234N`` →
    ``"night"``, anything else → None."""
    return {"D": DAY, "N": NIGHT}.get(str(name)[-1:].upper())


def day_night(night: bool | None) -> str | None:
    """A sample's night flag as its split name: True → ``"night"``, False → ``"day"``."""
    return None if night is None else NIGHT if night else DAY
