"""The settings of ``sccosf bench adapt`` (``AdaptConfig``) and their checks, shared by its
steps (``adapt_steps``) and its report (``adapt_report``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sccosf_ros.bench.errors import BenchError, check_checkpoint


@dataclass
class AdaptConfig:
    """What ``sccosf bench adapt`` runs (the command line's values)."""

    out: Path
    checkpoint: Path
    style: str = "suburb-dusk"
    seeds: tuple[int, int] = (101, 202)  # adapt-on recording, held-out recording
    duration: float = 30.0  # s per recording
    size: tuple[int, int] = (240, 320)
    every: float = 0.2  # s between extracted frames
    steps: int = 300
    batch_size: int = 4
    crop: tuple[int, int] = (128, 192)
    threads: int = 2
    grid_rows: int = 4
    fusion_frames: int = 12  # held-out frames the nine fusion metrics are averaged over
    progress: bool = True
    timings: dict[str, float] = field(default_factory=dict)


def check_config(cfg: AdaptConfig) -> None:
    """Bad settings fail before anything is written (``BenchError``, one line)."""
    from sccosf_ros.synthetic.style import load_style

    if not Path(cfg.checkpoint).is_file():
        raise BenchError(f"--checkpoint {cfg.checkpoint}: no such file")
    check_checkpoint(Path(cfg.checkpoint))
    load_style(cfg.style)  # StyleError: one line
    if cfg.seeds[0] == cfg.seeds[1]:
        raise BenchError(f"--seeds must differ (the held-out street is another), got {cfg.seeds}")
    for name, value in (("--steps", cfg.steps), ("--batch-size", cfg.batch_size)):
        if value < 1:
            raise BenchError(f"{name} must be >= 1, got {value}")
    if cfg.every <= 0 or cfg.duration <= 0:
        raise BenchError(f"--every and --duration must be > 0, got {cfg.every}, {cfg.duration}")
    if min(cfg.crop) < 16 or cfg.crop[0] > cfg.size[0] or cfg.crop[1] > cfg.size[1]:
        raise BenchError(f"--crop {cfg.crop} must be >= 16 and fit in --size {cfg.size}")
    if cfg.threads < 1 or cfg.grid_rows < 1 or cfg.fusion_frames < 1:
        raise BenchError("--threads, --grid-rows and --fusion-frames must be >= 1")
    out = Path(cfg.out)
    if out.exists() and any(out.iterdir()) and not (out / "results.json").is_file():
        raise BenchError(f"{out} is not empty and holds no earlier results.json: choose a new one")
