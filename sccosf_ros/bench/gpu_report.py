"""The GPU check's report: the issue's targets judged from the parts' results, and Markdown."""

from __future__ import annotations

import math
from typing import Any

from sccosf_ros.tables import markdown_table, records_table

TRITON_VS_MAMBA = 2.0  # Triton scan within 2x of mamba-ssm's kernel, fwd+bwd, paper shapes
PAPER_TRT_FPS = 60.0  # paper preset at 480x640 on an H100-class GPU, TensorRT fp16
MFNET_HOURS = 4.0  # a 500-epoch MFNet run on one such GPU


def _target(name: str, value: float | None, met: bool | None, note: str) -> dict:
    return {"target": name, "value": value, "met": met, "note": note}


def _not_measured(parts: dict, part: str) -> str:
    e = parts.get(part)
    if e is None:
        return f"part {part} not run"
    return f"part {part} {e['status']}" + (f": {e['reason']}" if e.get("reason") else "")


def evaluate_targets(parts: dict) -> list[dict]:
    """Each target with its measured value and met / not met, or why it was not measured."""
    out = []
    r = parts.get("scan_speed", {}).get("results", {})
    ratio = r.get("triton_over_mamba_fwd_bwd")
    name = f"Triton scan ≤ {TRITON_VS_MAMBA:g}× mamba-ssm, fwd+bwd, paper shapes"
    if ratio is not None:
        out.append(_target(name, ratio, ratio <= TRITON_VS_MAMBA, "Σ over one step's scans"))
    else:
        why = (
            "needs CUDA and mamba-ssm" if parts.get("scan_speed", {}).get("status") == "ok" else ""
        )
        out.append(_target(name, None, None, why or _not_measured(parts, "scan_speed")))
    fps = [
        row["fps"]
        for row in parts.get("tensorrt", {}).get("results", {}).get("fps", [])
        if row.get("preset") == "paper" and "fps" in row  # not a skipped row
    ]
    name = f"paper inference ≥ {PAPER_TRT_FPS:g} FPS at 480×640 (TensorRT)"
    if fps:
        out.append(_target(name, fps[0], fps[0] >= PAPER_TRT_FPS, "end-to-end Predictor FPS"))
    else:
        out.append(_target(name, None, None, _not_measured(parts, "tensorrt")))
    hours = [
        row["mfnet_500_epochs_h"]["train (784)"]
        for row in parts.get("train", {}).get("results", {}).get("steps", [])
        if row.get("run") == "paper" and "mfnet_500_epochs_h" in row
    ]
    name = f"500-epoch MFNet run of paper ≤ {MFNET_HOURS:g} h (784 images, batch 8)"
    if hours and parts["train"]["results"].get("amp", "").startswith("bf16"):
        note = "compute only (data loading and evaluation not included)"
        out.append(_target(name, hours[0], hours[0] <= MFNET_HOURS, note))
    else:
        out.append(_target(name, None, None, _not_measured(parts, "train")))
    return out


# ------------------------------------------------------------------------------ markdown
def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return {True: "yes", False: "**no**", None: "–"}[v]
    if isinstance(v, float):
        if not math.isfinite(v):
            return "–"
        return f"{v:.3g}" if abs(v) < 1e-2 or abs(v) >= 1e5 else f"{v:.4g}"
    if isinstance(v, list) and all(not isinstance(x, dict | list) for x in v):
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return str(v)


def _part_lines(name: str, e: dict) -> list[str]:
    head = f"## {name}: {e['status']}"
    if "seconds" in e:
        head += f" ({e['seconds']:.0f} s of {e['budget_s']:.0f} s)"
    lines = [head, "", e.get("what", ""), ""]
    if e.get("reason"):
        lines += [f"*{e['reason']}*", ""]
    if e.get("error"):
        lines += ["```", *e["error"], "```", ""]
    scalars = {k: v for k, v in e.get("results", {}).items() if not isinstance(v, list)}
    tables = {k: v for k, v in e.get("results", {}).items() if isinstance(v, list)}
    lines += [f"- {k}: {_fmt(v)}" for k, v in scalars.items()]
    for table, rows in tables.items():
        if rows and isinstance(rows[0], dict):
            lines += ["", f"**{table}**", "", *records_table(rows, _fmt)]
        else:
            lines += [f"- {table}: {_fmt(rows)}"]
    lines += ["", *[f"> note: {n}" for n in e.get("notes", [])], ""]
    return lines


def markdown(report: dict) -> str:
    """report.md: what ran where, the targets, then each part's results."""
    m = report["meta"]
    lines = [
        "# SC-CoSF GPU check",
        "",
        f"{m['created']} on {m['host']}: **{m['mode']}**"
        + (f", {m['gpu']}" if m.get("gpu") else "")
        + f", torch {m['torch']}"
        + (", quick" if m.get("quick") else ""),
        "",
        f"`{m['command']}`",
        "",
        *(
            [
                "No GPU here: the parts that need CUDA are skipped; run `make gpu-check` on a "
                "CUDA machine for them (`--plumbing` runs them on the CPU at tiny sizes, to "
                "check the code path only).",
                "",
            ]
            if m["mode"].startswith("cpu (no GPU)")
            else []
        ),
    ]
    parts = [
        [name, e["status"], _fmt(e.get("seconds")), e.get("reason", "")]
        for name, e in report["parts"].items()
    ]
    lines += markdown_table(["part", "status", "seconds", "note"], parts, left=4)
    lines += ["", "## Targets", "", *records_table(report.get("targets", []), _fmt), ""]
    inst = report.get("install", {})
    lines += [
        "## Optional packages",
        "",
        f"- wheels folder {inst.get('folder')}: "
        + (", ".join(inst.get("wheels", [])) or inst.get("note", "none")),
        "",
    ]
    if inst.get("tail"):
        lines += ["```", *inst["tail"], "```", ""]
    for name, e in report["parts"].items():
        lines += _part_lines(name, e)
    return "\n".join(lines)
