"""Generalised advantage estimation with SONIC's time-out bootstrapping, and global advantage whitening.

Formulas as SONIC's trainer (``TRLPPOTrainer._rollout_step`` / ``_compute_returns``, SONIC_REFERENCE §9.2),
which are rsl_rl's:

* time-out bootstrapping: ``r_t += γ · V(s_t) · timeout_t``. It uses the value of the state the action was
  taken in (not of the truncated next state, which the env has already reset), the usual rsl_rl
  approximation.
* ``δ_t = r_t + γ (1 - done_t) V_{t+1} - V_t``;  ``A_t = δ_t + γ λ (1 - done_t) A_{t+1}``;
  ``R_t = A_t + V_t``; ``V_T`` is the critic's value of the observation after the last step.
  ``done_t`` includes time-outs (Isaac Lab's ``terminated | truncated``), so a time-out ends the
  recursion and its lost future is replaced by the bootstrap term above.
* advantages are whitened with the mean and the (Bessel-corrected) std of **all** ranks' advantages:
  ``(A - mean) / (std + 1e-8)``. SONIC gathers every rank's tensor; here two all-reduced sums give the
  same numbers without moving the tensors.

The loop runs over the ``num_steps`` time steps only (24), each step batched over all envs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["bootstrap_time_outs", "compute_gae", "normalize_advantages"]

AllReduceSum = Callable[[Tensor], Tensor]
"""Returns the element-wise sum of a tensor over all ranks (identity on one process)."""


def bootstrap_time_outs(rewards: Tensor, values: Tensor, time_outs: Tensor, gamma: float) -> Tensor:
    """``rewards + gamma * values * time_outs`` (all ``(num_steps, num_envs)``); a new tensor."""
    return rewards + gamma * values * time_outs.to(values.dtype)


def compute_gae(
    rewards: Tensor,
    values: Tensor,
    dones: Tensor,
    last_values: Tensor,
    gamma: float,
    lam: float,
    time_outs: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Returns and raw advantages by GAE.

    Args:
        rewards: ``(num_steps, num_envs)`` env rewards (not yet bootstrapped).
        values: ``(num_steps, num_envs)`` critic values of the observations the actions were taken from.
        dones: ``(num_steps, num_envs)`` bool/0-1, episode ended after step t (terminated or timed out).
        last_values: ``(num_envs,)`` critic value of the observation after the last step.
        gamma: discount (0.99).
        lam: GAE λ (0.95).
        time_outs: ``(num_steps, num_envs)`` bool/0-1 truncations; when given, rewards are bootstrapped
            with :func:`bootstrap_time_outs` first.

    Returns:
        ``(returns, advantages)``, each ``(num_steps, num_envs)``; ``advantages = returns - values``.
    """
    if rewards.shape != values.shape or dones.shape != values.shape:
        raise ValueError(
            f"rewards {tuple(rewards.shape)}, values {tuple(values.shape)} and dones {tuple(dones.shape)} "
            "must all be (num_steps, num_envs)"
        )
    if last_values.shape != values.shape[1:]:
        raise ValueError(
            f"last_values must be (num_envs,) = {tuple(values.shape[1:])}, got {tuple(last_values.shape)}"
        )
    if time_outs is not None:
        rewards = bootstrap_time_outs(rewards, values, time_outs, gamma)
    not_done = 1.0 - dones.to(values.dtype)
    num_steps = values.shape[0]
    returns = torch.empty_like(values)
    advantage = torch.zeros_like(last_values)
    next_values = last_values
    for t in reversed(range(num_steps)):
        delta = rewards[t] + not_done[t] * gamma * next_values - values[t]
        advantage = delta + not_done[t] * gamma * lam * advantage
        returns[t] = advantage + values[t]
        next_values = values[t]
    return returns, returns - values


def normalize_advantages(
    advantages: Tensor, all_reduce_sum: AllReduceSum | None = None, eps: float = 1e-8
) -> Tensor:
    """Whiten advantages with the mean and unbiased std over every rank's samples.

    Args:
        advantages: this rank's advantages, any shape (``(num_steps, num_envs)``).
        all_reduce_sum: sums a tensor over ranks (e.g. :meth:`sonic_train.dist.DistContext.all_reduce_sum`);
            ``None`` means a single process.
        eps: added to the std, as SONIC.

    Returns:
        ``(advantages - mean) / (std + eps)``, same shape and dtype.
    """
    reduce = all_reduce_sum if all_reduce_sum is not None else (lambda t: t)
    flat = advantages.reshape(-1).to(torch.float64)
    totals = reduce(
        torch.stack([flat.sum(), torch.tensor(float(flat.numel()), dtype=torch.float64, device=flat.device)])
    )
    count = totals[1]
    if count < 2:
        raise ValueError(
            f"need at least 2 advantages over all ranks to estimate a std, got {int(count.item())}"
        )
    mean = totals[0] / count
    sq_dev = reduce((flat - mean).square().sum().reshape(1))[0]
    std = torch.sqrt(sq_dev / (count - 1))
    return ((advantages.to(torch.float64) - mean) / (std + eps)).to(advantages.dtype)
