"""``run_demo``: the demo's steps in order (see the package docstring), timed."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from sccosf_ros.bag.bag_eval import BagEvalConfig, evaluate_bag
from sccosf_ros.demo.analysis import analyse
from sccosf_ros.demo.config import (
    PARAMS_FILE,
    DemoConfig,
    DemoError,
    check_config,
    demo_checkpoint,
    demo_param_values,
    params_files,
)
from sccosf_ros.demo.live import LiveRun
from sccosf_ros.demo.summary import say, summary
from sccosf_ros.jsonio import write_json
from sccosf_ros.pipeline.params import read_params_files, write_params_file
from sccosf_ros.ros.dds import isolate_ros_domain
from sccosf_ros.ros.node_process import node_command


def run_demo(cfg: DemoConfig) -> dict:
    """Run the demo; returns metrics (also written to ``out/metrics.json``)."""
    t_start = time.perf_counter()
    ckpt = demo_checkpoint(cfg)
    check_config(cfg, ckpt)
    out = Path(cfg.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DemoError(f"cannot create the output folder {str(out)!r}: {e}") from None
    _clean_outputs(out)
    domain = isolate_ros_domain()
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    synth = _write_bag(cfg, out)
    timings["write_bag_s"] = time.perf_counter() - t0
    write_params_file(
        out / PARAMS_FILE,
        demo_param_values(cfg, ckpt),
        header="sccosf demo: the node's parameters on top of config/sccosf.yaml",
    )
    params = read_params_files(params_files(out))  # what the node and bag-eval run with
    t0 = time.perf_counter()
    prepare_backend(cfg, params)
    timings["prepare_backend_s"] = time.perf_counter() - t0
    scfg = synth.config
    cmd = node_command(
        params_files=params_files(out),
        params={"use_sim_time": True},
        remaps={"rgb/image_raw": scfg.rgb_topic, "thermal/image_raw": scfg.thermal_topic},
    )
    t0 = time.perf_counter()
    live = LiveRun(cfg, cmd, out, scfg).run()
    timings.update(live.pop("timings"))
    timings["live_total_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    metrics = analyse(out, synth, live, cfg, ckpt, params)
    timings["analysis_s"] = time.perf_counter() - t0
    metrics.update(
        {
            "ros": domain,
            "checkpoint": str(ckpt),
            "backend": cfg.backend,
            "node_command": " ".join(cmd),
        }
    )
    if cfg.run_bag_eval:
        t0 = time.perf_counter()
        metrics["bag_eval"] = _bag_eval(cfg, out, synth, params)
        timings["bag_eval_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_start
    metrics["timings"] = timings
    write_json(out / "metrics.json", metrics)
    print(summary(metrics, out))
    return metrics


def prepare_backend(cfg: DemoConfig, params: Any) -> None:
    """Export (or find in the cache) the graph a non-torch backend needs at the bag's frame
    size before the node starts, so the node's first pairs do not wait for the export."""
    if cfg.backend == "torch":
        return
    from sccosf_ros.pipeline.processor import StartupError, load_predictor

    say(f"      backend {cfg.backend}: preparing its {cfg.height}x{cfg.width} graph ...")
    try:
        load_predictor(params)
    except StartupError as e:
        raise DemoError(str(e)) from None


def _clean_outputs(out: Path) -> None:
    """Remove what an earlier demo run wrote (only the demo's own products)."""
    for name in ("input_bag", "recorded_bag", "bag_eval"):
        if (out / name).exists():
            shutil.rmtree(out / name)
    for name in ("contact_sheet.png", "preview.gif", "metrics.json", "node.log", PARAMS_FILE):
        (out / name).unlink(missing_ok=True)


def _write_bag(cfg: DemoConfig, out: Path) -> Any:
    """Step 1: the synthetic input bag."""
    from sccosf_ros.synthetic import BagSettings, write_synthetic_bag

    scfg = BagSettings(
        storage=cfg.storage,
        duration=cfg.duration,
        rgb_rate=cfg.rgb_rate,
        thermal_rate=cfg.thermal_rate,
        height=cfg.height,
        width=cfg.width,
        seed=cfg.seed,
        night=cfg.night,
        show_progress=cfg.progress,
    )
    synth = write_synthetic_bag(out / "input_bag", scfg)
    say(
        f"[1/4] synthetic bag: {len(synth.rgb_stamps)} RGB, {len(synth.thermal_stamps)} "
        f"thermal (mono16), {len(synth.label_stamps)} labels, {cfg.duration:.0f} s, "
        f"{cfg.storage} -> {synth.path}"
    )
    return synth


def _bag_eval(cfg: DemoConfig, out: Path, synth: Any, params: Any) -> dict:
    """Step 4: the same bag through ``sccosf bag-eval`` with the node's own parameters."""
    say("[4/4] bag-eval on the same bag, same parameter files (every pair, no drops) ...")
    scfg = synth.config
    bm = evaluate_bag(
        BagEvalConfig(
            bag=synth.path,
            rgb_topic=scfg.rgb_topic,
            thermal_topic=scfg.thermal_topic,
            label_topic=scfg.label_topic,
            out=out / "bag_eval",
            params=params,
            progress=cfg.progress,
        )
    )
    keep = (
        "pairs",
        "miou",
        "throughput_pairs_per_s",
        "latency_ms",
        "fusion",
        "metrics_file",
        "contact_sheet",
        "output_bag",
    )
    return {k: bm.get(k) for k in keep}
