"""PPO loss terms as pure functions of tensors (SONIC_REFERENCE §9.2; SONIC's ``_compute_ppo_loss``).

All per-sample inputs have one leading batch dim ``B`` (a flattened minibatch) and return scalars:

* surrogate: ``mean(max(-A·ρ, -A·clip(ρ, 1-ε, 1+ε)))``, ``ρ = exp(logp_new - logp_old)``, ε = 0.2.
* value: ``mean(max((V - R)², (V_clip - R)²))`` with ``V_clip = V_old + clip(V - V_old, -ε_v, ε_v)``,
  ε_v = 0.2, and **no** ½ factor (TRL's ``vf_loss`` is multiplied by 0.5; SONIC's is not).
* entropy of the diagonal Gaussian, summed over action dims and averaged over samples; the loss
  subtracts ``entropy_coef`` times it.
* KL(old ‖ new) of diagonal Gaussians, analytic, summed over action dims, for the adaptive lr.
  SONIC (like rsl_rl) writes ``log(σ_new/σ_old + 1e-5)``; ``log_eps`` keeps that default, and
  ``log_eps=0`` is the exact KL.

The total is ``surrogate + vf_coef·value - entropy_coef·entropy + aux_scale·Σ coef·aux``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "PPOLossTerms",
    "gaussian_entropy",
    "gaussian_kl",
    "gaussian_log_prob",
    "ppo_loss",
    "surrogate_loss",
    "value_loss",
    "weighted_aux_loss",
]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def gaussian_log_prob(actions: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """Log-density of ``actions`` (B, A) under N(mean (B, A), std (A,) or (B, A)), summed over A -> (B,)."""
    std = std.expand_as(mean)
    return (-((actions - mean) ** 2) / (2.0 * std**2) - torch.log(std) - _HALF_LOG_2PI).sum(dim=-1)


def gaussian_entropy(std: Tensor, batch_shape: tuple[int, ...] = ()) -> Tensor:
    """Entropy of a diagonal Gaussian summed over action dims: ``Σ (½ + ½ log 2π + log σ)``.

    Args:
        std: ``(A,)`` shared std or ``(B, A)`` per-sample std.
        batch_shape: broadcast a shared std to this batch shape.

    Returns:
        ``batch_shape`` (or ``(B,)``) per-sample entropies.
    """
    per_sample = (0.5 + _HALF_LOG_2PI + torch.log(std)).sum(dim=-1)
    return per_sample.expand(batch_shape) if batch_shape else per_sample


def gaussian_kl(
    old_mean: Tensor, old_std: Tensor, new_mean: Tensor, new_std: Tensor, log_eps: float = 1e-5
) -> Tensor:
    """KL(N_old ‖ N_new) of diagonal Gaussians, summed over the last dim.

    ``Σ log(σ_new/σ_old + log_eps) + (σ_old² + (μ_old - μ_new)²) / (2 σ_new²) - ½``.

    Args:
        old_mean, new_mean: ``(B, A)``.
        old_std, new_std: ``(A,)`` or ``(B, A)``.
        log_eps: SONIC's 1e-5 inside the log; 0 gives the exact KL.

    Returns:
        ``(B,)`` per-sample KL.
    """
    old_std = old_std.expand_as(old_mean)
    new_std = new_std.expand_as(new_mean)
    return (
        torch.log(new_std / old_std + log_eps)
        + (old_std.square() + (old_mean - new_mean).square()) / (2.0 * new_std.square())
        - 0.5
    ).sum(dim=-1)


def surrogate_loss(new_log_probs: Tensor, old_log_probs: Tensor, advantages: Tensor, clip: float) -> Tensor:
    """Clipped PPO surrogate ``mean(max(-A ρ, -A clip(ρ, 1-clip, 1+clip)))``; inputs ``(B,)``."""
    ratio = torch.exp(new_log_probs - old_log_probs)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    return torch.max(unclipped, clipped).mean()


def value_loss(
    values: Tensor, old_values: Tensor, returns: Tensor, clip: float, use_clipped_value_loss: bool = True
) -> Tensor:
    """``mean(max((V-R)², (V_clip-R)²))`` (no ½), or ``mean((V-R)²)`` without clipping; inputs ``(B,)``."""
    sq = (values - returns).square()
    if not use_clipped_value_loss:
        return sq.mean()
    clipped = old_values + torch.clamp(values - old_values, -clip, clip)
    return torch.max(sq, (clipped - returns).square()).mean()


def weighted_aux_loss(aux_losses: Mapping[str, Tensor], coefs: Mapping[str, float]) -> Tensor | None:
    """``Σ coef·loss`` over ``aux_losses``; every loss needs a coefficient. ``None`` when there are none.

    Raises:
        KeyError: an auxiliary loss has no coefficient (names the loss and the known coefficients).
    """
    total: Tensor | None = None
    for name, loss in aux_losses.items():
        if name not in coefs:
            raise KeyError(f"auxiliary loss {name!r} has no coefficient; coefficients given: {sorted(coefs)}")
        term = coefs[name] * loss
        total = term if total is None else total + term
    return total


@dataclass(frozen=True)
class PPOLossTerms:
    """The total loss (with grad) and its parts (detached) for logging."""

    total: Tensor
    surrogate: Tensor
    value: Tensor
    entropy: Tensor
    aux: Tensor | None


def ppo_loss(
    *,
    new_log_probs: Tensor,
    old_log_probs: Tensor,
    advantages: Tensor,
    values: Tensor,
    old_values: Tensor,
    returns: Tensor,
    entropy: Tensor,
    clip: float = 0.2,
    value_clip: float = 0.2,
    use_clipped_value_loss: bool = True,
    vf_coef: float = 1.0,
    entropy_coef: float = 0.01,
    aux_losses: Mapping[str, Tensor] | None = None,
    aux_coefs: Mapping[str, float] | None = None,
    aux_scale: float = 1.0,
) -> PPOLossTerms:
    """``surrogate + vf_coef·value - entropy_coef·mean(entropy) + aux_scale·Σ coef·aux``.

    Args:
        new_log_probs, old_log_probs, advantages, values, old_values, returns: ``(B,)``.
        entropy: ``(B,)`` per-sample entropy (summed over action dims).
        aux_losses / aux_coefs: named scalar auxiliary losses and their weights.
    """
    surrogate = surrogate_loss(new_log_probs, old_log_probs, advantages, clip)
    value = value_loss(values, old_values, returns, value_clip, use_clipped_value_loss)
    mean_entropy = entropy.mean()
    total = surrogate + vf_coef * value - entropy_coef * mean_entropy
    aux = weighted_aux_loss(aux_losses, aux_coefs or {}) if aux_losses else None
    if aux is not None:
        total = total + aux_scale * aux
    return PPOLossTerms(
        total=total,
        surrogate=surrogate.detach(),
        value=value.detach(),
        entropy=mean_entropy.detach(),
        aux=None if aux is None else aux.detach(),
    )
