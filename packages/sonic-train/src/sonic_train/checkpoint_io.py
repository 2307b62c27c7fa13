"""Checkpoint files: atomic writes, safe loading, and the ``training`` part of our format.

Our checkpoint (FORMATS.md "Checkpoint file (ours)") is one ``torch.save`` dict of tensors and plain
containers: ``format_version``, ``policy`` and ``critic`` (written by sonic-model's ``save_policy``) and
``training``, added by sonic-train for resume:

``training = {optimizer, lr, iteration, rng, adaptive_sampling, experiment_config}``

* ``optimizer``: :meth:`sonic_train.algo.optim.ActorCriticOptimizer.state_dict` (``{"main": ...}`` plus
  ``"critic"`` with a separate critic optimiser).
* ``lr``: the adaptive lr (float); ``iteration``: completed PPO iterations (int).
* ``rng``: a list with one :func:`sonic_train.rng.capture_rng_state` per rank, indexed by rank (only
  rank 0 writes the file, so the trainer gathers them first; one entry for a single process).
* ``adaptive_sampling``: the motion library's adaptive-sampling counts, name -> tensor.
* ``experiment_config``: the resolved ``ExperimentConfig.model_dump()``.

Writes go to a temporary file in the target directory, are flushed and fsynced, then renamed over the
target with ``os.replace`` (atomic on POSIX), so a crash leaves either the old file or the new one. Reads use
``torch.load(weights_only=True)``: our files hold no pickled classes, and a file that needs them (a
GEAR-SONIC checkpoint, or anything else) is refused with a message naming the path.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from sonic_model.atomic import atomic_write

__all__ = [
    "CHECKPOINT_KEYS",
    "TRAINING_KEYS",
    "CheckpointFormatError",
    "TrainingState",
    "atomic_torch_save",
    "check_plain_data",
    "load_checkpoint",
    "validate_checkpoint",
]

CHECKPOINT_KEYS: dict[str, tuple[str, ...]] = {
    "format_version": (),
    "policy": ("model_config", "contract", "policy_io", "state_dict"),
    "critic": ("state_dict", "normalizer"),
}
"""Top-level keys of every checkpoint of ours, each with its required sub-keys."""

TRAINING_KEYS: tuple[str, ...] = (
    "optimizer",
    "lr",
    "iteration",
    "rng",
    "adaptive_sampling",
    "experiment_config",
)
"""Keys of the ``training`` part (present in files written by the trainer)."""

_GEAR_SONIC_KEYS = ("policy_state_dict", "value_state_dict")
_PLAIN_SCALARS = (str, int, float, bool, type(None))


class CheckpointFormatError(ValueError):
    """A file is not a checkpoint of ours, or lacks keys; the message names the path and the keys."""


def check_plain_data(obj: Any, where: str = "checkpoint") -> None:
    """Ensure ``obj`` holds only tensors, dicts with str/int keys, lists, tuples and scalars.

    Such data loads with ``torch.load(weights_only=True)`` and needs no import of our classes.

    Raises:
        TypeError: names the path of the first offending value and its type.
    """
    if isinstance(obj, (torch.Tensor, *_PLAIN_SCALARS)):
        return
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str | int):
                raise TypeError(f"{where}: dict key {key!r} is a {type(key).__name__}, expected str or int")
            check_plain_data(value, f"{where}[{key!r}]")
        return
    if isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            check_plain_data(value, f"{where}[{i}]")
        return
    raise TypeError(
        f"{where} is a {type(obj).__module__}.{type(obj).__qualname__}; checkpoints hold only tensors and plain "
        "containers (use model_dump() for configs)"
    )


def atomic_torch_save(obj: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """``torch.save`` a dict of tensors and plain containers atomically (temp file + ``os.replace``).

    Raises:
        TypeError: ``obj`` holds something other than plain data (checked before anything is written).
    """
    check_plain_data(dict(obj))
    return atomic_write(path, lambda handle: torch.save(dict(obj), handle))


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu", require_training: bool = False
) -> dict[str, Any]:
    """Load and validate a checkpoint of ours with ``torch.load(weights_only=True)``.

    Args:
        path: the ``.pt`` file.
        map_location: where tensors go.
        require_training: also require the ``training`` part (resume).

    Raises:
        FileNotFoundError: no such file.
        CheckpointFormatError: the file needs pickled classes, is not a dict, or lacks keys.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointFormatError(
            f"{path} is not a sonic checkpoint: it holds pickled Python objects that weights-only loading refuses "
            f"({str(err).splitlines()[0]}). A GEAR-SONIC checkpoint must go through sonic-train's importer."
        ) from err
    except (RuntimeError, EOFError) as err:
        raise CheckpointFormatError(f"{path} is not a readable torch checkpoint: {err}") from err
    validate_checkpoint(checkpoint, path, require_training=require_training)
    return checkpoint


def validate_checkpoint(
    checkpoint: Any, path: str | os.PathLike[str], require_training: bool = False
) -> None:
    """Check the key layout of a loaded checkpoint.

    Raises:
        CheckpointFormatError: names ``path`` and every missing key (dotted), or says the file is GEAR-SONIC's.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointFormatError(
            f"{path}: expected a dict at the top level, got {type(checkpoint).__name__}"
        )
    if any(k in checkpoint for k in _GEAR_SONIC_KEYS) and "policy" not in checkpoint:
        raise CheckpointFormatError(
            f"{path} is a GEAR-SONIC checkpoint (keys {sorted(checkpoint)}), not ours; convert it with sonic-train's importer"
        )
    missing: list[str] = []
    for key, subkeys in CHECKPOINT_KEYS.items():
        if key not in checkpoint:
            missing.append(key)
            continue
        part = checkpoint[key]
        if subkeys and not isinstance(part, dict):
            missing.extend(f"{key}.{s}" for s in subkeys)
            continue
        missing.extend(f"{key}.{s}" for s in subkeys if s not in part)
    if require_training or "training" in checkpoint:
        training = checkpoint.get("training")
        if not isinstance(training, dict):
            missing.extend(f"training.{k}" for k in TRAINING_KEYS)
        else:
            missing.extend(f"training.{k}" for k in TRAINING_KEYS if k not in training)
    if missing:
        raise CheckpointFormatError(
            f"{path} is not a complete sonic checkpoint: missing {missing}; top-level keys present: {sorted(checkpoint)}"
        )


@dataclass(frozen=True)
class TrainingState:
    """The ``training`` part of a checkpoint (see the module docstring for each field)."""

    optimizer: dict[str, Any]
    lr: float
    iteration: int
    rng: list[dict[str, Any]]
    adaptive_sampling: dict[str, torch.Tensor]
    experiment_config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``checkpoint["training"]``."""
        return {
            "optimizer": self.optimizer,
            "lr": float(self.lr),
            "iteration": int(self.iteration),
            "rng": list(self.rng),
            "adaptive_sampling": dict(self.adaptive_sampling),
            "experiment_config": self.experiment_config,
        }

    @classmethod
    def from_checkpoint(cls, checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> TrainingState:
        """Read and type-check ``checkpoint["training"]``.

        Raises:
            CheckpointFormatError: the part or a key is missing, or a value has the wrong type (named).
        """
        training = checkpoint.get("training")
        if not isinstance(training, dict):
            raise CheckpointFormatError(
                f"{path} has no 'training' part (written by save_policy, not the trainer?)"
            )
        missing = [k for k in TRAINING_KEYS if k not in training]
        if missing:
            raise CheckpointFormatError(f"{path}: training part lacks {missing}; present: {sorted(training)}")
        expected: dict[str, type | tuple[type, ...]] = {
            "optimizer": dict,
            "lr": (float, int),
            "iteration": int,
            "rng": list,
            "adaptive_sampling": dict,
            "experiment_config": dict,
        }
        for key, types in expected.items():
            if not isinstance(training[key], types) or isinstance(training[key], bool):
                raise CheckpointFormatError(
                    f"{path}: training.{key} is a {type(training[key]).__name__}, expected {types}"
                )
        return cls(
            optimizer=training["optimizer"],
            lr=float(training["lr"]),
            iteration=int(training["iteration"]),
            rng=training["rng"],
            adaptive_sampling=training["adaptive_sampling"],
            experiment_config=training["experiment_config"],
        )

    def rng_for_rank(self, rank: int, path: str | os.PathLike[str] = "checkpoint") -> dict[str, Any]:
        """This rank's saved RNG state.

        Raises:
            CheckpointFormatError: the file was written by a run with fewer ranks, so this rank has no state.
        """
        if not 0 <= rank < len(self.rng):
            raise CheckpointFormatError(
                f"{path}: RNG states were saved for {len(self.rng)} rank(s); rank {rank} has none to restore"
            )
        return self.rng[rank]
