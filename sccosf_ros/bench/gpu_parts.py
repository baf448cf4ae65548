"""The parts of ``sccosf bench gpu`` (``make gpu-check``), one function each, in one module per
part group (``gpu_env``, ``gpu_kernels``, ``gpu_parity``, ``gpu_scan_speed``, ``gpu_train``,
``gpu_inference``, ``gpu_node``; what they share is ``gpu_context``); this module is their table
and the entry point of a part's process.

Each part runs in its own process (``python -m sccosf_ros.bench.gpu_parts PART --json FILE``,
started by :mod:`sccosf_ros.bench.gpu`), so that a crash, a CUDA error or a hang in one part
cannot stop the others, and its time budget is a real timeout. A part writes its results to
its JSON file after every measurement: what it measured before a timeout is kept.

Parts (``PARTS``; ``needs_cuda`` parts are skipped without a GPU unless ``--plumbing``, which
runs them on the CPU at tiny sizes to check the code path, not to measure anything):

* ``env``         versions, GPU, which optional packages import (mamba-ssm, TensorRT, ORT).
* ``kernels``     compile the Triton scan kernels for sm_80/sm_90 (no GPU needed) and read
  ptxas's register and spill figures.
* ``parity``      values and every gradient of triton / torch / mamba_ssm against the float64
  reference (CPU: Triton's interpreter at tiny shapes); on CUDA also large-shape agreement and
  the scan test files under pytest.
* ``scan_speed``  fwd and fwd+bwd ms of each backend at b=2 d=192 n=16 L=19200 and at the
  paper preset's real scan shapes (batch 8, 480×640), per-step totals, a Triton block sweep.
* ``train``       a bf16 training step of nano and paper at batch 8, 480×640: time, peak memory,
  the 500-epoch MFNet estimate.
* ``inference``   Predictor FPS of nano / tiny / paper at 480×640 in fp32 / fp16 / bf16, with
  parity against fp32.
* ``tensorrt``    the same through ``Predictor.from_checkpoint(..., backend="tensorrt")`` in
  fp16 when TensorRT imports; a preset whose engine cannot be built is a row saying why.
* ``node``        the real node on ``device:=cuda`` over DDS: the demo bag (``sccosf demo``'s
  pieces) and 640×480 pairs at 10/30 Hz (``sccosf bench node``'s end-to-end part).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from sccosf_ros.bench.gpu_context import SKIPPED_RC, PartContext, PartSkipped
from sccosf_ros.bench.gpu_env import part_env
from sccosf_ros.bench.gpu_inference import part_inference, part_tensorrt
from sccosf_ros.bench.gpu_kernels import part_kernels
from sccosf_ros.bench.gpu_node import part_node
from sccosf_ros.bench.gpu_parity import part_parity
from sccosf_ros.bench.gpu_scan_speed import part_scan_speed
from sccosf_ros.bench.gpu_train import part_train


@dataclass(frozen=True)
class Part:
    """One part: its function, whether it needs CUDA, its time budget and one line on what."""

    fn: Callable[[PartContext], None]
    needs_cuda: bool
    budget_s: int  # seconds on an H100-class GPU; the runner adds a start-up grace
    what: str


PARTS: dict[str, Part] = {
    "env": Part(part_env, False, 20, "versions, GPU, optional packages"),
    "kernels": Part(part_kernels, False, 40, "Triton kernels compiled for sm_80/sm_90: ptxas"),
    "parity": Part(part_parity, False, 120, "scan values and gradients vs float64 reference"),
    "scan_speed": Part(part_scan_speed, False, 100, "scan fwd / fwd+bwd ms per backend"),
    "train": Part(part_train, True, 90, "bf16 training step, nano and paper, b8 480x640"),
    "inference": Part(part_inference, True, 60, "Predictor FPS fp32/fp16/bf16, 480x640"),
    "tensorrt": Part(part_tensorrt, True, 80, "Predictor FPS through backend='tensorrt'"),
    "node": Part(part_node, True, 70, "sccosf_node on device:=cuda over DDS"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sccosf_ros.bench.gpu_parts")
    parser.add_argument("part", choices=list(PARTS))
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--plumbing", action="store_true")
    a = parser.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    ctx = PartContext(
        a.part, torch.device(a.device), a.json, a.work, a.budget, a.quick, a.plumbing
    )
    ctx.save()
    try:
        PARTS[a.part].fn(ctx)
    except PartSkipped as e:
        ctx.results["skipped"] = str(e)
        ctx.save()
        return SKIPPED_RC
    return 0


if __name__ == "__main__":
    sys.exit(main())
