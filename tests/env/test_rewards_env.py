"""SONIC's rewards, terminations and events wired into the real env (motion command on generated sample clips).

Config level (no simulator): ``build_env_cfg`` carries the 12 reward terms, the termination preset
selected by name, and the events (push only in train mode). Simulator level: one 4-env CPU env in
eval + replay mode, where the motion command writes every robot onto its reference each step, so
each step's tracking rewards must be near their maxima (the robot drifts only for the 0.02 s of
physics between the write and the reward), no failure term fires, and Isaac Lab logs
``Episode_Reward/<term>`` and ``Episode_Termination/<term>`` for every term.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

from sonic_data import g1
from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_env.env_cfg import build_env_cfg
from sonic_env.mdp.rewards import tracking_error_metrics
from sonic_env.mdp_config import RewardsConfig

NUM_ENVS = 4
STEPS = 20
TRACKING = (
    "tracking_anchor_pos",
    "tracking_anchor_ori",
    "tracking_relative_body_pos",
    "tracking_relative_body_ori",
    "tracking_vr_5point_local",
)


def _active(group: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(group).items() if v is not None}


def test_env_cfg_carries_rewards_terminations_and_events(sample_env_config: Callable[..., EnvConfig]) -> None:
    """Train: 12 rewards, the 5 training terminations, 5 events; eval preset: no foot term; eval mode: no push."""
    train = build_env_cfg(sample_env_config())
    assert set(_active(train.rewards)) == set(RewardsConfig.model_fields)
    assert train.rewards.feet_acc is not None and train.rewards.feet_acc.weight == -2.5e-6
    assert set(_active(train.terminations)) == {
        "anchor_pos",
        "anchor_ori_full",
        "ee_body_pos",
        "foot_pos_xyz",
        "time_out",
    }
    assert set(_active(train.events)) == {
        "physics_material",
        "add_joint_default_pos",
        "base_com",
        "randomize_rigid_body_mass",
        "push_robot",
    }
    evaluation = build_env_cfg(sample_env_config(mode="eval", terminations="tracking/eval"))
    assert set(_active(evaluation.terminations)) == {
        "anchor_pos",
        "anchor_ori_full",
        "ee_body_pos",
        "time_out",
    }
    assert evaluation.terminations.anchor_pos is not None
    assert evaluation.terminations.anchor_pos.params["threshold"] == 0.25
    assert "push_robot" not in _active(evaluation.events)
    bare = build_env_cfg(sample_env_config(events=None, terminations=None))
    assert not _active(bare.events) and not _active(bare.terminations)


@pytest.fixture(scope="module")
def env(sample_env_config: Callable[..., EnvConfig]) -> Iterator[SonicEnv]:
    """Eval + replay on the sample clips, eval terminations, SONIC's rewards and events."""
    built = SonicEnv(sample_env_config(mode="eval", replay=True, terminations="tracking/eval"))
    yield built
    built.close()


def test_robot_replayed_on_its_reference_earns_near_maximal_tracking_rewards(env: SonicEnv) -> None:
    """Per step, each tracking term is > 0.9 of its weight; no failure term fires; errors are millimetres."""
    env.reset()
    manager = env.env.reward_manager
    names = list(manager.active_terms)
    weights = torch.tensor([manager.get_term_cfg(n).weight for n in names])
    for _ in range(STEPS):
        step = env.step(torch.zeros(NUM_ENVS, g1.NUM_JOINTS))
        per_term = torch.tensor(
            [[v[0] for _, v in manager.get_active_iterable_terms(i)] for i in range(NUM_ENVS)]
        )  # (envs, terms): weight · value, before the dt factor
        value = per_term / weights
        for name in TRACKING:
            assert (value[:, names.index(name)] > 0.9).all(), (name, value[:, names.index(name)])
        assert not (step.dones & ~step.time_outs).any()
    metrics = tracking_error_metrics(env.command)  # pyright: ignore[reportArgumentType]
    assert (metrics["rewards/anchor_pos_err"] < 0.02).all()
    assert (metrics["rewards/body_pos_err"] < 0.02).all()


def test_episode_sums_are_logged_per_term(env: SonicEnv) -> None:
    """After a reset Isaac Lab's extras hold Episode_Reward/<term> for all 12 and Episode_Termination/<term>."""
    env.reset()
    for _ in range(3):
        env.step(torch.zeros(NUM_ENVS, g1.NUM_JOINTS))
    env.env.reset()
    log = env.env.extras["log"]
    for name in RewardsConfig.model_fields:
        assert f"Episode_Reward/{name}" in log, name
    for name in ("anchor_pos", "anchor_ori_full", "ee_body_pos", "time_out"):
        assert f"Episode_Termination/{name}" in log, name
    assert float(log["Episode_Reward/tracking_anchor_pos"]) > 0.0
