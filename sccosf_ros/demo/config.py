"""The demo's settings (``DemoConfig``), the node parameters it runs with, and their checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sccosf_ros.errors import SccosfError

PARAMS_FILE = "demo_params.yaml"


class DemoError(SccosfError, RuntimeError):
    """Something the user must fix (missing checkpoint, node that does not start, ...)."""


class DemoSettingsError(DemoError, ValueError):
    """A demo setting out of range (``--duration 0``, ``--threads -1``, ...)."""


@dataclass
class DemoConfig:
    out: Path = Path("outputs/demo")
    checkpoint: Path | None = None  # None = paths.default_checkpoint()
    duration: float = 12.0  # s of synthetic recording
    height: int = 240
    width: int = 320
    rgb_rate: float = 10.0
    thermal_rate: float = 8.7
    storage: str = "mcap"
    rate: float = 1.0  # replay speed
    seed: int = 0
    night: bool = False
    device: str = "auto"
    threads: int = 0  # torch CPU threads (node and bag-eval); 0 = torch's default
    backend: str = "torch"  # node parameter backend (node and bag-eval)
    cache_dir: Path | None = None  # node parameter backend.cache_dir (None: the default)
    run_bag_eval: bool = True
    node_start_timeout: float = 180.0
    drain_timeout: float = 20.0  # s to wait for the last outputs after the replay
    gif_max_frames: int = 60
    progress: bool = True


def demo_param_values(cfg: DemoConfig, checkpoint: Path) -> dict[str, Any]:
    """What the demo sets on top of config/sccosf.yaml (node and bag-eval alike)."""
    from sccosf_ros.synthetic import THERMAL_COUNTS

    lo, hi = (float(v) for v in THERMAL_COUNTS)
    return {
        "checkpoint": str(checkpoint),
        "device": cfg.device,
        "num_threads": int(cfg.threads),
        "thermal.normalization": "fixed",
        "thermal.low": lo,
        "thermal.high": hi,
        "output_qos.depth": 10,  # deeper than the default 2: the recorder misses nothing
        "backend": cfg.backend,
        **({"backend.cache_dir": str(cfg.cache_dir)} if cfg.cache_dir else {}),
        # a graph backend gets the frame size as its inference size (the same computation:
        # nothing is resized), so the node loads its graph before it reports ready instead of
        # on the first pair, while the short recording plays
        **(
            {"inference.height": cfg.height, "inference.width": cfg.width}
            if cfg.backend != "torch"
            else {}
        ),
    }


def params_files(out: Path) -> list[Path]:
    """The node's parameter files for the demo: the package's defaults, then the demo's."""
    from sccosf_ros.paths import find_share_file

    base = find_share_file("config/sccosf.yaml")
    return [*([base] if base is not None else []), out / PARAMS_FILE]


def demo_checkpoint(cfg: DemoConfig) -> Path:
    """The checkpoint the demo runs (``DemoError`` saying how to get it when missing)."""
    from sccosf_ros.paths import default_checkpoint

    ckpt = Path(cfg.checkpoint) if cfg.checkpoint else default_checkpoint()
    if not ckpt.is_file():
        raise DemoError(
            f"the demo checkpoint {str(ckpt)!r} is missing. models/README.md says how to get "
            "it (the exact `sccosf train` command on synthetic data); or pass --checkpoint "
            "FILE / set SCCOSF_CHECKPOINT"
        )
    return ckpt


def check_config(cfg: DemoConfig, ckpt: Path) -> None:
    """Bad settings fail here, before anything is written (DemoSettingsError / ParameterError)."""
    from sccosf_ros.pipeline.params import NodeParams

    for name in ("duration", "rgb_rate", "thermal_rate", "rate"):
        value = getattr(cfg, name)
        if not value > 0:  # also NaN
            raise DemoSettingsError(f"--{name.replace('_', '-')} must be > 0, got {value}")
    if cfg.threads < 0:
        raise DemoSettingsError(f"--threads must be >= 0 (0 = torch's default), got {cfg.threads}")
    NodeParams.from_dict(demo_param_values(cfg, ckpt))  # the node would refuse these
