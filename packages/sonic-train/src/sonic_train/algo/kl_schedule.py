"""Adaptive-KL learning rate, as SONIC's ``_adjust_learning_rate_based_on_kl`` (SONIC_REFERENCE §9.2).

SONIC updates the lr once per **minibatch**, before that minibatch's optimiser step, from the analytic KL
between the rollout policy and the current one, averaged over the minibatch and then over ranks (so every
rank computes the same lr):

* KL > 2·desired -> lr = max(lr_min, lr / 1.5)
* 0 < KL < desired / 2 -> lr = min(lr_max, lr · 1.5)   (a KL of exactly 0, e.g. the first minibatch of an
  unchanged policy, leaves the lr alone)
* otherwise unchanged.

:meth:`AdaptiveKLSchedule.adjust` is the same rule on tensors (``torch.where``), so the learner can keep the lr
on the device and never wait for the KL on the host (its CUDA-graphed minibatch update, ``learner``); the host
value :attr:`AdaptiveKLSchedule.lr` is then written back once per update.

The HF ``constant`` scheduler SONIC also steps once per iteration resets the optimiser's lr to its base
value, but SONIC writes its own lr back before every step, so it has no effect; it is not reproduced.
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["AdaptiveKLSchedule"]


class AdaptiveKLSchedule:
    """Holds the current lr and moves it by the KL rule.

    Args:
        initial_lr: starting lr (``actor_learning_rate``, 2e-5); it is not clamped, as in SONIC.
        desired_kl: target KL (0.01).
        lr_min, lr_max: clamp of every adjusted lr ([1e-5, 2e-4]).
        factor: multiplicative step (1.5).
    """

    def __init__(
        self,
        initial_lr: float = 2e-5,
        desired_kl: float = 0.01,
        lr_min: float = 1e-5,
        lr_max: float = 2e-4,
        factor: float = 1.5,
    ) -> None:
        if not (0 < lr_min <= lr_max) or desired_kl <= 0 or factor <= 1:
            raise ValueError(
                f"need 0 < lr_min <= lr_max, desired_kl > 0, factor > 1; got lr_min={lr_min}, lr_max={lr_max}, "
                f"desired_kl={desired_kl}, factor={factor}"
            )
        self.lr = float(initial_lr)
        self.desired_kl = desired_kl
        self.lr_min = lr_min
        self.lr_max = lr_max
        self.factor = factor

    def update(self, kl: float | torch.Tensor) -> float:
        """Adjust the lr from a rank-averaged mean KL and return the new lr.

        Raises:
            ValueError: the KL is NaN (a diverged update; the caller should stop, not silently keep going).
        """
        kl_value = float(kl)
        if math.isnan(kl_value):
            raise ValueError("adaptive-KL schedule received a NaN KL")
        if kl_value > 2.0 * self.desired_kl:
            self.lr = max(self.lr_min, self.lr / self.factor)
        elif 0.0 < kl_value < 0.5 * self.desired_kl:
            self.lr = min(self.lr_max, self.lr * self.factor)
        return self.lr

    def adjust(self, kl: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
        """:meth:`update`'s rule on 0-d tensors, without a host sync; returns the new lr (``lr`` is not changed).

        Use a float64 ``lr`` to get :meth:`update`'s values exactly (Python floats are doubles). A NaN KL
        leaves the lr alone (every comparison is False); the caller checks for it (``torch.isnan``).
        """
        down = torch.clamp(lr / self.factor, min=self.lr_min)
        up = torch.clamp(lr * self.factor, max=self.lr_max)
        raised = torch.where((kl > 0.0) & (kl < 0.5 * self.desired_kl), up, lr)
        return torch.where(kl > 2.0 * self.desired_kl, down, raised)

    def state_dict(self) -> dict[str, Any]:
        """Plain data for checkpoints."""
        return {
            "lr": self.lr,
            "desired_kl": self.desired_kl,
            "lr_min": self.lr_min,
            "lr_max": self.lr_max,
            "factor": self.factor,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the lr; the bounds come from the current config (a finetune may change them).

        Raises:
            KeyError: ``state`` has no ``lr``.
        """
        if "lr" not in state:
            raise KeyError(f"adaptive-KL schedule state needs 'lr', got keys {sorted(state)}")
        self.lr = float(state["lr"])
