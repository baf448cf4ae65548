"""Split hygiene: no training image may also be in a held-out (validation or test) split.

Checked before training (and in ``--dry-run``) for every dataset type through the datasets' own
file lists: by sample name, and by content (a hash of each sample's RGB file bytes: a copy under
another name is the same image). The held-out splits are the validation split of the run plus
``val`` and ``test`` where the dataset has them and the run does not train on them.

One layout needs more than the comparison: the MRFS copy of MFNet (``visible/ infrared/ label/``)
names its *test* set ``val.txt``, so training on ``val`` there (the ``mfnet-paper`` recipe trains
on train+val, Sigma's protocol) trains on the test set even when no ``test.txt`` exists to
compare with. ``allow_overlap`` (``--allow-overlap``) turns the refusal into one warning line.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sccosf_ros.data.datasets import SegmentationDataset, build_dataset
from sccosf_ros.data.errors import DatasetError
from sccosf_ros.training.config import TrainConfig
from sccosf_ros.training.errors import TrainError

HELD_OUT = ("val", "test")  # split names that are held out unless trained on
MRFS_LAYOUT = "visible_infrared"  # MFNetDataset layout of the MRFS copy
_SHOWN = 3  # file names shown per kind of overlap
_CHUNK = 1 << 20


class SplitOverlapError(TrainError):
    """Training images are also in a held-out split; the message names them."""


@dataclass
class SplitOverlap:
    """What the training split shares with the held-out splits."""

    held_out: list[str]
    by_name: list[str] = field(default_factory=list)  # training names also held out
    by_content: list[tuple[str, str]] = field(default_factory=list)  # (training, held-out) files
    mrfs_val: bool = False  # trains on the MRFS layout's val.txt, its test set

    def __bool__(self) -> bool:
        return bool(self.by_name or self.by_content or self.mrfs_val)

    def describe(self) -> str:
        """One line naming the first few files of each kind and the counts."""
        parts = []
        if self.by_name:
            parts.append(f"{len(self.by_name)} by name ({_first(self.by_name)})")
        if self.by_content:
            pairs = [f"{a} = {b}" for a, b in self.by_content]
            parts.append(f"{len(pairs)} by identical RGB file ({_first(pairs)})")
        text = (
            f"training images also in the held-out split(s) {', '.join(self.held_out)}: "
            + "; ".join(parts)
            if parts
            else ""
        )
        if self.mrfs_val:
            note = (
                "the MRFS layout of MFNet (visible/ infrared/ label/) names its test set val.txt, "
                "so training on val (as the mfnet-paper recipe's train+val does) trains on the "
                "test set; use --train-split train"
            )
            text = f"{text}; {note}" if text else note
        return text


def _first(items: list[str]) -> str:
    more = f", ... (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


def _file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _rgb_hashes(ds: SegmentationDataset, bar: object | None) -> dict[str, str]:
    """Content hash of each sample's RGB file (the first file ``paths`` names) → its name."""
    out: dict[str, str] = {}
    for i, name in enumerate(ds.names):
        out.setdefault(_file_hash(ds.paths(i)[0]), name)
        if bar is not None:
            bar.update(1)
    return out


def held_out_splits(cfg: TrainConfig, train: SegmentationDataset, val_split: str) -> list[str]:
    """The run's validation split plus val/test where present and not trained on."""
    available = getattr(type(train), "available_splits", None)
    present = set(available(train.root)) if available is not None else set()
    names = [val_split] + [s for s in HELD_OUT if s in present and s not in train.splits]
    return list(dict.fromkeys(names))


def _open_held_out(cfg: TrainConfig, split: str, val: SegmentationDataset) -> SegmentationDataset:
    if split == val.split:
        return val
    try:
        return build_dataset(cfg.dataset, cfg.root, split)
    except DatasetError as e:
        raise TrainError(f"split check: cannot read split {split!r}: {e}") from e


def find_overlap(
    cfg: TrainConfig, train: SegmentationDataset, val: SegmentationDataset, progress: bool
) -> SplitOverlap:
    """Compare the training split with every held-out split, by name and by RGB content."""
    from tqdm import tqdm

    held = [_open_held_out(cfg, s, val) for s in held_out_splits(cfg, train, val.split)]
    result = SplitOverlap([h.split for h in held])
    result.mrfs_val = getattr(train, "layout", None) == MRFS_LAYOUT and "val" in train.splits
    held_names = {n for h in held for n in h.names}
    result.by_name = [n for n in train.names if n in held_names]
    total = len(train) + sum(len(h) for h in held)
    with tqdm(total=total, desc="split check", unit="img", disable=not progress) as bar:
        held_hashes: dict[str, str] = {}
        for h in held:
            for digest, name in _rgb_hashes(h, bar).items():
                held_hashes.setdefault(digest, name)
        named = set(result.by_name)
        for digest, name in _rgb_hashes(train, bar).items():
            if digest in held_hashes and name not in named:
                result.by_content.append((name, held_hashes[digest]))
    return result


def check_split_overlap(
    cfg: TrainConfig, train: SegmentationDataset, val: SegmentationDataset, progress: bool
) -> str | None:
    """SplitOverlapError when training images are held out too; with ``allow_overlap`` the
    warning line to print instead (None when the splits are clean)."""
    overlap = find_overlap(cfg, train, val, progress)
    if not overlap:
        return None
    if cfg.allow_overlap:
        return f"warning: {overlap.describe()}; training anyway (--allow-overlap)"
    raise SplitOverlapError(
        f"refusing to train: {overlap.describe()}. Held-out images in training inflate the "
        "validation mIoU and the choice of best.pt: fix the split files, or pass "
        "--allow-overlap to train anyway"
    )


def report_split_overlap(
    cfg: TrainConfig, train: SegmentationDataset, val: SegmentationDataset, progress: bool
) -> None:
    """``check_split_overlap`` that prints the warning line (stderr) when overlap is allowed."""
    line = check_split_overlap(cfg, train, val, progress)
    if line:
        print(line, file=sys.stderr)
