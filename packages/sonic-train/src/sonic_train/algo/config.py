"""PPO hyper-parameters, with SONIC's key names and published values.

The field names are those of SONIC's ``algo.config`` block (``config/algo/ppo_im_phc.yaml`` and the
``sonic_release`` exp, SONIC_REFERENCE.md §1.1 and §9.2), so the guide's overrides such as
``++algo.config.num_learning_iterations=100`` land on a validated field. Defaults are SONIC's
*effective* values: where its config says one thing and its trainer does another, the trainer wins
and the config value becomes an opt-in field (FORMATS.md "Quirks: decisions"):

* ``critic_learning_rate`` is unused by SONIC (one optimiser for actor and critic at
  ``actor_learning_rate``); ``separate_critic_optimizer=True`` turns it on.
* ``clip_param`` is not read by SONIC's loss, which clips with TRL's ``cliprange`` (0.2, the same value);
  here ``clip_param`` is the surrogate clip and ``value_clip_param`` the value clip (TRL ``cliprange_value``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["PPOConfig"]


class PPOConfig(BaseModel):
    """PPO + adaptive-KL settings (``algo.config.*``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_steps_per_env: int = Field(
        default=24, gt=0, description="Rollout length per iteration (sonic_release exp)."
    )
    num_learning_iterations: int = Field(default=100000, gt=0, description="PPO iterations to run.")
    num_learning_epochs: int = Field(default=5, gt=0, description="Passes over the rollout per iteration.")
    num_mini_batches: int = Field(
        default=4, gt=0, description="Minibatches per epoch, split over environments (num_envs must divide)."
    )
    clip_param: float = Field(default=0.2, gt=0, description="Surrogate ratio clip (TRL cliprange).")
    value_clip_param: float = Field(
        default=0.2, gt=0, description="Value clip around the rollout value (TRL cliprange_value)."
    )
    use_clipped_value_loss: bool = Field(
        default=True, description="mean(max(sq, sq_clipped)) instead of plain MSE."
    )
    gamma: float = Field(default=0.99, ge=0, le=1, description="Discount factor.")
    lam: float = Field(default=0.95, ge=0, le=1, description="GAE lambda.")
    value_loss_coef: float = Field(default=1.0, ge=0, description="Weight of the value loss (no 1/2 factor).")
    entropy_coef: float = Field(
        default=0.01, ge=0, description="Weight of the entropy bonus (loss -= coef * entropy)."
    )
    aux_loss_scale: float = Field(
        default=1.0, ge=0, description="Scale of the weighted sum of auxiliary losses."
    )
    actor_learning_rate: float = Field(
        default=2e-5, gt=0, description="Initial lr of the (single) optimiser."
    )
    critic_learning_rate: float = Field(
        default=1e-3,
        gt=0,
        description="Critic lr; used only with separate_critic_optimizer (unused by SONIC).",
    )
    separate_critic_optimizer: bool = Field(
        default=False,
        description="Give the critic its own AdamW at critic_learning_rate (SONIC: one optimiser).",
    )
    schedule: Literal["adaptive", "fixed"] = Field(
        default="adaptive", description="Adaptive-KL lr or a fixed lr."
    )
    desired_kl: float = Field(default=0.01, gt=0, description="Target KL of the adaptive schedule.")
    adaptive_lr_min: float = Field(default=1e-5, gt=0, description="Lower clamp of the adaptive lr.")
    adaptive_lr_max: float = Field(default=2e-4, gt=0, description="Upper clamp of the adaptive lr.")
    max_grad_norm: float = Field(
        default=0.1, gt=0, description="Global gradient-norm clip (sonic_release exp)."
    )
    init_noise_std: float = Field(
        default=0.05, gt=0, description="Initial action std (a parameter, not log-std)."
    )
    use_clampped_std: bool = Field(
        default=True, description="Clamp std in place after each optimiser step (SONIC's spelling)."
    )
    std_clamp_min: float = Field(default=0.001, gt=0, description="Lower std clamp.")
    std_clamp_max: float = Field(default=0.5, gt=0, description="Upper std clamp.")

    @model_validator(mode="after")
    def _check_ranges(self) -> PPOConfig:
        if self.adaptive_lr_min > self.adaptive_lr_max:
            raise ValueError(
                f"algo.config.adaptive_lr_min ({self.adaptive_lr_min}) must not exceed "
                f"adaptive_lr_max ({self.adaptive_lr_max})"
            )
        if self.std_clamp_min > self.std_clamp_max:
            raise ValueError(
                f"algo.config.std_clamp_min ({self.std_clamp_min}) must not exceed std_clamp_max ({self.std_clamp_max})"
            )
        return self
