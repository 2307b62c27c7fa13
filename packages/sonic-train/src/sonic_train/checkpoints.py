"""Run folders and training checkpoints: ``model_step_XXXXXX.pt``, ``last.pt``, finetune and resume.

Layout (SONIC_REFERENCE §12): ``<base_dir>/<project_name>/<experiment_name>-<YYYYmmdd_HHMMSS>/`` holding
``config.yaml`` (the resolved :class:`~sonic_train.config.ExperimentConfig`), TensorBoard event files,
``model_step_XXXXXX.pt`` every ``save_interval`` iterations and ``last.pt`` every ``last_interval`` and at
the end. A second run started in the same second gets ``-<timestamp>_2`` (SONIC would share the folder).

A checkpoint is FORMATS.md "Checkpoint file (ours)": sonic-model's ``{format_version, policy, critic}`` plus
``training = {optimizer, lr, iteration, rng, adaptive_sampling, experiment_config}``; written atomically by
rank 0 after every rank handed over its RNG state (a collective, so every rank calls :func:`save_training`).

``+checkpoint=<path>`` starts from a file (:func:`read_start_checkpoint`):

* **finetune** (default): weights only (actor, critic, normaliser), a new run folder, iteration 0;
* **resume** (``++resume=True``): also the optimiser, lr, iteration, this rank's RNG states and the adaptive
  sampling counts, in the checkpoint's folder; every env is reset, as SONIC does;
* a **GEAR-SONIC** file (``policy_state_dict`` / ``value_state_dict``) is converted in memory by
  :mod:`sonic_train.gear_sonic` (finetune only: it carries no training state of ours).

Weights must fit the configured architecture and observation contract; otherwise
:class:`~sonic_model.ContractMismatchError` / :class:`~sonic_model.CheckpointError` names every differing
term, field or tensor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch
import torch.distributed as tdist
import yaml

from sonic_model import (
    ObservationContract,
    PolicyIO,
    UniversalTokenPolicy,
    policy_checkpoint,
    policy_from_checkpoint,
)
from sonic_model import preset as model_preset
from sonic_model.atomic import atomic_write
from sonic_train.checkpoint_io import (
    CheckpointFormatError,
    TrainingState,
    atomic_torch_save,
    load_checkpoint,
)
from sonic_train.config import ExperimentConfig
from sonic_train.dist import DistContext
from sonic_train.gear_sonic import GearSonicImportError, import_gear_sonic, is_gear_sonic_checkpoint
from sonic_train.learner import Learner

__all__ = [
    "StartCheckpoint",
    "base_config_from_checkpoint",
    "checkpoint_name",
    "contract_for",
    "gather_objects",
    "load_weights",
    "make_run_dir",
    "read_start_checkpoint",
    "restore_learner",
    "save_training",
    "write_config_yaml",
]

LAST = "last.pt"


def checkpoint_name(iteration: int) -> str:
    """``model_step_XXXXXX.pt`` (SONIC's ``model_step_{global_step:06d}.pt``)."""
    return f"model_step_{iteration:06d}.pt"


def make_run_dir(config: ExperimentConfig, now: float | None = None) -> Path:
    """Create ``<base_dir>/<project_name>/<experiment_name>-<YYYYmmdd_HHMMSS>`` (a fresh one) and return it."""
    stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(now))
    parent = Path(config.base_dir) / config.project_name
    base = parent / f"{config.experiment_name}-{stamp}"
    base.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}_{n}")


def write_config_yaml(config: ExperimentConfig, run_dir: Path) -> Path:
    """Write the resolved config to ``run_dir/config.yaml`` atomically."""
    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False).encode()

    def write(handle: IO[bytes]) -> None:
        handle.write(text)

    return atomic_write(run_dir / "config.yaml", write)


def gather_objects(ctx: DistContext, obj: Any) -> list[Any]:
    """Every rank's ``obj`` (picklable), indexed by rank; collective. One process: ``[obj]``."""
    if not ctx.distributed:
        return [obj]
    out: list[Any] = [None] * ctx.world_size
    tdist.all_gather_object(out, obj)
    return out


def save_training(
    path: Path | None,
    *,
    ctx: DistContext,
    policy: UniversalTokenPolicy,
    policy_io: PolicyIO,
    learner: Learner,
    iteration: int,
    rng: dict[str, Any],
    adaptive_sampling: dict[str, Any],
    config: ExperimentConfig,
) -> Path | None:
    """Write a training checkpoint (collective: every rank calls it; rank 0 writes ``path``).

    Args:
        path: the file (only rank 0's is used; others may pass None).
        rng: this rank's :func:`sonic_train.rng.capture_rng_state`; all ranks' are gathered into
            ``training.rng`` (a list indexed by rank).
        adaptive_sampling: rank 0's motion-library adaptive counts (``MotionLibrary.sampler.state_dict()``).

    Returns:
        The written path on rank 0, None elsewhere.
    """
    rngs = gather_objects(ctx, rng)
    if not ctx.is_main:
        return None
    assert path is not None
    checkpoint = policy_checkpoint(policy, policy_io)
    checkpoint["training"] = TrainingState(
        optimizer=learner.optimizer.state_dict(),
        lr=learner.lr,
        iteration=iteration,
        rng=rngs,
        adaptive_sampling=adaptive_sampling,
        experiment_config=config.model_dump(mode="json"),
    ).to_dict()
    return atomic_torch_save(checkpoint, path)


@dataclass(frozen=True)
class StartCheckpoint:
    """A checkpoint to start from, in our format.

    Attributes:
        path: the file.
        checkpoint: ``{format_version, policy, critic[, training]}`` (CPU tensors).
        gear_sonic_preset: the preset used to convert a GEAR-SONIC file (None for ours).
        training: the ``training`` part, if the file has one.
    """

    path: Path
    checkpoint: dict[str, Any]
    gear_sonic_preset: str | None
    training: TrainingState | None


def read_start_checkpoint(path: str | Path, preset: str | None = None) -> StartCheckpoint:
    """Load ``path`` (ours, or GEAR-SONIC's converted in memory with ``preset`` or the inferred one).

    Raises:
        FileNotFoundError: no such file.
        CheckpointFormatError: neither ours nor a convertible GEAR-SONIC file (the message says why).
    """
    path = Path(path)
    try:
        checkpoint = load_checkpoint(path)
    except CheckpointFormatError as ours_error:
        try:
            converted = import_gear_sonic(path, preset)
        except GearSonicImportError as gear_error:
            if "is not a GEAR-SONIC checkpoint" in str(gear_error):
                raise ours_error from None
            raise CheckpointFormatError(str(gear_error)) from gear_error
        return StartCheckpoint(path, converted.checkpoint, converted.preset, None)
    if is_gear_sonic_checkpoint(checkpoint):  # defensive: load_checkpoint already refuses these
        raise CheckpointFormatError(f"{path}: a GEAR-SONIC checkpoint that weights-only loading accepted")
    training = TrainingState.from_checkpoint(checkpoint, path) if "training" in checkpoint else None
    return StartCheckpoint(path, checkpoint, None, training)


def base_config_from_checkpoint(start: StartCheckpoint) -> tuple[ExperimentConfig | None, str | None]:
    """What a run from ``start`` builds on when no ``+exp=`` is given.

    Returns:
        ``(config, exp)``: our trainer's file gives its ``experiment_config`` (``checkpoint`` and ``resume``
        cleared, the command line sets them again); a GEAR-SONIC file gives the inferred preset name; a
        weights-only file of ours gives neither (the default preset applies).

    Raises:
        CheckpointFormatError: the stored experiment config no longer validates (names the problem).
    """
    if start.gear_sonic_preset is not None:
        return None, start.gear_sonic_preset
    if start.training is None:
        return None, None
    data = dict(start.training.experiment_config)
    data.update(checkpoint=None, resume=False)
    try:
        return ExperimentConfig.model_validate(data), None
    except ValueError as err:
        raise CheckpointFormatError(f"{start.path}: training.experiment_config is not valid: {err}") from err


def load_weights(
    policy: UniversalTokenPolicy, start: StartCheckpoint, contract: ObservationContract | None = None
) -> None:
    """Copy actor, critic and normaliser weights of ``start`` into ``policy`` (same device and dtype kept).

    Raises:
        ContractMismatchError: the file's observation contract differs (every differing term listed).
        CheckpointError: architecture fields or tensor shapes differ (each named).
    """
    loaded = policy_from_checkpoint(
        start.checkpoint,
        str(start.path),
        expected_config=policy.config,
        expected_contract=contract or policy.contract,
        with_critic=True,
    )
    with torch.no_grad():
        state = loaded.policy.state_dict()
        for name, tensor in policy.state_dict().items():
            tensor.copy_(state[name])


def restore_learner(learner: Learner, training: TrainingState, path: Path) -> None:
    """Restore the optimiser state and the lr (``Optimizer.load_state_dict`` moves the state to the
    parameters' device).

    Raises:
        CheckpointFormatError: the optimiser layout differs (e.g. ``separate_critic_optimizer`` changed).
    """
    try:
        learner.optimizer.load_state_dict(training.optimizer)
    except ValueError as err:
        raise CheckpointFormatError(f"{path}: cannot restore the optimiser: {err}") from err
    learner.set_lr(training.lr)


def contract_for(config: ExperimentConfig) -> ObservationContract:
    """The observation contract of ``config.manager_env.contract``."""
    return model_preset(config.manager_env.contract).contract
