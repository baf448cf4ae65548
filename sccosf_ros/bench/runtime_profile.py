"""Where OpenVINO's time goes: the per-node-type profile of ``sccosf bench runtime --profile``.

OpenVINO's CPU plugin times every node it executes when the model is compiled with
``PERF_COUNT`` (``InferRequest.profiling_info``: node type, execution type, real time). The
graph is compiled a second time for this, with the same settings as the timed runner plus the
counters, and run on the benchmark pair; per node type the times are summed over the nodes of
one inference, then the median over ``runs`` inferences is taken. The node types are the
plugin's after its own fusions: ``Subgraph`` is a fused elementwise chain (mostly the selective
scans here), ``Reorder`` a layout or precision conversion the plugin inserted between nodes
that want different memory layouts. ``LAYOUT_TYPES`` (reorders, transposes, pads, concats,
slices, broadcasts, gathers) move data without computing on it: their sum is the "layout work"
row, the share of the time a better-shaped graph can remove.

With ``--profile-baseline FILE`` (the ``--json`` of an earlier ``--profile`` run, e.g. on the
code before a change) the table puts the baseline's figures beside this run's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from sccosf_ros.bench.errors import BenchError
from sccosf_ros.tables import markdown_table

LAYOUT_TYPES = (
    "Reorder",
    "Transpose",
    "Pad",
    "Concat",
    "Slice",
    "StridedSlice",
    "Broadcast",
    "Tile",
    "Split",
    "VariadicSplit",
    "Gather",
    "GatherND",
)
LAYOUT_ROW = "layout work"
TOP = 12  # node types listed one by one; the rest are summed in "other"


def profile_graph(
    path: str | Path, rgb: Any, thermal: Any, threads: int, precision: str, runs: int
) -> dict[str, Any]:
    """Per-node-type times (median ms per inference over ``runs``) of the exported graph at
    ``path`` in OpenVINO on the network inputs (``rgb``, ``thermal``: pre-processed tensors)."""
    import torch

    from sccosf_ros.backends.onnx_export import read_metadata
    from sccosf_ros.backends.openvino_runner import OpenVINORunner

    meta = read_metadata(path)
    size = tuple(meta["input_size"])
    runner = OpenVINORunner(
        path,
        torch.device("cpu"),
        threads,
        meta["outputs"],
        size,
        precision=precision,
        profile=True,
    )
    runner.run(rgb, thermal)  # the first inference does one-off work
    per_run: list[dict[str, float]] = []
    counts: dict[str, int] = {}
    for _ in range(max(1, runs)):
        runner.run(rgb, thermal)
        sums: dict[str, float] = {}
        counts = {}
        for node_type, _, ms in runner.node_times():
            sums[node_type] = sums.get(node_type, 0.0) + ms
            counts[node_type] = counts.get(node_type, 0) + 1
        per_run.append(sums)
    types = {
        t: {"ms": float(np.median([r.get(t, 0.0) for r in per_run])), "nodes": counts[t]}
        for t in counts
    }
    return {"total_ms": sum(v["ms"] for v in types.values()), "runs": len(per_run), "types": types}


def layout_ms(profile: dict[str, Any]) -> float:
    """The summed time of the node types that only move data (``LAYOUT_TYPES``)."""
    return sum(v["ms"] for t, v in profile["types"].items() if t in LAYOUT_TYPES)


def _nodes(profile: dict[str, Any], types: Any) -> int:
    return sum(v["nodes"] for t, v in profile["types"].items() if t in types)


def _sum(profile: dict[str, Any], types: list[str]) -> float:
    return sum(profile["types"][t]["ms"] for t in types if t in profile["types"])


def _cells(profile: dict[str, Any], ms: float | None, nodes: int | None) -> list[str]:
    if ms is None:
        return ["", "", ""]
    share = 100 * ms / profile["total_ms"] if profile["total_ms"] else 0.0
    return [f"{ms:.1f}", f"{share:.1f} %", "" if nodes is None else str(nodes)]


def _row(label: str, cells: list[tuple[dict[str, Any], float | None, int | None]]) -> list[str]:
    return [label, *(c for profile, ms, nodes in cells for c in _cells(profile, ms, nodes))]


def _share(profile: dict[str, Any] | None, node_type: str) -> float:
    if profile is None or not profile["total_ms"]:
        return 0.0
    return profile["types"].get(node_type, {}).get("ms", 0.0) / profile["total_ms"]


def _ranked(profile: dict[str, Any], baseline: dict[str, Any] | None) -> list[str]:
    """Node types by share of the time, the larger of this run's and the baseline's (a type
    that was big before and is small or gone now is part of the story)."""
    types = set(profile["types"]) | set(baseline["types"] if baseline else ())
    return sorted(types, key=lambda t: (-max(_share(profile, t), _share(baseline, t)), t))


def profile_table(profile: dict[str, Any], baseline: dict[str, Any] | None = None) -> list[str]:
    """Markdown rows: the ``TOP`` node types, "other", the layout-work sum and all nodes, each
    with ms per inference, share and node count (baseline columns first when given)."""
    profiles = [p for p in (baseline, profile) if p is not None]
    ranked = _ranked(profile, baseline)
    rows = [
        _row(
            t,
            [
                (p, p["types"].get(t, {}).get("ms"), p["types"].get(t, {}).get("nodes"))
                for p in profiles
            ],
        )
        for t in ranked[:TOP]
    ]
    rows.append(_row("other", [(p, _sum(p, ranked[TOP:]), None) for p in profiles]))
    rows.append(_row(LAYOUT_ROW, [(p, layout_ms(p), _nodes(p, LAYOUT_TYPES)) for p in profiles]))
    rows.append(_row("all nodes", [(p, p["total_ms"], _nodes(p, p["types"])) for p in profiles]))
    header = ["node type"]
    for name in ["before", "now"][-len(profiles) :] if baseline is not None else [""]:
        prefix = f"{name} " if name else ""
        header += [f"{prefix}ms", f"{prefix}share", f"{prefix}nodes"]
    return markdown_table(header, rows)


def load_baseline(path: Path) -> dict[str, Any]:
    """``presets`` of an earlier ``--profile`` run's ``--json``; BenchError when it is not one."""
    try:
        presets = json.loads(Path(path).read_text())["presets"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BenchError(
            f"--profile-baseline {path}: not a `sccosf bench runtime --json` file ({e}); "
            "write one with --profile --json FILE"
        ) from None
    if not any("profile" in row for rows in presets.values() for row in rows.values()):
        raise BenchError(
            f"--profile-baseline {path} holds no profile: it was written without --profile"
        )
    return presets


def profile_markdown(results: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    """One table per profiled preset and backend, with the baseline's profile beside it when
    ``baseline`` (``load_baseline``) has one for the same preset and backend."""
    parts = []
    for preset, rows in results["presets"].items():
        for spec, row in rows.items():
            if "profile" not in row:
                continue
            before = (baseline or {}).get(preset, {}).get(spec, {}).get("profile")
            p = row["profile"]
            title = (
                f"OpenVINO profile, {preset} {spec}: {p['total_ms']:.1f} ms of nodes per "
                f"inference (median of {p['runs']}), layout work {layout_ms(p):.1f} ms"
            )
            if before is not None:
                title += (
                    f" (before: {before['total_ms']:.1f} ms, layout {layout_ms(before):.1f} ms)"
                )
            parts += [title, "", *profile_table(p, before), ""]
    return "\n".join(parts).rstrip("\n")
