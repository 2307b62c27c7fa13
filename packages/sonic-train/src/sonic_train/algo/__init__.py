"""PPO building blocks: config, rollout storage, GAE, loss terms, adaptive-KL lr, optimisers.

Each module is one concept and depends on torch only, so the trainer loop can join them with the env and
the model; see packages/sonic-train/README.md ("Algorithm").
"""

from __future__ import annotations

from sonic_train.algo.config import PPOConfig
from sonic_train.algo.gae import bootstrap_time_outs, compute_gae, normalize_advantages
from sonic_train.algo.kl_schedule import AdaptiveKLSchedule
from sonic_train.algo.optim import ActorCriticOptimizer, clip_grad_norm
from sonic_train.algo.ppo_loss import (
    PPOLossTerms,
    gaussian_entropy,
    gaussian_kl,
    gaussian_log_prob,
    ppo_loss,
    surrogate_loss,
    value_loss,
    weighted_aux_loss,
)
from sonic_train.algo.storage import Minibatch, RolloutStorage

__all__ = [
    "ActorCriticOptimizer",
    "AdaptiveKLSchedule",
    "Minibatch",
    "PPOConfig",
    "PPOLossTerms",
    "RolloutStorage",
    "bootstrap_time_outs",
    "clip_grad_norm",
    "compute_gae",
    "gaussian_entropy",
    "gaussian_kl",
    "gaussian_log_prob",
    "normalize_advantages",
    "ppo_loss",
    "surrogate_loss",
    "value_loss",
    "weighted_aux_loss",
]
