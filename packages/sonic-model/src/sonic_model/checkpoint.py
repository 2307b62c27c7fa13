"""The ``policy`` and ``critic`` parts of the checkpoint file (FORMATS.md "Checkpoint file (ours)").

``save_policy`` writes ``{format_version, policy, critic}``:

* ``policy`` = ``{model_config, contract, policy_io, state_dict}``: configs as ``model_dump(mode="json")``
  dicts, ``state_dict`` of the actor (encoders, decoders, ``std``);
* ``critic`` = ``{state_dict, normalizer}`` (the MLP's ``module.<i>.*`` and the running statistics), or
  None for a policy built without a critic.

Only tensors and plain containers, so the file loads with ``torch.load(weights_only=True)`` and any
package can read its part; sonic-train adds a ``training`` part to the same dict. ``load_policy`` reads
``policy`` (and ``critic`` on request) and refuses a file whose architecture or contract differs from
what the caller expects, naming the differing fields, tensors and terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from torch import Tensor

from sonic_model.atomic import atomic_write
from sonic_model.config import ModelConfig
from sonic_model.contract import ContractMismatchError, ObservationContract
from sonic_model.policy import UniversalTokenPolicy
from sonic_model.policy_io import PolicyIO

FORMAT_VERSION = 1

ARCHITECTURE_FIELDS: tuple[str, ...] = (
    "encoders",
    "encoder_hidden",
    "fsq_levels",
    "num_tokens",
    "g1_dyn_hidden",
    "g1_kin_hidden",
    "critic_hidden",
)
"""ModelConfig fields that define the weights; other fields (std bounds, aux weights) may differ on load."""


class CheckpointError(ValueError):
    """A checkpoint file is malformed or does not match what the caller expects."""


@dataclass(frozen=True)
class LoadedPolicy:
    """What :func:`load_policy` returns: the rebuilt policy and the robot block it was saved with."""

    policy: UniversalTokenPolicy
    policy_io: PolicyIO
    format_version: int


def policy_checkpoint(policy: UniversalTokenPolicy, policy_io: PolicyIO) -> dict[str, Any]:
    """The ``{format_version, policy, critic}`` dict of ``policy`` (CPU tensors, plain data).

    Raises:
        ValueError: if ``policy_io``'s joint order is not the contract's action order.
    """
    if tuple(policy_io.joint_names) != policy.contract.action_joint_names:
        raise ValueError(
            "save_policy: policy_io.joint_names must equal the contract's action_joint_names "
            f"{list(policy.contract.action_joint_names)}, got {list(policy_io.joint_names)}"
        )
    critic = None
    if policy.critic is not None:
        critic = {
            "state_dict": {k: v.detach().cpu().clone() for k, v in policy.critic.mlp_state_dict().items()},
            "normalizer": {
                k: v.detach().cpu().clone() for k, v in policy.critic.normalizer.state_dict().items()
            },
        }
    return {
        "format_version": FORMAT_VERSION,
        "policy": {
            "model_config": policy.config.model_dump(mode="json"),
            "contract": policy.contract.model_dump(mode="json"),
            "policy_io": policy_io.model_dump(mode="json"),
            "state_dict": {k: v.detach().cpu().clone() for k, v in policy.actor_state_dict().items()},
        },
        "critic": critic,
    }


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` through :func:`sonic_model.atomic.atomic_write` (no half-written files)."""
    return atomic_write(path, lambda handle: torch.save(obj, handle))


def save_policy(path: str | Path, policy: UniversalTokenPolicy, policy_io: PolicyIO) -> Path:
    """Write ``policy`` (its config, contract, actor and critic) with ``policy_io`` to ``path`` atomically."""
    return atomic_torch_save(policy_checkpoint(policy, policy_io), path)


def _require(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        found = sorted(mapping) if isinstance(mapping, dict) else type(mapping).__name__
        raise CheckpointError(f"{where}: missing key {key!r} (found {found})")
    return mapping[key]


def _shape_differences(expected: dict[str, Tensor], found: dict[str, Tensor], label: str) -> list[str]:
    out = [f"{label} tensor {k!r}: missing from the file" for k in expected if k not in found]
    out += [f"{label} tensor {k!r}: not expected by this model" for k in found if k not in expected]
    out += [
        f"{label} tensor {k!r}: shape {tuple(found[k].shape)} in the file, {tuple(expected[k].shape)} expected"
        for k in expected
        if k in found and tuple(found[k].shape) != tuple(expected[k].shape)
    ]
    return out


def policy_from_checkpoint(
    ckpt: dict[str, Any],
    source: str = "checkpoint",
    expected_config: ModelConfig | None = None,
    expected_contract: ObservationContract | None = None,
    with_critic: bool = False,
) -> LoadedPolicy:
    """Rebuild the policy from an in-memory checkpoint dict; see :func:`load_policy`."""
    version = _require(ckpt, "format_version", source)
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{source}: format_version {version!r} is not supported (expected {FORMAT_VERSION})"
        )
    part = _require(ckpt, "policy", source)
    where = f"{source}: policy"
    try:
        saved_config = ModelConfig.model_validate(_require(part, "model_config", where))
        saved_contract = ObservationContract.model_validate(_require(part, "contract", where))
        policy_io = PolicyIO.model_validate(_require(part, "policy_io", where))
    except ValidationError as exc:
        raise CheckpointError(f"{where}: invalid configuration data:\n{exc}") from exc
    state = _require(part, "state_dict", where)

    problems: list[str] = []
    if expected_contract is not None:
        problems += [f"contract: {d}" for d in saved_contract.diff(expected_contract)]
    config = saved_config
    if expected_config is not None:
        mine, theirs = saved_config.model_dump(mode="json"), expected_config.model_dump(mode="json")
        problems += [
            f"model_config.{f}: {mine[f]!r} in the file, {theirs[f]!r} expected"
            for f in ARCHITECTURE_FIELDS
            if mine[f] != theirs[f]
        ]
        config = expected_config
    contract = expected_contract or saved_contract
    try:
        policy = UniversalTokenPolicy(config, contract, with_critic=with_critic)
    except ValueError as exc:
        raise CheckpointError(f"{source}: cannot build the expected policy: {exc}") from exc
    problems += _shape_differences(policy.actor_state_dict(), state, "policy")
    critic_part = None
    if with_critic:
        critic_part = _require(ckpt, "critic", source)
        if critic_part is None:
            raise CheckpointError(f"{source}: the file holds no critic (saved without one)")
        assert policy.critic is not None
        problems += _shape_differences(
            policy.critic.mlp_state_dict(), _require(critic_part, "state_dict", f"{source}: critic"), "critic"
        )
        problems += _shape_differences(
            policy.critic.normalizer.state_dict(),
            _require(critic_part, "normalizer", f"{source}: critic"),
            "critic normalizer",
        )
    if problems:
        if expected_contract is not None and any(p.startswith("contract: ") for p in problems):
            raise ContractMismatchError(f"{source}: does not match the expected policy", problems)
        raise CheckpointError(f"{source}: does not match the expected policy:\n  " + "\n  ".join(problems))

    missing = policy.load_state_dict(state, strict=False)
    unexpected_critic = [k for k in missing.missing_keys if not k.startswith("critic.")]
    if unexpected_critic or missing.unexpected_keys:  # unreachable after the shape check; kept as a guard
        raise CheckpointError(f"{source}: state_dict keys do not match: {missing}")
    if with_critic and policy.critic is not None and critic_part is not None:
        policy.critic.load_mlp_state_dict(critic_part["state_dict"])
        policy.critic.normalizer.load_state_dict(critic_part["normalizer"])
    return LoadedPolicy(policy=policy, policy_io=policy_io, format_version=version)


def load_policy(
    path: str | Path,
    expected_config: ModelConfig | None = None,
    expected_contract: ObservationContract | None = None,
    with_critic: bool = False,
    map_location: str | torch.device = "cpu",
) -> LoadedPolicy:
    """Load the policy (and optionally the critic) from a checkpoint file.

    Args:
        path: a file written by :func:`save_policy` (or a training checkpoint holding the same parts).
        expected_config: if given, the file's architecture fields must equal it (other fields, such as
            aux weights or std bounds, come from ``expected_config``).
        expected_contract: if given, the file's contract must equal it.
        with_critic: also load the critic part (for finetuning); otherwise no critic is built.
        map_location: where torch.load puts the tensors while reading; the policy is built on the CPU
            (move it with ``.to(device)``).

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: malformed file, or architecture / tensor shapes differ (each one named).
        ContractMismatchError: the contract differs from ``expected_contract`` (each term named).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_policy: no checkpoint file at {path}")
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{path}: expected a dict checkpoint, got {type(ckpt).__name__}")
    return policy_from_checkpoint(ckpt, str(path), expected_config, expected_contract, with_critic)
