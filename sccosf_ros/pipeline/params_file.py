"""The node's ROS 2 parameter files: reading them as ``--params-file`` does, writing them, and
rendering ``config/sccosf.yaml`` from the parameter table.

``read_params_file`` gives the dotted-name values a file sets for the node (``NodeParams`` and
``read_params_files`` in ``pipeline.params`` validate them); ``write_params_file`` writes values
as a file the node, ``ros2 launch`` and ``sccosf bag-eval`` read; ``render_defaults`` is the
text of ``config/sccosf.yaml``: every parameter at its default with its description, which
``sccosf params --write-defaults`` writes and a test compares with the committed file.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

from sccosf_ros.pipeline.param_table import NODE_NAME, PARAMETERS, SPECS, ParameterError

DEFAULTS_FILE = "config/sccosf.yaml"  # relative to the source tree / the package's share dir
LINE_WIDTH = 99
DEFAULTS_HEADER = f"""\
sccosf_node parameters, every one at its default. Generated from the parameter table
(sccosf_ros/pipeline/param_table.py) by `sccosf params --write-defaults`: edit the table,
not this file (a test fails when they differ). Each comment is the parameter's description,
as `ros2 param describe /{NODE_NAME} <name>` shows it; (live): `ros2 param set` changes it while
the node runs, from the next pair on; (restart): read-only, restart the node to change it.
Load with
  ros2 run sccosf_ros sccosf_node --ros-args --params-file config/sccosf.yaml
or through launch/sccosf.launch.py (params_file:=...). `/**/{NODE_NAME}` matches the node in any
namespace. Doubles may be written as integers."""


# --------------------------------------------------------------------------- reading
def _flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    """Nested ``ros__parameters`` mappings → dotted names (``{sync: {slop: 1}}`` → sync.slop)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _node_key_rank(key: str, node_name: str) -> int | None:
    """How a parameter-file node key applies to ``node_name``: 0 = wildcard for every node,
    1 = the node in any/one namespace, None = another node (ROS applies wildcards first)."""
    parts = [p for p in str(key).strip().split("/") if p]
    if parts in (["**"], ["*"]):
        return 0
    if parts and parts[-1] == node_name:
        return 1
    return None


def read_params_file(path: str | Path, node_name: str = NODE_NAME) -> dict[str, Any]:
    """The parameters a ROS 2 parameter file gives node ``node_name``, as dotted names.

    Entries for every node (``/**``) apply first, then those naming the node (``sccosf``,
    ``/sccosf``, ``/**/sccosf``, ``/robot/sccosf``), as ``--params-file`` does.
    """
    import yaml

    p = Path(path).expanduser()
    if not p.is_file():
        raise ParameterError(f"parameter file {str(p)!r} does not exist")
    try:
        doc = yaml.safe_load(p.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        why = " ".join(str(e).split())  # YAML errors span lines; one line for the user
        raise ParameterError(f"parameter file {str(p)!r} is not valid YAML: {why}") from None
    if not isinstance(doc, dict):
        raise ParameterError(
            f"parameter file {str(p)!r} must map node names to "
            "ros__parameters (see config/sccosf.yaml)"
        )
    ranked = []
    for key, entry in doc.items():
        rank = _node_key_rank(key, node_name)
        params = entry.get("ros__parameters") if isinstance(entry, dict) else None
        if rank is not None and isinstance(params, dict):
            ranked.append((rank, params))
    if not ranked:
        raise ParameterError(
            f"parameter file {str(p)!r} has no ros__parameters for node {node_name!r} "
            f"(node keys in the file: {', '.join(map(str, doc)) or 'none'})"
        )
    values: dict[str, Any] = {}
    for _, params in sorted(ranked, key=lambda r: r[0]):
        values.update(_flatten(params))
    return values


# --------------------------------------------------------------------------- writing
def _split(name: str) -> tuple[list[str], str]:
    """A dotted name → (enclosing mapping keys, key in the innermost one).

    A name under another parameter's name (``backend.cache_dir`` under ``backend``) stays one
    dotted key from that level on: YAML cannot nest under a scalar, and rcl reads dotted keys.
    """
    parts = name.split(".")
    depth = next(
        (i - 1 for i in range(1, len(parts)) if ".".join(parts[:i]) in SPECS),
        len(parts) - 1,
    )
    return parts[:depth], ".".join(parts[depth:])


def _nest(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted names → nested mappings, the layout of config/sccosf.yaml."""
    tree: dict[str, Any] = {}
    for name, value in values.items():
        groups, key = _split(name)
        node = tree
        for part in groups:
            node = node.setdefault(part, {})
        node[key] = list(value) if isinstance(value, tuple) else value
    return tree


def write_params_file(
    path: str | Path, values: dict[str, Any], header: str = "", node_key: str = f"/**/{NODE_NAME}"
) -> Path:
    """Write ``values`` (dotted names) as a ``ros__parameters`` file for ``node_key``, which
    ``--params-file``, ``ros2 launch ... params_file:=`` and ``sccosf bag-eval`` read."""
    import yaml

    unknown = sorted(set(values) - set(SPECS) - {"use_sim_time"})
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}")
    # rcl refuses a list mixing integers and doubles ([2.0, 0, ...]): number lists as doubles.
    values = {
        k: [float(x) for x in v] if k in SPECS and isinstance(SPECS[k].default, list) else v
        for k, v in values.items()
    }
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump({node_key: {"ros__parameters": _nest(values)}}, sort_keys=False)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    p.write_text(comment + body)
    return p


# --------------------------------------------------------------------------- config/sccosf.yaml
def yaml_scalar(value: Any) -> str:
    """A default as YAML writes it, typed as ROS reads it back (floats keep their ``.0``)."""
    import yaml

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(repr(float(v)) for v in value) + "]"
    text = str(value)
    plain = text and text == text.strip() and not set(text) & set(":#{}[],&*!|>'\"%@`")
    return text if plain and yaml.safe_load(text) == text else json.dumps(text)


def render_defaults() -> str:
    """The text of ``config/sccosf.yaml``: every parameter at its default, nested by the parts
    of its name, each under its description (``ParamSpec.summary``) as comment lines.

    The table must keep the parameters of one group together (ValueError otherwise): the file
    would repeat a mapping key, which YAML forbids.
    """
    out = [f"# {line}".rstrip() for line in DEFAULTS_HEADER.splitlines()]
    out += [f"/**/{NODE_NAME}:", "  ros__parameters:", "    use_sim_time: false"]
    open_groups: list[str] = []
    closed: set[tuple[str, ...]] = set()
    for spec in PARAMETERS:
        groups, key = _split(spec.name)
        keep = 0
        while keep < min(len(groups), len(open_groups)) and groups[keep] == open_groups[keep]:
            keep += 1
        for i in range(len(open_groups), keep, -1):
            closed.add(tuple(open_groups[:i]))
        for i in range(keep, len(groups)):
            if tuple(groups[: i + 1]) in closed:
                raise ValueError(
                    f"parameter {spec.name}: its group is not contiguous in the table"
                )
            out.append(f"{'  ' * (i + 2)}{groups[i]}:")
        open_groups = groups
        indent = "  " * (len(groups) + 2)
        width = LINE_WIDTH - len(indent) - 2
        # A bracketed range or choice list stays on one line: wrap with its spaces held.
        text = re.sub(r"\[[^]]*\]", lambda m: m.group(0).replace(" ", "\0"), spec.summary(True))
        lines = textwrap.wrap(text, width, break_on_hyphens=False)
        out += [f"{indent}# {line}".replace("\0", " ") for line in lines]
        out.append(f"{indent}{key}: {yaml_scalar(spec.default)}")
    return "\n".join(out) + "\n"


def source_defaults_path() -> Path:
    """``config/sccosf.yaml`` of the source tree this package runs from."""
    return Path(__file__).resolve().parents[2] / DEFAULTS_FILE
