"""GPU check part ``kernels``: the Triton selective-scan kernels compiled for sm_80 / sm_90
without a GPU, and ptxas's register, spill and shared-memory figures for each."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from sccosf_ros.bench.gpu_context import BATCH, PartContext, PartSkipped

_PTXAS_ARCH = {80: "sm_80", 86: "sm_86", 89: "sm_89", 90: "sm_90a"}
# Kernel arguments that are float32 whatever the input dtype (parameters, states, partials).
_FP32_ARGS = {
    "A_ptr",
    "D_ptr",
    "bias_ptr",
    "H_ptr",
    "dB_ptr",
    "dC_ptr",
    "dA_ptr",
    "dD_ptr",
    "dbias_ptr",
}


def compile_scan_kernel(
    kernel: str, arch: int, dtype: str, blocks: tuple[int, int, int], num_warps: int = 4
) -> dict:
    """Compile the Triton scan kernel ``kernel`` ("fwd" | "bwd") for ``sm_<arch>`` without a
    GPU, with inputs of ``dtype`` (fp32 | bf16 | fp16), D, z, bias and softplus on; returns
    ptxas's registers, spill bytes and the kernel's shared memory."""
    import triton
    import triton.language as tl
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from sccosf_ros.model.ssm import triton_kernels

    if triton_kernels.interpreted():
        raise RuntimeError("TRITON_INTERPRET=1 is set: the kernels are interpreted, not compiled")
    fn = {"fwd": triton_kernels.fwd_kernel, "bwd": triton_kernels.bwd_kernel}[kernel]
    BD, BN, BL = blocks
    consts: dict[str, Any] = {
        "HAS_D": True,
        "HAS_Z": True,
        "HAS_BIAS": True,
        "SOFTPLUS": True,
        "ACC": tl.float32,
        "BD": BD,
        "BN": BN,
        "BL": BL,
    }
    if kernel == "fwd":
        consts["SAVE_H"] = True
    names = fn.arg_names
    sig = {
        a: "constexpr"
        if a in consts
        else ("*fp32" if a in _FP32_ARGS else f"*{dtype}")
        if a.endswith("_ptr")
        else "i32"
        for a in names
    }
    src = ASTSource(fn, sig, constexprs={(names.index(k),): v for k, v in consts.items()})
    t0 = time.perf_counter()
    compiled = triton.compile(
        src, target=GPUTarget("cuda", arch, 32), options={"num_warps": num_warps}
    )
    seconds = time.perf_counter() - t0
    ptxas = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "ptxas"
    with tempfile.TemporaryDirectory() as tmp:
        ptx = Path(tmp) / "k.ptx"
        ptx.write_text(compiled.asm["ptx"])
        res = subprocess.run(
            [
                str(ptxas),
                f"-arch={_PTXAS_ARCH.get(arch, f'sm_{arch}')}",
                "-v",
                str(ptx),
                "-o",
                str(Path(tmp) / "k.cubin"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    info = res.stdout + res.stderr

    def grab(pattern: str) -> int | None:
        m = re.search(pattern, info)
        return int(m.group(1)) if m else None

    return {
        "registers": grab(r"Used (\d+) registers"),
        "spill_stores_bytes": grab(r"(\d+) bytes spill stores"),
        "spill_loads_bytes": grab(r"(\d+) bytes spill loads"),
        "shared_bytes": compiled.metadata.shared,
        "compile_s": round(seconds, 2),
    }


def part_kernels(ctx: PartContext) -> None:
    from sccosf_ros.model.ssm import triton_kernels, triton_scan

    if not triton_kernels.triton_available():
        raise PartSkipped("triton is not installed")
    archs = [90] if ctx.quick else [80, 90]
    if ctx.cuda:
        major, minor = torch.cuda.get_device_capability(ctx.device)
        archs = sorted({*archs, 10 * major + minor})
    dtypes = ["fp32"] if ctx.quick else ["fp32", "bf16", "fp16"]
    states = [16] if ctx.quick else [1, 4, 16]  # the presets' d_state
    combos = [(n, dt) for n in states for dt in (dtypes if n == max(states) else ["fp32"])]
    for n, dtype in combos:
        blocks = triton_scan.block_sizes(BATCH, 32, n, 19200, 2)
        for arch in archs:
            for kernel in ("fwd", "bwd"):
                if not ctx.enough_time(10, f"compile {kernel} sm_{arch} {dtype} n={n}"):
                    return
                row = {"kernel": kernel, "arch": arch, "dtype": dtype, "n": n}
                row["blocks (BD, BN, BL)"] = list(blocks)
                row.update(compile_scan_kernel(kernel, arch, dtype, blocks))
                ctx.row("compiled", row)
