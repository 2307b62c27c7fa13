"""Rollout storage: one PPO iteration of transitions, preallocated on the env's device.

Every buffer is a tensor of shape ``(num_steps, num_envs, ...)`` allocated once; :meth:`RolloutStorage.add`
copies one env step into row ``step`` (one batched copy per field, no loop over envs). Observations are a
dict that may nest one level, as the env hands them over: ``{"tokenizer": {term: (num_envs, ...)},
"policy": (num_envs, 930), "critic": (num_envs, 1645)}``; any dtype is kept, so the boolean encoder mask
stays boolean.

The action std is one learnable parameter shared by all samples (SONIC_REFERENCE §9.1), constant during a
rollout, so it is stored once per rollout (``(num_actions,)``) rather than per step.

Minibatches split over **environments**, as SONIC does (§9.2): each epoch draws a permutation of the envs
with a ``torch.Generator`` and cuts it into ``num_mini_batches`` equal groups; a minibatch holds every step
of its envs, ``num_envs / num_mini_batches`` envs × ``num_steps``. Tensors in a minibatch are flattened to
``(num_steps * envs_per_batch, ...)`` (step-major), the shape an MLP policy consumes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["Minibatch", "NestedTensors", "RolloutStorage", "flatten_nested", "unflatten_nested"]

NestedTensors = Mapping[str, "Tensor | Mapping[str, Tensor]"]
"""Observations: name -> tensor, or group name -> (term name -> tensor), one level deep."""

_SEP = "/"


def flatten_nested(obs: NestedTensors) -> dict[str, Tensor]:
    """``{"tokenizer": {"a": t}, "policy": p}`` -> ``{"tokenizer/a": t, "policy": p}``.

    Raises:
        ValueError: a name contains ``/`` or a group nests deeper than one level.
    """
    flat: dict[str, Tensor] = {}
    for key, value in obs.items():
        if _SEP in key:
            raise ValueError(f"observation name {key!r} must not contain {_SEP!r}")
        if isinstance(value, Tensor):
            flat[key] = value
            continue
        for sub, tensor in value.items():
            if _SEP in sub or not isinstance(tensor, Tensor):
                raise ValueError(
                    f"observation {key!r}/{sub!r}: expected a tensor at most one level deep, got {type(tensor).__name__}"
                )
            flat[f"{key}{_SEP}{sub}"] = tensor
    return flat


def unflatten_nested(flat: Mapping[str, Tensor]) -> dict[str, Tensor | dict[str, Tensor]]:
    """Inverse of :func:`flatten_nested`."""
    out: dict[str, Tensor | dict[str, Tensor]] = {}
    for key, tensor in flat.items():
        if _SEP in key:
            group, sub = key.split(_SEP, 1)
            group_dict = out.setdefault(group, {})
            assert isinstance(group_dict, dict)
            group_dict[sub] = tensor
        else:
            out[key] = tensor
    return out


@dataclass(frozen=True)
class Minibatch:
    """One PPO minibatch; every tensor has leading dim ``B = num_steps * len(env_ids)`` (step-major).

    Attributes:
        observations: nested like the env's observations, each ``(B, ...)``.
        actions: ``(B, num_actions)`` sampled actions.
        old_log_probs: ``(B,)`` log-probabilities under the rollout policy.
        old_values: ``(B,)`` critic values at rollout time.
        returns: ``(B,)`` GAE returns (value targets).
        advantages: ``(B,)`` advantages (normalised when the trainer normalised the storage's).
        old_action_mean: ``(B, num_actions)`` rollout-policy mean.
        old_action_std: ``(num_actions,)`` rollout-policy std (shared by all samples).
        env_ids: ``(E,)`` the environments of this minibatch.
    """

    observations: dict[str, Tensor | dict[str, Tensor]]
    actions: Tensor
    old_log_probs: Tensor
    old_values: Tensor
    returns: Tensor
    advantages: Tensor
    old_action_mean: Tensor
    old_action_std: Tensor
    env_ids: Tensor


class RolloutStorage:
    """Preallocated buffers for ``num_steps`` steps of ``num_envs`` environments.

    Args:
        num_steps: rollout length (SONIC: 24).
        num_envs: environments on this process.
        num_actions: action dimension (29).
        observation_example: one env step's observations (nested dict of ``(num_envs, ...)`` tensors);
            only shapes, dtypes and names are taken from it.
        device: where the buffers live (the env's device).
    """

    def __init__(
        self,
        num_steps: int,
        num_envs: int,
        num_actions: int,
        observation_example: NestedTensors,
        device: torch.device | str,
    ) -> None:
        if num_steps <= 0 or num_envs <= 0 or num_actions <= 0:
            raise ValueError(
                f"num_steps, num_envs, num_actions must be positive, got {num_steps}, {num_envs}, {num_actions}"
            )
        self.num_steps = num_steps
        self.num_envs = num_envs
        self.num_actions = num_actions
        self.device = torch.device(device)
        shape = (num_steps, num_envs)
        self.observations: dict[str, Tensor] = {}
        for name, example in flatten_nested(observation_example).items():
            if example.shape[:1] != (num_envs,):
                raise ValueError(
                    f"observation {name!r}: expected leading dim {num_envs}, got shape {tuple(example.shape)}"
                )
            self.observations[name] = torch.zeros(
                shape + tuple(example.shape[1:]), dtype=example.dtype, device=self.device
            )
        dev = self.device
        self.actions = torch.zeros((*shape, num_actions), device=dev)
        self.action_mean = torch.zeros((*shape, num_actions), device=dev)
        self.action_std = torch.zeros((num_actions,), device=dev)
        self.rewards = torch.zeros(shape, device=dev)
        self.dones = torch.zeros(shape, dtype=torch.bool, device=dev)
        self.time_outs = torch.zeros(shape, dtype=torch.bool, device=dev)
        self.values = torch.zeros(shape, device=dev)
        self.log_probs = torch.zeros(shape, device=dev)
        self.returns = torch.zeros(shape, device=dev)
        self.advantages = torch.zeros(shape, device=dev)
        self.step = 0

    def clear(self) -> None:
        """Start a new rollout (buffers are overwritten, not zeroed)."""
        self.step = 0

    @property
    def is_full(self) -> bool:
        """True once ``num_steps`` steps were added."""
        return self.step == self.num_steps

    def add(
        self,
        observations: NestedTensors,
        actions: Tensor,
        log_probs: Tensor,
        action_mean: Tensor,
        rewards: Tensor,
        dones: Tensor,
        time_outs: Tensor,
        values: Tensor | None = None,
    ) -> None:
        """Write one env step at row ``self.step`` and advance.

        Args:
            observations: the observations the actions were taken from, each ``(num_envs, ...)``.
            actions, action_mean: ``(num_envs, num_actions)``.
            log_probs, rewards: ``(num_envs,)`` (a trailing singleton dim is accepted).
            dones, time_outs: ``(num_envs,)`` bool/0-1; ``dones`` includes time-outs, as Isaac Lab reports them.
            values: ``(num_envs,)`` critic values; may instead be written for the whole rollout with
                :meth:`set_values` (SONIC evaluates the critic once over the stored rollout).

        Raises:
            RuntimeError: the storage is full.
            ValueError: an observation name or shape differs from the example's.
        """
        if self.is_full:
            raise RuntimeError(f"rollout storage is full ({self.num_steps} steps); call clear() first")
        t = self.step
        flat = flatten_nested(observations)
        if flat.keys() != self.observations.keys():
            raise ValueError(
                f"observation names differ from the storage's: missing {sorted(self.observations.keys() - flat.keys())}, "
                f"unexpected {sorted(flat.keys() - self.observations.keys())}"
            )
        for name, tensor in flat.items():
            if tensor.shape != self.observations[name].shape[1:]:
                raise ValueError(
                    f"observation {name!r}: expected shape {tuple(self.observations[name].shape[1:])}, got {tuple(tensor.shape)}"
                )
            self.observations[name][t].copy_(tensor)
        self.actions[t].copy_(actions)
        self.action_mean[t].copy_(action_mean)
        self.log_probs[t].copy_(log_probs.reshape(self.num_envs))
        self.rewards[t].copy_(rewards.reshape(self.num_envs))
        self.dones[t].copy_(dones.reshape(self.num_envs))
        self.time_outs[t].copy_(time_outs.reshape(self.num_envs))
        if values is not None:
            self.values[t].copy_(values.reshape(self.num_envs))
        self.step += 1

    def set_action_std(self, std: Tensor) -> None:
        """Record the rollout policy's std ``(num_actions,)`` (constant during a rollout)."""
        self.action_std.copy_(std.detach().reshape(self.num_actions))

    def set_values(self, values: Tensor) -> None:
        """Write the critic values of the whole rollout, ``(num_steps, num_envs)``."""
        self.values.copy_(values.reshape(self.num_steps, self.num_envs))

    def set_returns(self, returns: Tensor, advantages: Tensor) -> None:
        """Write GAE returns and (normalised) advantages, each ``(num_steps, num_envs)``."""
        self.returns.copy_(returns.reshape(self.num_steps, self.num_envs))
        self.advantages.copy_(advantages.reshape(self.num_steps, self.num_envs))

    def minibatches(
        self, num_mini_batches: int, num_epochs: int, generator: torch.Generator | None = None
    ) -> Iterator[Minibatch]:
        """Yield ``num_epochs * num_mini_batches`` minibatches split over environments.

        Each epoch draws a fresh permutation of the envs (on the CPU, from ``generator`` or the global
        torch RNG, so a run is reproducible whatever the device), then cuts it into equal groups; over an
        epoch every (step, env) pair appears exactly once.

        Raises:
            RuntimeError: the rollout is not complete.
            ValueError: ``num_envs`` is not divisible by ``num_mini_batches``.
        """
        for env_ids in self.minibatch_env_ids(num_mini_batches, num_epochs, generator):
            yield self.gather(env_ids)

    def minibatch_env_ids(
        self, num_mini_batches: int, num_epochs: int, generator: torch.Generator | None = None
    ) -> Iterator[Tensor]:
        """The env ids ``(num_envs / num_mini_batches,)`` of each minibatch of :meth:`minibatches`, in order."""
        if not self.is_full:
            raise RuntimeError(f"rollout incomplete: {self.step} of {self.num_steps} steps added")
        if num_mini_batches <= 0 or self.num_envs % num_mini_batches:
            raise ValueError(
                f"num_envs ({self.num_envs}) must be a positive multiple of num_mini_batches ({num_mini_batches})"
            )
        per_batch = self.num_envs // num_mini_batches
        for _ in range(num_epochs):
            perm = torch.randperm(self.num_envs, generator=generator).to(self.device)
            yield from perm.split(per_batch)

    def gather(self, env_ids: Tensor) -> Minibatch:
        """The minibatch of envs ``env_ids`` (every step of each, step-major); new tensors, no host sync."""

        def take(buffer: Tensor) -> Tensor:
            picked = buffer.index_select(1, env_ids)
            return picked.reshape(-1, *buffer.shape[2:])

        return Minibatch(
            observations=unflatten_nested({k: take(v) for k, v in self.observations.items()}),
            actions=take(self.actions),
            old_log_probs=take(self.log_probs),
            old_values=take(self.values),
            returns=take(self.returns),
            advantages=take(self.advantages),
            old_action_mean=take(self.action_mean),
            old_action_std=self.action_std,
            env_ids=env_ids,
        )
