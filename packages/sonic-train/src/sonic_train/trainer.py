"""The training loop: rollouts on the SONIC env, PPO + auxiliary losses, logging, checkpoints.

One :class:`Trainer` per process (under ``accelerate launch`` each rank owns its envs and a full model copy).
An iteration (SONIC_REFERENCE §9.2, §6.2, §6.3):

1. ``num_steps_per_env`` env steps over all envs: ``policy.act`` on the env's device (static shapes, no
   per-env Python), ``env.step``, everything copied into the preallocated :class:`RolloutStorage`;
2. the critic normaliser takes the rollout's critic observations (sums all-reduced over ranks), then the
   values, GAE with time-out bootstrapping and globally whitened advantages (:class:`Learner`);
3. the PPO epochs (:meth:`Learner.update`): adaptive-KL lr averaged over ranks, gradients all-reduced,
   clipped to 0.1, ``std`` clamped after each step;
4. ``env.update_sampling()`` (adaptive start probabilities) every iteration, with the failure/episode
   counts averaged over ranks every ``ADAPTIVE_SYNC_EVERY`` (200) iterations; a new resident clip set
   every ``motion_lib_cfg.resample_every`` (250) iterations, after which every env is reset (as SONIC);
5. every ``check_rank_sync`` iterations the checksums of parameters, normaliser and ``std`` must agree on
   all ranks while the rollouts differ (``rank_sync.jsonl`` in the run folder);
6. logging on rank 0 (TensorBoard, W&B, one console line) and checkpoints: ``model_step_XXXXXX.pt`` every
   ``save_interval``, ``last.pt`` every ``last_interval`` and at the end.

Speed settings (``ExperimentConfig``): ``tf32`` allows TF32 matmuls for the whole process, ``bf16`` autocasts
the learning phase's forward passes; ``manager_env.cuda_graphs`` (opt-in, CUDA) replays the env step's
manager math, the rollout's ``policy.act`` (:mod:`sonic_train.rollout_act`) and each minibatch update
(:mod:`sonic_train.learner`) as CUDA graphs;
``max_train_time_s`` ends training after a wall-clock budget (rank 0 decides, every rank stops at the
same iteration). Each iteration logs ``throughput/collect_s`` and ``throughput/learn_s`` (split by one
device synchronisation, measured on rank 0) and, on CUDA, ``memory/peak_gpu_gib`` (the largest peak
allocation over ranks).
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Literal, TextIO

import numpy as np
import torch
from torch import Tensor

from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_env.mdp.rewards import tracking_error_metrics, tracking_state
from sonic_model import FSQUsage, UniversalTokenPolicy, fsq_usage
from sonic_train.algo import RolloutStorage
from sonic_train.checkpoint_io import CheckpointFormatError
from sonic_train.checkpoints import (
    LAST,
    StartCheckpoint,
    checkpoint_name,
    contract_for,
    load_weights,
    make_run_dir,
    read_start_checkpoint,
    restore_learner,
    save_training,
    write_config_yaml,
)
from sonic_train.config import ExperimentConfig
from sonic_train.dist import (
    DistContext,
    assert_ranks_identical,
    gather_checksums,
    module_checksum,
    tensors_checksum,
)
from sonic_train.learner import ENCODER_MASK, Learner, UpdateStats
from sonic_train.logger import IterationStats, TrainLogger
from sonic_train.metrics import RolloutMetrics
from sonic_train.rng import capture_rng_state, restore_rng_state
from sonic_train.rollout_act import RolloutActor, snapshot

__all__ = ["ADAPTIVE_SYNC_EVERY", "Trainer", "resolve_device", "seed_everything"]

ADAPTIVE_SYNC_EVERY = 200
"""Iterations between averaging the adaptive-sampling counts over ranks (SONIC_REFERENCE §6.3)."""


def resolve_device(device: str, ctx: DistContext) -> str:
    """``auto`` -> this rank's accelerate device (``cuda:<local rank>`` or ``cpu``); else ``device``.

    accelerate names the CPU ``cpu:0`` in multi-process runs; Warp accepts only ``cpu``.
    """
    if device != "auto":
        return device
    if ctx.device.type == "cpu":
        return "cpu"
    return f"{ctx.device.type}:{ctx.device.index if ctx.device.index is not None else ctx.local_rank}"


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy's and Python's global generators."""
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the global generator is what third-party code draws from)
    random.seed(seed)


@torch.no_grad()
def codebook_usage(policy: UniversalTokenPolicy, terms: dict[str, Tensor]) -> dict[str, FSQUsage]:
    """FSQ usage of each encoder's tokens on the envs that activate it (for logging; host syncs)."""
    mask = terms[ENCODER_MASK]
    usage: dict[str, FSQUsage] = {}
    for i, name in enumerate(policy.encoder_names):
        active = mask[:, i]
        if not bool(active.any()):
            continue
        _, token = policy.encode(name, {k: v[active] for k, v in terms.items()})
        usage[name] = fsq_usage(policy.quantizer, token.reshape(-1, policy.config.token_dim))
    return usage


class Trainer:
    """Builds the env, policy, learner and logger of one process and runs the iterations.

    Args:
        config: the resolved experiment config (``checkpoint``/``resume`` select finetune or resume).
        ctx: this process's place in the run; default: from accelerate (one process under plain python).
        console: where rank 0 prints (None: silent; default: ``sys.stdout`` at construction time).
        start: an already read ``config.checkpoint`` (the CLI reads it to choose the base config).

    Raises:
        ContractMismatchError, CheckpointError: the checkpoint does not fit the configured policy.
        CheckpointFormatError: resume from a file without training state.
    """

    def __init__(
        self,
        config: ExperimentConfig,
        ctx: DistContext | None = None,
        console: TextIO | None | Literal["stdout"] = "stdout",
        start: StartCheckpoint | None = None,
    ) -> None:
        self.ctx = ctx = ctx if ctx is not None else DistContext.from_accelerate()
        self.config = config
        stream = sys.stdout if console == "stdout" else console
        self.console = stream if ctx.is_main else None
        self.ppo = config.algo.config
        self.device = resolve_device(config.device, ctx)
        self.seed = config.seed + ctx.rank
        if config.tf32:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        contract = contract_for(config)
        if config.checkpoint is not None and start is None:
            start = read_start_checkpoint(config.checkpoint, preset=config.manager_env.contract)
        if config.resume:
            assert start is not None  # ExperimentConfig refuses resume without checkpoint
            if start.training is None:
                raise CheckpointFormatError(
                    f"{start.path} has no training state to resume from (a GEAR-SONIC or weights-only file); "
                    "drop ++resume=True to finetune from its weights"
                )
        torch.manual_seed(config.seed)  # the same initial weights on every rank ...
        self.policy = UniversalTokenPolicy(config.model, contract).to(self.device)
        if start is not None:
            load_weights(self.policy, start, contract)
        with torch.no_grad():  # ... and rank 0's, whatever a rank's generator did
            for tensor in self.policy.state_dict().values():
                ctx.broadcast(tensor)
        seed_everything(self.seed)
        self.learner = Learner(
            self.policy,
            self.ppo,
            ctx,
            seed=self.seed,
            bf16=config.bf16,
            cuda_graphs=config.manager_env.cuda_graphs,
        )
        self.iteration = 0
        if config.resume and start is not None and start.training is not None:
            restore_learner(self.learner, start.training, start.path)
            self.iteration = start.training.iteration
        self.start_iteration = self.iteration

        env_config = EnvConfig.model_validate(
            config.manager_env.model_dump() | {"device": self.device, "seed": self.seed}
        )
        self.env = SonicEnv(env_config)
        if config.resume and start is not None and start.training is not None:
            self.env.command.lib.sampler.load_state_dict(start.training.adaptive_sampling)
            restore_rng_state(start.training.rng_for_rank(ctx.rank, start.path), self.generators())

        self.run_dir: Path | None = None
        if ctx.is_main:
            self.run_dir = start.path.parent if config.resume and start is not None else make_run_dir(config)
            write_config_yaml(config, self.run_dir)
        self.logger = TrainLogger(
            self.run_dir or Path(config.base_dir),
            rank=ctx.rank,
            use_wandb=config.use_wandb,
            wandb_project=config.wandb.wandb_project,
            wandb_entity=config.wandb.wandb_entity,
            config=config.model_dump(mode="json"),
            console=self.console,
        )
        managers = self.env.env
        log_names = [f"Episode_Reward/{t}" for t in managers.reward_manager.active_terms]
        log_names += [f"Episode_Termination/{t}" for t in managers.termination_manager.active_terms]
        self.metrics = RolloutMetrics(self.env.num_envs, self.device, log_names)
        self.obs = self.env.reset()
        self.storage = RolloutStorage(
            self.ppo.num_steps_per_env,
            self.env.num_envs,
            contract.num_actions,
            snapshot(self.obs),
            self.device,
        )
        self.actor = RolloutActor(self.policy, self.obs, cuda_graphs=config.manager_env.cuda_graphs)
        self._last_saved = -1
        self._phase_s = (0.0, 0.0)
        if self.console is not None:
            mode = "resume" if config.resume else ("finetune" if start is not None else "new run")
            source = f" from {start.path}" if start is not None else ""
            print(
                f"sonic-train: {mode}{source} at iteration {self.iteration}; {config.num_envs} envs x "
                f"{ctx.world_size} process(es) on {self.device}; run folder {self.run_dir}",
                file=self.console,
                flush=True,
            )

    # ------------------------------------------------------------------ state
    def generators(self) -> dict[str, torch.Generator]:
        """The named generators a resume restores besides the global ones."""
        command = self.env.command
        return {
            "minibatch": self.learner.generator,
            "command": command.generator,
            "motion_lib": command.lib.generator,
        }

    def save(self, path: Path | None) -> Path | None:
        """Write a training checkpoint (collective; rank 0 writes)."""
        return save_training(
            path,
            ctx=self.ctx,
            policy=self.policy,
            policy_io=self.env.policy_io,
            learner=self.learner,
            iteration=self.iteration,
            rng=capture_rng_state(self.generators()),
            adaptive_sampling=self.env.command.lib.sampler.state_dict(),
            config=self.config,
        )

    # ------------------------------------------------------------------ one iteration
    @torch.no_grad()
    def collect(self) -> None:
        """Fill the rollout storage with ``num_steps_per_env`` steps of every env."""
        self.storage.clear()
        self.metrics.start()
        for _ in range(self.ppo.num_steps_per_env):
            observed, act = self.actor(self.obs)
            step = self.env.step(act.actions)
            self.storage.add(
                observed, act.actions, act.log_prob, act.mean, step.rewards, step.dones, step.time_outs
            )
            self.metrics.record(
                step.rewards, step.dones, tracking_error_metrics(tracking_state(self.env.env)), step.extras
            )
            self.obs = step.obs
        self.storage.set_action_std(self.policy.std)

    def learn(self) -> UpdateStats:
        """Normaliser, returns and the PPO epochs on the collected rollout."""
        self.learner.update_normalizer(self.storage.observations["critic"])
        self.learner.compute_returns(self.storage, self.obs.critic)
        return self.learner.update(self.storage)

    def after_iteration(self) -> None:
        """Adaptive sampling (counts averaged over ranks every 200 iterations) and the periodic redraw."""
        lib = self.env.command.lib
        if self.ctx.distributed and self.iteration % ADAPTIVE_SYNC_EVERY == 0:
            sampler = lib.sampler
            sampler.set_counts(
                self.ctx.all_reduce_mean(sampler.failures), self.ctx.all_reduce_mean(sampler.episodes)
            )
        self.env.update_sampling()
        if self.iteration % lib.cfg.resample_every == 0 and self.env.command.redraw():
            self.obs = self.env.reset()
            self.metrics.reset_episodes()

    def check_sync(self) -> dict[str, list[int]]:
        """Checksums across ranks: synced state must agree (raises ``RankSyncError``), rollouts should differ."""
        policy = self.policy
        assert policy.critic is not None
        actor = {n: p for n, p in policy.named_parameters() if not n.startswith("critic.") and n != "std"}
        groups = {
            "actor": tensors_checksum(actor),
            "critic": module_checksum(policy.critic.module),
            "normalizer": module_checksum(policy.critic.normalizer),
            "std": tensors_checksum({"std": policy.std}),
            "rollout": tensors_checksum(
                {"policy": self.storage.observations["policy"], "rewards": self.storage.rewards}
            ),
        }
        report = {name: gather_checksums(self.ctx, c) for name, c in groups.items()}
        digests = {name: [c.digest for c in checks] for name, checks in report.items()}
        if self.run_dir is not None:
            with open(self.run_dir / "rank_sync.jsonl", "a") as handle:
                handle.write(json.dumps({"iteration": self.iteration, **digests}) + "\n")
        for name in ("actor", "critic", "normalizer", "std"):
            assert_ranks_identical(report[name], f"{name} after iteration {self.iteration}")
        return digests

    def _peak_gpu_gib(self) -> float | None:
        """The largest peak CUDA allocation over ranks, GiB (collective; None off CUDA)."""
        if not self.device.startswith("cuda"):
            return None
        peak = torch.tensor([torch.cuda.max_memory_allocated(self.device) / 2**30], device=self.device)
        return float(self.ctx.all_gather(peak).max())

    def log(self, stats: UpdateStats, seconds: float) -> None:
        """Reduce this iteration's statistics over ranks and log them on rank 0."""
        means = self.metrics.reduce(self.ctx)
        peak_gib = self._peak_gpu_gib()
        losses = torch.stack([stats.surrogate, stats.value, stats.entropy, stats.grad_norm.to(stats.value)])
        aux_names = sorted(stats.aux)
        packed = (
            torch.cat([losses.double(), torch.stack([stats.aux[k] for k in aux_names]).double()])
            if aux_names
            else losses.double()
        )
        packed = self.ctx.all_reduce_mean(packed).tolist()
        if not self.ctx.is_main:
            return
        steps = self.ppo.num_steps_per_env * self.env.num_envs * self.ctx.world_size
        episode = {k: v for k, v in means.items() if k.startswith("Episode_")}
        self.logger.log_iteration(
            IterationStats(
                iteration=self.iteration,
                total_iterations=self.ppo.num_learning_iterations,
                fps=steps / max(seconds, 1e-9),
                reward_total=means.get("rewards/total", math.nan),
                anchor_pos_err=means.get("rewards/anchor_pos_err", math.nan),
                body_pos_err=means.get("rewards/body_pos_err", math.nan),
                surrogate_loss=packed[0],
                value_loss=packed[1],
                entropy=packed[2],
                learning_rate=stats.lr,
                kl=stats.kl,
                action_std=self.policy.std.detach(),
                aux_losses=dict(zip(aux_names, packed[4:], strict=True)),
                episode_rewards={
                    k.removeprefix("Episode_Reward/"): v for k, v in episode.items() if "Reward/" in k
                },
                episode_terminations={
                    k.removeprefix("Episode_Termination/"): v
                    for k, v in episode.items()
                    if "Termination/" in k
                },
                episode_length=means.get("Episode/length"),
                codebook_usage=codebook_usage(self.policy, self.obs.tokenizer),
                iteration_time_s=seconds,
                extra={
                    "train/grad_norm": packed[3],
                    "train/skipped_steps": stats.skipped_steps,
                    "throughput/collect_s": self._phase_s[0],
                    "throughput/learn_s": self._phase_s[1],
                }
                | ({} if peak_gib is None else {"memory/peak_gpu_gib": peak_gib}),
            )
        )

    def maybe_save(self, final: bool = False) -> None:
        """``model_step_XXXXXX.pt`` every save_interval, ``last.pt`` every last_interval and at the end."""
        it, cfg = self.iteration, self.config
        run_dir = self.run_dir
        if it % cfg.save_interval == 0 and it > 0:
            self.save(run_dir / checkpoint_name(it) if run_dir else None)
        if (it % cfg.last_interval == 0 or final) and it != self._last_saved:
            self.save(run_dir / LAST if run_dir else None)
            self._last_saved = it

    # ------------------------------------------------------------------ the loop
    def train(self, until: int | None = None) -> int:
        """Run iterations until ``until`` (default ``num_learning_iterations``) are done; returns the count.

        Writes ``last.pt`` at the end. May be called again with a larger ``until`` to continue.
        """
        target = self.ppo.num_learning_iterations if until is None else until
        began = time.monotonic()
        while self.iteration < target:
            start = time.monotonic()
            self.collect()
            self._synchronize()
            collected = time.monotonic()
            stats = self.learn()
            self._synchronize()
            self._phase_s = (collected - start, time.monotonic() - collected)
            self.iteration += 1
            self.after_iteration()
            seconds = time.monotonic() - start
            if self.config.check_rank_sync and self.iteration % self.config.check_rank_sync == 0:
                self.check_sync()
            self.log(stats, seconds)
            self.maybe_save()
            if self._out_of_time(time.monotonic() - began):
                if self.console is not None:
                    print(
                        f"sonic-train: max_train_time_s={self.config.max_train_time_s:g} reached after "
                        f"{self.iteration - self.start_iteration} iterations",
                        file=self.console,
                        flush=True,
                    )
                break
        self.maybe_save(final=True)
        return self.iteration

    def _synchronize(self) -> None:
        """Wait for this process's device work (splits the iteration time into collect and learn)."""
        if self.device.startswith("cuda"):
            torch.cuda.synchronize(self.device)

    def _out_of_time(self, elapsed_s: float) -> bool:
        """Whether ``max_train_time_s`` is spent, by rank 0's clock (broadcast: all ranks stop together)."""
        limit = self.config.max_train_time_s
        if limit is None:
            return False
        flag = torch.tensor([1.0 if elapsed_s >= limit else 0.0], device=self.device)
        return bool(self.ctx.broadcast(flag).item() > 0.5)

    def close(self) -> None:
        """Close the logger and the simulation (one env per process)."""
        self.logger.close()
        self.env.close()
