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

The minibatch update never waits for the GPU: the adaptive lr is computed on the device
(:meth:`~sonic_train.algo.AdaptiveKLSchedule.adjust`, float64) and the non-finite skip is the fused
AdamW's ``found_inf`` (:mod:`sonic_train.algo.optim`). The host reads the statistics, the lr and the
NaN-KL check once per :meth:`Learner.update`, at its end; a minibatch with a NaN KL makes no optimiser
step, and the update raises after its epochs rather than at that minibatch.

CUDA graphs (``cuda_graphs=True``, the trainer's ``manager_env.cuda_graphs``; CUDA only, ``dense``
encoder compute): each minibatch is two captured segments (:class:`sonic_env.step_graphs.SegmentGraphs`,
two eager warm-up minibatches, then capture once and replay): ``grad`` (gather the minibatch from the
storage by a fixed env-id buffer, ``policy.evaluate``, KL, losses, backward into gradients at fixed
addresses) and ``step`` (lr, clip, the skip flag, AdamW, std clamp, the statistics' sums). Between them
the ranks' KL and gradients are all-reduced eagerly, in place (NCCL is not captured). The graphs are
recaptured when the storage, a parameter or the optimiser's state is replaced (a resume).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from sonic_env.step_graphs import CudaGraphBackend, GraphBackend, SegmentGraphs
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
        cuda_graphs: replay each minibatch update as CUDA graphs (module doc); on CUDA only, else eager.
        graph_backend: capture/replay with this backend instead (on any device; the CPU tests' double).

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
        cuda_graphs: bool = False,
        graph_backend: GraphBackend | None = None,
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
        device = next(policy.parameters()).device
        self.device_type = device.type
        self._lr = torch.tensor(float(ppo.actor_learning_rate), dtype=torch.float64, device=device)
        """The adaptive lr on the device (float64, so it moves exactly as the host schedule's)."""
        self._env_ids: torch.Tensor | None = None
        self._sums: dict[str, torch.Tensor] = {}
        self.graphs: SegmentGraphs | None = None
        if graph_backend is None and cuda_graphs and device.type == "cuda":
            graph_backend = CudaGraphBackend(device, warp=False)
        if graph_backend is not None:
            if policy.config.learning_encoder_compute != "dense":
                raise ValueError(
                    "Learner: CUDA graphs need policy.config.learning_encoder_compute='dense' "
                    f"(got {policy.config.learning_encoder_compute!r}: its gather syncs the host)"
                )
            self.graphs = SegmentGraphs(graph_backend, key=self._graph_key, warmup=2)
        self._storage: RolloutStorage | None = None

    @property
    def lr(self) -> float:
        """The current (adaptive) lr of the main optimiser."""
        return float(self._lr)

    def set_lr(self, lr: float) -> None:
        """Set the lr of the schedule and the main optimiser (resume)."""
        if self.schedule is not None:
            self.schedule.lr = float(lr)
        self._lr.fill_(float(lr))
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

    def _graph_key(self) -> Hashable:
        """Changes when an address the captured update reads may have changed."""
        states = tuple(id(opt.state) for opt in self.optimizer.optimizers)
        return (id(self._storage), states, tuple(p.data_ptr() for p in self.optimizer.parameters))

    def _grad(self) -> dict[str, torch.Tensor]:
        """Segment ``grad``: the minibatch of :attr:`_env_ids`, its losses, gradients; returns the logged terms."""
        assert self._storage is not None and self._env_ids is not None
        ppo, policy = self.ppo, self.policy
        batch = self._storage.gather(self._env_ids)
        obs = batch.observations
        terms = obs["tokenizer"]
        assert isinstance(terms, dict)
        # A capture must not reuse autocast's per-forward weight casts (torch.cuda.graph's rule).
        with torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.bf16, cache_enabled=False):
            out = policy.evaluate(terms, terms[ENCODER_MASK], obs["policy"], batch.actions, obs["critic"])  # pyright: ignore[reportArgumentType]
        assert out.value is not None
        with torch.no_grad():
            kl = gaussian_kl(batch.old_action_mean, batch.old_action_std, out.mean, out.std).mean()
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
        self.optimizer.zero_grad()  # a capture then allocates the gradients once, at fixed addresses
        terms_out.total.backward()
        parts = {
            "surrogate": terms_out.surrogate.detach(),
            "value": terms_out.value.detach(),
            "entropy": terms_out.entropy.detach(),
            "kl": kl,
        }
        return parts | {f"aux/{k}": v.detach() for k, v in aux.items()}

    def _step(self, parts: dict[str, torch.Tensor]) -> None:
        """Segment ``step``: lr from the KL, clip, AdamW (skipped when not finite), std clamp, the sums."""
        kl = parts["kl"]
        if self.schedule is not None:
            self._lr.copy_(self.schedule.adjust(kl, self._lr))
            self.optimizer.set_lr(self._lr)
        norm, finite = clip_grad_norm(self.optimizer.parameters, self.ppo.max_grad_norm)
        nan_kl = torch.isnan(kl)
        self.optimizer.step(skip=nan_kl | ~finite)  # a NaN KL raises after the update: no step on it
        if self.ppo.use_clampped_std:
            self.policy.clamp_std_()
        for key, value in parts.items():
            self._sums[key].add_(value)
        self._sums["grad_norm"].add_(norm.to(self._sums["grad_norm"]))
        self._sums["skipped"].add_(~finite)
        self._sums["nan_kl"].add_(nan_kl)

    def _reset_sums(self, parts: list[str]) -> None:
        names = [*parts, "grad_norm", "skipped", "nan_kl"]
        if list(self._sums) != names:
            self._sums = {k: torch.zeros((), device=self._lr.device) for k in names}
            if self.graphs is not None:
                self.graphs.invalidate()  # new accumulators: new addresses
        for value in self._sums.values():
            value.zero_()

    def update(self, storage: RolloutStorage) -> UpdateStats:
        """Run the PPO epochs over ``storage`` (values, returns and advantages already set).

        Raises:
            ValueError: a minibatch's rank-averaged KL was NaN (a diverged update; checked after the epochs).
        """
        ppo = self.ppo
        if self._storage is not storage:
            self._storage = storage
            self._env_ids = None
        count = 0
        for env_ids in storage.minibatch_env_ids(
            ppo.num_mini_batches, ppo.num_learning_epochs, self.generator
        ):
            if self._env_ids is None:
                self._env_ids = env_ids.clone()
            else:
                self._env_ids.copy_(env_ids)
            if self.graphs is not None:
                self.graphs.begin_step()
            parts = self._run("grad", self._grad)
            if count == 0:
                self._reset_sums(list(parts))
            if self.ctx.distributed:
                parts["kl"].copy_(self.ctx.all_reduce_mean(parts["kl"]))
            if self.sync_gradients:
                all_reduce_gradients(self.optimizer.parameters, self.ctx)
            self._run("step", lambda parts=parts: self._step(parts))
            if self.graphs is not None:
                self.graphs.end_step()
            count += 1
        return self._stats(count)

    def _run(self, name: str, fn: Any) -> Any:
        return fn() if self.graphs is None else self.graphs.run(name, fn)

    def _stats(self, count: int) -> UpdateStats:
        """The means of the sums, with the update's only host reads (lr, skipped steps, NaN check)."""
        sums = self._sums
        lr, skipped, nan_kl = torch.stack(
            [self._lr, sums["skipped"].double(), sums["nan_kl"].double()]
        ).tolist()
        if nan_kl:
            raise ValueError(
                f"adaptive-KL schedule received a NaN KL in {int(nan_kl)} of {count} minibatches"
            )
        if self.schedule is not None:
            self.schedule.lr = lr
        means = {k: v / count for k, v in sums.items()}
        return UpdateStats(
            surrogate=means["surrogate"],
            value=means["value"],
            entropy=means["entropy"],
            kl=means["kl"],
            aux={k.removeprefix("aux/"): v for k, v in means.items() if k.startswith("aux/")},
            lr=lr,
            grad_norm=means["grad_norm"],
            skipped_steps=int(skipped),
        )
