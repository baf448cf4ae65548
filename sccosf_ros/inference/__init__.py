"""Inference (layer 4): the checkpoint format and the ``Predictor`` that runs a model.

* :mod:`.checkpoint` — save / load / validate checkpoint files (format version 2; version 1
  files upgraded on load), rebuild the network they describe; :class:`CheckpointError`.
* :mod:`.predictor` — :class:`Predictor` (numpy frames in, :class:`Prediction` out) on torch
  eager or an exported graph (``sccosf_ros.backends``).

The names below are the package's public interface (``from sccosf_ros.inference import
Predictor`` and friends). Device resolution and the precisions live in the basic modules
:mod:`sccosf_ros.device` and :mod:`sccosf_ros.precision`.
"""

from sccosf_ros.inference.checkpoint import (
    FORMAT,
    VERSION,
    CheckpointError,
    checkpoint_config,
    load_checkpoint,
    model_from_checkpoint,
    save_checkpoint,
    trained_with,
    weights_mismatch,
)
from sccosf_ros.inference.predictor import InputError, Prediction, Predictor

__all__ = [
    "FORMAT",
    "VERSION",
    "CheckpointError",
    "InputError",
    "Prediction",
    "Predictor",
    "checkpoint_config",
    "load_checkpoint",
    "model_from_checkpoint",
    "save_checkpoint",
    "trained_with",
    "weights_mismatch",
]
