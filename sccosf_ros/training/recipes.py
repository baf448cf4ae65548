"""Training recipes: YAML files of ``TrainConfig`` values (``config/recipes/<name>.yaml``).

A recipe holds the settings of one experiment of the paper (``mfnet-paper``, ``fmb-paper``, the
Table 4 ablations ``mfnet-ablation-a`` … ``-f``). Its keys are ``TrainConfig`` field names, plus
``description`` (shown by ``--help`` and recorded) and ``base`` (the name of a recipe whose values
come first: the ablations are ``base: mfnet-paper`` + one switch).

Precedence, lowest first: ``TrainConfig`` defaults < the recipe (< its base) < command-line flags.
A flag for one of a pair of alternatives clears the recipe's other one (``--max-iters`` drops the
recipe's ``epochs``, ``--scale-range`` its ``scales``, ``--warmup-iters`` its
``warmup_epochs``).

With ``init_from`` (fine-tuning) and no ``preset`` given, the network's preset and overrides are
the checkpoint's (``init_from.checkpoint_model_settings``); ``model_overrides`` given win.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sccosf_ros.errors import SccosfError

RECIPE_DIR = "config/recipes"
META_KEYS = ("description", "base")
# a value for one of these replaces the other (a flag must win over the recipe's alternative)
ALTERNATIVES = (
    ("max_iters", "epochs"),
    ("scales", "scale_range"),
    ("warmup_iters", "warmup_epochs"),
)
INT_FIELDS = {
    "max_iters",
    "epochs",
    "batch_size",
    "warmup_iters",
    "eval_interval",
    "eval_batch_size",
    "max_eval_images",
    "checkpoint_interval",
    "log_interval",
    "num_workers",
    "seed",
    "threads",
}
FLOAT_FIELDS = {
    "lr",
    "weight_decay",
    "poly_power",
    "warmup_epochs",
    "warmup_ratio",
    "grad_clip",
    "checkpoint_minutes",
    "drop_path",
}


class RecipeError(SccosfError, ValueError):
    """A recipe that cannot be found or read; the message names the file and the key."""


@dataclass
class Recipe:
    name: str
    path: Path
    values: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields
    description: str = ""


def recipe_dir() -> Path | None:
    from sccosf_ros.paths import find_share_file

    return find_share_file(RECIPE_DIR)


def available_recipes() -> list[str]:
    d = recipe_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d is not None else []


def recipe_path(name_or_file: str | os.PathLike) -> Path:
    """A recipe file: the path itself if it is a file, else ``config/recipes/<name>.yaml``."""
    p = Path(name_or_file)
    if p.is_file():
        return p
    d = recipe_dir()
    if d is not None and (d / f"{p.name}.yaml").is_file() and p.suffix == "":
        return d / f"{p.name}.yaml"
    raise RecipeError(
        f"no recipe {str(name_or_file)!r}: give a YAML file or one of "
        f"{', '.join(available_recipes()) or '(none installed)'}"
    )


def _field_names() -> set[str]:
    from sccosf_ros.training.config import TrainConfig

    return {f.name for f in dataclasses.fields(TrainConfig)}


def _coerce(key: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        if key in INT_FIELDS:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        if key in FLOAT_FIELDS:
            return float(value)
    except (TypeError, ValueError):
        kind = "a whole number" if key in INT_FIELDS else "a number"
        raise RecipeError(f"{where}: {key} must be {kind}, got {value!r}") from None
    return value


def load_recipe(name_or_file: str | os.PathLike, _seen: tuple[str, ...] = ()) -> Recipe:
    """Read and check a recipe (following ``base``); RecipeError names the file and the key."""
    path = recipe_path(name_or_file)
    where = f"recipe {path}"
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise RecipeError(f"{where}: cannot read it ({' '.join(str(e).split())})") from e
    if not isinstance(data, dict):
        raise RecipeError(f"{where}: expected a mapping of TrainConfig fields")
    names = _field_names()
    unknown = sorted(set(data) - names - set(META_KEYS))
    if unknown:
        raise RecipeError(
            f"{where}: unknown key(s) {', '.join(unknown)}; keys are TrainConfig fields "
            f"({', '.join(sorted(names))}) or {', '.join(META_KEYS)}"
        )
    values: dict[str, Any] = {}
    base = data.get("base")
    if base is not None:
        if str(base) in _seen:
            raise RecipeError(f"{where}: base recipes form a loop ({' → '.join(_seen)})")
        values.update(load_recipe(str(base), (*_seen, path.stem)).values)
    own = {k: _coerce(k, v, where) for k, v in data.items() if k not in META_KEYS}
    values = merge(values, own)
    return Recipe(path.stem, path, values, str(data.get("description", "")).strip())


def merge(lower: dict[str, Any], higher: dict[str, Any]) -> dict[str, Any]:
    """``higher`` over ``lower``; a key of ``higher`` clears its alternative in ``lower``."""
    out = dict(lower)
    for a, b in ALTERNATIVES:
        if a in higher and b not in higher:
            out.pop(b, None)
        if b in higher and a not in higher:
            out.pop(a, None)
    out.update(higher)
    return out


def resolve(recipe: Recipe | None, flags: dict[str, Any]) -> Any:
    """The ``TrainConfig`` of defaults < recipe < flags (``flags``: only the options given);
    RecipeError when a value cannot fill its field."""
    from sccosf_ros.training.config import TrainConfig

    values = merge(recipe.values if recipe else {}, flags)
    if recipe is not None:
        values.setdefault("recipe", f"{recipe.name} ({recipe.path})")
    if values.get("init_from") and "preset" not in values:
        from sccosf_ros.training.init_from import checkpoint_model_settings

        values["preset"], overrides = checkpoint_model_settings(values["init_from"])
        values["model_overrides"] = {**overrides, **dict(values.get("model_overrides") or {})}
    try:
        return TrainConfig(**values)
    except (TypeError, ValueError) as e:  # a recipe value of the wrong shape (a list for a number)
        raise RecipeError(f"bad configuration: {e}") from e
