"""Resume and finetune through the real Trainer on the Isaac Lab env (CPU, 4 envs, small preset).

One 2-iteration run is shared by the module. Resume must restore weights, optimiser state, lr, iteration,
the RNG streams and the adaptive-sampling counts exactly; the proof is a PPO update on one FIXED rollout
buffer: the uninterrupted learner and the resumed one must end with bit-identical parameters. Finetune
(also from a GEAR-SONIC file, converted in memory) starts at iteration 0 in a new folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from sonic_env.policy_io import g1_policy_io
from sonic_model import ContractMismatchError, UniversalTokenPolicy, save_policy
from sonic_model import preset as model_preset
from sonic_train.checkpoint_io import CheckpointFormatError, load_checkpoint
from sonic_train.dist import DistContext
from sonic_train.logger import read_scalars
from sonic_train.train import resolve_config
from sonic_train.trainer import Trainer


@dataclass
class Trained:
    trainer: Trainer
    args: list[str]
    adaptive: dict[str, torch.Tensor]
    episode_steps_at_end: torch.Tensor


@pytest.fixture(scope="module")
def trained(
    small_run_args: Callable[..., list[str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Trained]:
    """2 iterations with the Trainer API; the env is closed afterwards, the learner and last rollout stay.

    Two of the four sample clips are resident at a time and a new set is drawn every 2 iterations.
    """
    lib = "++manager_env.commands.motion.motion_lib_cfg"
    args = [
        *small_run_args(tmp_path_factory.mktemp("resume") / "logs_rl", 2),
        f"{lib}.max_resident_clips=2",
        f"{lib}.resample_every=2",
    ]
    trainer = Trainer(resolve_config(args)[0], DistContext(), console=None)
    trainer.train()
    sampler = trainer.env.command.lib.sampler
    adaptive = {"failures": sampler.failures.clone(), "episodes": sampler.episodes.clone()}
    steps = trainer.env.env.episode_length_buf.clone()
    trainer.close()
    yield Trained(trainer, args, adaptive, steps)


def _params(policy: UniversalTokenPolicy) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in policy.state_dict().items()}


def _optimizer_tensors(trainer: Trainer) -> list[torch.Tensor]:
    state = trainer.learner.optimizer.main.state_dict()["state"]
    return [t for s in state.values() for t in s.values()]


def test_resume_restores_everything_and_a_fixed_buffer_update_matches(trained: Trained) -> None:
    """Resumed state equals the uninterrupted one; one PPO update on the same buffer gives identical weights."""
    first = trained.trainer
    assert first.run_dir is not None
    last = first.run_dir / "last.pt"
    resumed = Trainer(
        resolve_config([*trained.args, f"+checkpoint={last}", "++resume=True"])[0], DistContext(), None
    )
    try:
        assert resumed.run_dir == first.run_dir and resumed.iteration == first.iteration == 2
        assert resumed.learner.lr == first.learner.lr
        a, b = _params(first.policy), _params(resumed.policy)
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert all(
            torch.equal(x, y)
            for x, y in zip(_optimizer_tensors(first), _optimizer_tensors(resumed), strict=True)
        )
        assert torch.equal(resumed.learner.generator.get_state(), first.learner.generator.get_state())
        sampler = resumed.env.command.lib.sampler
        assert torch.equal(sampler.failures, trained.adaptive["failures"])
        assert torch.equal(sampler.episodes, trained.adaptive["episodes"])

        buffer = first.storage  # the fixed rollout: values, returns and advantages of iteration 2
        stats_first = first.learner.update(buffer)
        stats_resumed = resumed.learner.update(buffer)
        a, b = _params(first.policy), _params(resumed.policy)
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert stats_first.lr == stats_resumed.lr and torch.equal(stats_first.kl, stats_resumed.kl)

        resumed.train(until=3)  # continues in the same folder and the same TensorBoard series
    finally:
        resumed.close()
    assert load_checkpoint(last, require_training=True)["training"]["iteration"] == 3
    assert [s for s, _ in read_scalars(first.run_dir)["rewards/total"]] == [1, 2, 3]


def test_resident_set_redraw_resets_every_env(trained: Trained) -> None:
    """After iteration 2 (resample_every=2, 2 of 4 clips resident) every env restarted its episode."""
    assert trained.trainer.iteration == 2
    assert int(trained.episode_steps_at_end.max()) == 0
    assert int(trained.trainer.metrics.episode_steps.max()) == 0


def _gear_sonic_file(policy: UniversalTokenPolicy, path: Path) -> Path:
    """A GEAR-SONIC checkpoint of ``policy`` with SONIC_REFERENCE §12's key names."""
    assert policy.critic is not None
    actor = {f"actor_module.{k}" if k != "std" else k: v for k, v in policy.actor_state_dict().items()}
    value = {f"critic_module.{k}": v for k, v in policy.critic.mlp_state_dict().items()}
    value |= {f"running_mean_std.{k}": v for k, v in policy.critic.normalizer.state_dict().items()}
    torch.save({"policy_state_dict": actor, "value_state_dict": value, "optimizer_state_dict": {}}, path)
    return path


def test_finetune_from_gear_sonic_starts_at_zero_in_a_new_folder(trained: Trained, tmp_path: Path) -> None:
    """+checkpoint=<GEAR-SONIC .pt>: converted in memory, its weights loaded, iteration 0, a fresh run folder."""
    torch.manual_seed(11)
    small = model_preset("small")
    source = UniversalTokenPolicy(small.model, small.contract)
    with torch.no_grad():
        source.std.fill_(0.123)
        assert source.critic is not None
        source.critic.normalizer.running_mean.uniform_()
    path = _gear_sonic_file(source, tmp_path / "gear_sonic_last.pt")
    trainer = Trainer(resolve_config([*trained.args, f"+checkpoint={path}"])[0], DistContext(), None)
    try:
        assert trainer.iteration == 0 and trainer.run_dir != trained.trainer.run_dir
        assert trainer.run_dir is not None and (trainer.run_dir / "config.yaml").is_file()
        mine, theirs = trainer.policy.state_dict(), source.state_dict()
        assert all(torch.equal(mine[k], theirs[k]) for k in theirs)
    finally:
        trainer.close()


def test_finetune_without_exp_builds_on_the_stored_config(trained: Trained) -> None:
    """+checkpoint=<our last.pt> alone: the run's stored config is the base, resume stays off."""
    assert trained.trainer.run_dir is not None
    last = trained.trainer.run_dir / "last.pt"
    config, start = resolve_config([f"+checkpoint={last}", "num_envs=8"])
    assert start is not None and start.training is not None
    assert config.experiment_name == "small_test" and config.num_envs == 8
    assert config.checkpoint == str(last) and config.resume is False
    assert (
        config.manager_env.commands.motion.motion_lib_cfg.motion_file
        == trained.trainer.config.manager_env.commands.motion.motion_lib_cfg.motion_file
    )


def test_contract_mismatch_is_refused_naming_the_terms(trained: Trained, tmp_path: Path) -> None:
    """A small_bones_seed checkpoint for a small (release-layout) run: error lists the soma terms."""
    other = model_preset("small_bones_seed")
    path = save_policy(
        tmp_path / "bones.pt",
        UniversalTokenPolicy(other.model, other.contract),
        g1_policy_io(other.contract.action_joint_names),
    )
    with pytest.raises(ContractMismatchError, match="soma"):
        Trainer(resolve_config([*trained.args, f"+checkpoint={path}"])[0], DistContext(), None)


def test_resume_from_a_weights_only_file_is_refused(trained: Trained, tmp_path: Path) -> None:
    """++resume=True needs our training state; a GEAR-SONIC file has none."""
    small = model_preset("small")
    path = _gear_sonic_file(UniversalTokenPolicy(small.model, small.contract), tmp_path / "gear.pt")
    with pytest.raises(CheckpointFormatError, match="no training state"):
        Trainer(
            resolve_config([*trained.args, f"+checkpoint={path}", "++resume=True"])[0], DistContext(), None
        )
