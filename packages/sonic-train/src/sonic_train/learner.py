"""The learning half of a PPO iteration: critic normaliser, returns, and the epochs of minibatch updates.

:class:`Learner` owns the policy's optimiser, the adaptive-KL lr and the minibatch shuffler, and nothing
of the env, so a PPO update can be run on a fixed :class:`~sonic_train.algo.RolloutStorage` (the resume
test does exactly that). Per iteration the trainer calls, in this order (SONIC_REFERENCE §9.2):

1. :meth:`Learner.update_normalizer` with the rollout's critic observations ``(T, N, critic_width)``: the
   sums are all-reduced, so every rank's normaliser stays identical (training only; eval never calls it);
2. :meth:`Learner.compute_returns`: the critic values of the whole rollout in one batch, GAE with
   time-out bootstrapping, advantages whitened with the mean/std over **all** ranks;
3. :meth:`Learner.update`: ``num_learning_epochs`` × ``num_mini_batches`` minibatches split over envs; per
   minibatch ``policy.evaluate`` + sonic_model's aux losses, the Gaussian KL to the rollout policy averaged
   over the minibatch and the ranks sets the lr (adaptive schedule) *before* the step, the loss
   ``surrogate + value - 0.01·entropy + aux_scale·Σ weight·aux`` is back-propagated, gradients averaged
   over ranks in one all-reduce, clipped to ``max_grad_norm``, the step skipped if their norm is not
   finite, and ``std`` clamped in place after each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from sonic_model import ModelConfig, UniversalTokenPolicy, compute_aux_losses
from sonic_train.algo import (
    ActorCriticOptimizer,
    AdaptiveKLSchedule,
    PPOConfig,
    RolloutStorage,
    clip_grad_norm,
    compute_gae,
    gaussian_kl,
    normalize_advantages,
    ppo_loss,
)
from sonic_train.dist import DistContext, all_reduce_gradients

__all__ = ["ENCODER_MASK", "Learner", "UpdateStats"]

ENCODER_MASK = "encoder_index"
"""The tokenizer term holding the boolean encoder mask ``(N, n_encoders)``."""


@dataclass(frozen=True)
class UpdateStats:
    """Means over every minibatch of one :meth:`Learner.update` (0-d tensors, this rank's values).

    Attributes:
        surrogate, value, entropy: the PPO loss terms (entropy before its coefficient).
        kl: rank-averaged Gaussian KL between the rollout policy and the policy before each step.
        aux: unweighted auxiliary losses by name.
        lr: the lr after the last minibatch.
        grad_norm: mean gradient norm before clipping.
        skipped_steps: optimiser steps skipped because the gradient norm was not finite.
    """

    surrogate: Tensor
    value: Tensor
    entropy: Tensor
    kl: Tensor
    aux: dict[str, Tensor] = field(default_factory=dict)
    lr: float = 0.0
    grad_norm: Tensor = field(default_factory=lambda: torch.zeros(()))
    skipped_steps: int = 0


def aux_weights(model: ModelConfig) -> dict[str, float]:
    """The aux-loss weights of ``model.aux`` by loss name (the detach flag is not a weight)."""
    return {k: float(v) for k, v in model.aux.model_dump().items() if k != "detach_teleop_target"}


class Learner:
    """PPO with auxiliary losses over a policy; one per process.

    Args:
        policy: the actor-critic (with its critic), on the device the rollouts live on.
        ppo: ``algo.config``.
        ctx: this process's place in the data-parallel run (collectives are identities on one process).
        seed: seeds the minibatch shuffler (a CPU ``torch.Generator``, saved in checkpoints).
        bf16: run ``policy.evaluate`` under bf16 autocast on the policy's device (matmuls in bf16, losses and
            the optimiser step in fp32). Opt-in (``ExperimentConfig.bf16``).

    Attributes:
        sync_gradients: all-reduce gradients before each step (True). Only a test's negative control turns
            it off, to show that ``check_rank_sync`` notices diverging ranks.
    """

    def __init__(
        self,
        policy: UniversalTokenPolicy,
        ppo: PPOConfig,
        ctx: DistContext,
        seed: int = 0,
        bf16: bool = False,
    ) -> None:
        if policy.critic is None:
            raise ValueError("Learner: the policy needs its critic (build it with with_critic=True)")
        self.policy = policy
        self.ppo = ppo
        self.ctx = ctx
        self.aux_coefs = aux_weights(policy.config)
        actor = [p for n, p in policy.named_parameters() if not n.startswith("critic.")]
        self.optimizer = ActorCriticOptimizer(
            actor,
            policy.critic.parameters(),
            lr=ppo.actor_learning_rate,
            separate_critic=ppo.separate_critic_optimizer,
            critic_lr=ppo.critic_learning_rate,
        )
        self.schedule: AdaptiveKLSchedule | None = None
        if ppo.schedule == "adaptive":
            self.schedule = AdaptiveKLSchedule(
                ppo.actor_learning_rate, ppo.desired_kl, ppo.adaptive_lr_min, ppo.adaptive_lr_max
            )
        self.generator = torch.Generator()
        self.generator.manual_seed(seed)
        self.sync_gradients = True
        self.bf16 = bf16
        self.device_type = next(policy.parameters()).device.type

    @property
    def lr(self) -> float:
        """The current (adaptive) lr of the main optimiser."""
        return self.optimizer.lr

    def set_lr(self, lr: float) -> None:
        """Set the lr of the schedule and the main optimiser (resume)."""
        if self.schedule is not None:
            self.schedule.lr = float(lr)
        self.optimizer.set_lr(float(lr))

    @torch.no_grad()
    def update_normalizer(self, critic_obs: Tensor) -> None:
        """Merge ``(..., critic_width)`` critic observations of every rank into the critic normaliser."""
        assert self.policy.critic is not None
        norm = self.policy.critic.normalizer
        n, total, total_sq = norm.batch_sums(critic_obs)
        packed = self.ctx.all_reduce_sum(torch.cat([n.reshape(1), total, total_sq]))
        size = total.numel()
        norm.update_from_sums(packed[0], packed[1 : 1 + size], packed[1 + size :])

    @torch.no_grad()
    def compute_returns(self, storage: RolloutStorage, last_critic_obs: Tensor) -> None:
        """Critic values of the rollout, GAE returns and globally whitened advantages, into ``storage``.

        Args:
            storage: a full rollout; its ``critic`` observations are ``(T, N, critic_width)``.
            last_critic_obs: ``(N, critic_width)`` observations after the last step (bootstrap value).
        """
        critic_obs = storage.observations["critic"]
        t, n = storage.num_steps, storage.num_envs
        values = self.policy.value(critic_obs.reshape(t * n, -1)).reshape(t, n)
        storage.set_values(values)
        last_values = self.policy.value(last_critic_obs).reshape(n)
        returns, advantages = compute_gae(
            storage.rewards,
            values,
            storage.dones,
            last_values,
            self.ppo.gamma,
            self.ppo.lam,
            time_outs=storage.time_outs,
        )
        storage.set_returns(returns, normalize_advantages(advantages, self.ctx.all_reduce_sum))

    def update(self, storage: RolloutStorage) -> UpdateStats:
        """Run the PPO epochs over ``storage`` (values, returns and advantages already set)."""
        ppo, policy = self.ppo, self.policy
        sums: dict[str, Tensor] = {}
        grad_norms: list[Tensor] = []
        skipped = 0
        count = 0
        for batch in storage.minibatches(ppo.num_mini_batches, ppo.num_learning_epochs, self.generator):
            obs = batch.observations
            terms = obs["tokenizer"]
            assert isinstance(terms, dict)
            with torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.bf16):
                out = policy.evaluate(terms, terms[ENCODER_MASK], obs["policy"], batch.actions, obs["critic"])  # pyright: ignore[reportArgumentType]
            assert out.value is not None
            with torch.no_grad():
                kl = gaussian_kl(batch.old_action_mean, batch.old_action_std, out.mean, out.std).mean()
                kl = self.ctx.all_reduce_mean(kl)
            if self.schedule is not None:
                self.optimizer.set_lr(self.schedule.update(kl))
            aux = compute_aux_losses(out, policy.encoder_names, policy.config.aux)
            terms_out = ppo_loss(
                new_log_probs=out.log_prob,
                old_log_probs=batch.old_log_probs,
                advantages=batch.advantages,
                values=out.value.reshape(-1),
                old_values=batch.old_values,
                returns=batch.returns,
                entropy=out.entropy,
                clip=ppo.clip_param,
                value_clip=ppo.value_clip_param,
                use_clipped_value_loss=ppo.use_clipped_value_loss,
                vf_coef=ppo.value_loss_coef,
                entropy_coef=ppo.entropy_coef,
                aux_losses=aux,
                aux_coefs=self.aux_coefs,
                aux_scale=ppo.aux_loss_scale,
            )
            self.optimizer.zero_grad()
            terms_out.total.backward()
            if self.sync_gradients:
                all_reduce_gradients(self.optimizer.parameters, self.ctx)
            norm, finite = clip_grad_norm(self.optimizer.parameters, ppo.max_grad_norm)
            if finite:
                self.optimizer.step()
            else:
                skipped += 1
            if ppo.use_clampped_std:
                policy.clamp_std_()
            grad_norms.append(norm.detach())
            parts = {
                "surrogate": terms_out.surrogate,
                "value": terms_out.value,
                "entropy": terms_out.entropy,
                "kl": kl,
            } | {f"aux/{k}": v.detach() for k, v in aux.items()}
            for key, value in parts.items():
                sums[key] = sums[key] + value if key in sums else value.clone()
            count += 1
        means = {k: v / count for k, v in sums.items()}
        return UpdateStats(
            surrogate=means["surrogate"],
            value=means["value"],
            entropy=means["entropy"],
            kl=means["kl"],
            aux={k.removeprefix("aux/"): v for k, v in means.items() if k.startswith("aux/")},
            lr=self.lr,
            grad_norm=torch.stack(grad_norms).float().mean(),
            skipped_steps=skipped,
        )
