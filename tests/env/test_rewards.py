"""SONIC's reward terms on tiny hand-built tensors: each against a closed-form value.

The terms are pure functions; the adapters are exercised through a stand-in env object that carries
the motion command's tensors (``command_manager.get_term("motion")``), so body/anchor indexing is
checked without a simulator.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from sonic_data import g1
from sonic_data.rotations import axis_angle_to_quat, quat_mul, quat_normalize
from sonic_env.mdp import rewards as R
from sonic_env.mdp_config import RewardsConfig

N, B, P = 4, len(g1.TRACKED_BODY_NAMES), 3
CFG = RewardsConfig()


class TrackingDouble(SimpleNamespace):
    """The motion command's tensors; the pelvis reads derive from ``robot_body_*`` as ``MotionCommand``'s do."""

    robot_anchor_pos_w = property(lambda self: self.robot_body_pos_w[:, 0])
    robot_anchor_quat_w = property(lambda self: self.robot_body_quat_w[:, 0])


def reference_state(seed: int = 0) -> TrackingDouble:
    """A random reference with the robot exactly on it (robot tensors are copies)."""
    gen = torch.Generator().manual_seed(seed)
    pos = torch.randn(N, B, 3, generator=gen)
    quat = quat_normalize(torch.randn(N, B, 4, generator=gen))
    lin = torch.randn(N, B, 3, generator=gen)
    ang = torch.randn(N, B, 3, generator=gen)
    points = torch.randn(N, P, 3, generator=gen)
    return TrackingDouble(
        ref_body_pos_w=pos,
        ref_body_quat_w=quat,
        ref_body_lin_vel_w=lin,
        ref_body_ang_vel_w=ang,
        body_pos_relative_w=pos.clone(),
        body_quat_relative_w=quat.clone(),
        robot_body_pos_w=pos.clone(),
        robot_body_quat_w=quat.clone(),
        robot_body_lin_vel_w=lin.clone(),
        robot_body_ang_vel_w=ang.clone(),
        ref_reward_points_local=points,
        robot_reward_points_local=points.clone(),
        running_ref_root_height=torch.full((N,), 0.75),
        frames=torch.zeros(N, dtype=torch.long),
        clip_lengths=torch.full((N,), 100, dtype=torch.long),
    )


def as_env(state: SimpleNamespace) -> Any:
    """A stand-in for the env: only ``command_manager.get_term('motion')`` is read by the tracking terms."""

    def get_term(name: str) -> SimpleNamespace:
        assert name == "motion"
        return state

    return SimpleNamespace(command_manager=SimpleNamespace(get_term=get_term))


def rotate(q: torch.Tensor, angle: float, axis: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> torch.Tensor:
    """``q`` rotated further by ``angle`` about a world ``axis`` (wxyz)."""
    rot = axis_angle_to_quat(torch.tensor(axis) * angle)
    return quat_mul(rot.expand_as(q), q)


TRACKING_ADAPTERS = {
    "tracking_anchor_pos": R.tracking_anchor_pos,
    "tracking_anchor_ori": R.tracking_anchor_ori,
    "tracking_relative_body_pos": R.tracking_relative_body_pos,
    "tracking_relative_body_ori": R.tracking_relative_body_ori,
    "tracking_body_linvel": R.tracking_body_linvel,
    "tracking_body_angvel": R.tracking_body_angvel,
    "tracking_vr_5point_local": R.tracking_vr_5point_local,
}


def test_config_block_is_sonics_base_5point_local_feet_acc() -> None:
    """Weights and sigmas equal SONIC_REFERENCE §3, with the experiments' feet_acc override −2.5e-6."""
    expected = {
        "tracking_anchor_pos": (0.5, 0.3),
        "tracking_anchor_ori": (0.5, 0.4),
        "tracking_relative_body_pos": (1.0, 0.3),
        "tracking_relative_body_ori": (1.0, 0.4),
        "tracking_body_linvel": (1.0, 1.0),
        "tracking_body_angvel": (1.0, 3.14),
        "tracking_vr_5point_local": (2.0, 0.1),
    }
    for name, (weight, std) in expected.items():
        term = getattr(CFG, name)
        assert (term.weight, term.std) == (weight, std), name
    assert CFG.action_rate_l2.weight == -0.1
    assert CFG.joint_limit.weight == -10.0
    assert (CFG.undesired_contacts.weight, CFG.undesired_contacts.threshold) == (-0.1, 1.0)
    assert (CFG.anti_shake_ang_vel.weight, CFG.anti_shake_ang_vel.threshold) == (-5e-3, 1.5)
    assert CFG.anti_shake_ang_vel.body_names == ("left_wrist_yaw_link", "right_wrist_yaw_link")
    assert CFG.feet_acc.weight == -2.5e-6
    assert CFG.feet_acc.joint_names == (
        "left_ankle_pitch_joint",
        "left_ankle_roll_joint",
        "right_ankle_pitch_joint",
        "right_ankle_roll_joint",
    )


def test_undesired_contact_bodies_exclude_ankle_roll_wrist_yaw_and_elbow() -> None:
    """All 30 bodies except the 6 SONIC exempts (feet, hands, elbows) are penalised."""
    names = set(CFG.undesired_contacts.body_names)
    exempt = {f"{s}_{b}_link" for s in ("left", "right") for b in ("ankle_roll", "wrist_yaw", "elbow")}
    assert names == set(g1.BODY_NAMES) - exempt
    assert len(names) == len(g1.BODY_NAMES) - 6


def test_overrides_land_on_weight_and_std() -> None:
    """``rewards.<term>.weight`` / ``.std`` set validated fields; an unknown key or a bad sigma is an error."""
    cfg = RewardsConfig.model_validate(
        {"feet_acc": {"weight": -1e-6}, "tracking_anchor_pos": {"weight": 0.5, "std": 0.2}}
    )
    assert cfg.feet_acc.weight == -1e-6 and cfg.tracking_anchor_pos.std == 0.2
    assert cfg.tracking_anchor_ori == CFG.tracking_anchor_ori
    with pytest.raises(ValueError, match="tracking_anchor_poss"):
        RewardsConfig.model_validate({"tracking_anchor_poss": {"weight": 1.0, "std": 0.3}})
    with pytest.raises(ValueError, match="std"):
        RewardsConfig.model_validate({"tracking_anchor_pos": {"weight": 1.0, "std": 0.0}})


def test_robot_on_reference_gets_the_maximum_of_every_tracking_reward() -> None:
    """Every tracking term is exactly 1 (its maximum) when the robot matches its reference."""
    env = as_env(reference_state())
    for name, term in TRACKING_ADAPTERS.items():
        value = term(env, std=getattr(CFG, name).std)
        torch.testing.assert_close(value, torch.ones(N), atol=1e-6, rtol=0, msg=name)


def test_pelvis_offset_of_one_sigma_gives_exp_minus_one() -> None:
    """A 0.3 m pelvis offset gives exp(−1) for tracking_anchor_pos (σ = 0.3), in any direction."""
    state = reference_state()
    direction = torch.nn.functional.normalize(
        torch.randn(N, 3, generator=torch.Generator().manual_seed(1)), dim=-1
    )
    state.robot_body_pos_w[:, 0] += 0.3 * direction
    value = R.tracking_anchor_pos(as_env(state), std=CFG.tracking_anchor_pos.std)
    torch.testing.assert_close(value, torch.full((N,), math.exp(-1.0)), atol=1e-6, rtol=0)
    # Only the anchor (index 0) counts: moving another body changes nothing.
    state = reference_state()
    state.robot_body_pos_w[:, 1] += 0.3
    torch.testing.assert_close(R.tracking_anchor_pos(as_env(state), std=0.3), torch.ones(N))


def test_pelvis_rotation_of_one_sigma_gives_exp_minus_one() -> None:
    """A 0.4 rad pelvis rotation (wxyz) gives exp(−1) for tracking_anchor_ori (σ = 0.4)."""
    state = reference_state()
    state.robot_body_quat_w[:, 0] = rotate(state.ref_body_quat_w[:, 0], 0.4, (1.0, 0.0, 0.0))
    value = R.tracking_anchor_ori(as_env(state), std=CFG.tracking_anchor_ori.std)
    torch.testing.assert_close(value, torch.full((N,), math.exp(-1.0)), atol=1e-5, rtol=0)


def test_relative_body_terms_average_over_the_14_bodies() -> None:
    """One body off by d: exp(−d²/(14σ²)); all bodies off by σ: exp(−1)."""
    state = reference_state()
    state.robot_body_pos_w[:, 5, 2] += 0.6
    value = R.tracking_relative_body_pos(as_env(state), std=0.3)
    torch.testing.assert_close(value, torch.full((N,), math.exp(-0.36 / (14 * 0.09))), atol=1e-6, rtol=0)
    state = reference_state()
    state.robot_body_quat_w = rotate(state.body_quat_relative_w, 0.4, (0.0, 1.0, 0.0))
    value = R.tracking_relative_body_ori(as_env(state), std=0.4)
    torch.testing.assert_close(value, torch.full((N,), math.exp(-1.0)), atol=1e-5, rtol=0)
    state = reference_state()
    state.robot_body_quat_w[:, 13] = rotate(state.body_quat_relative_w[:, 13], 0.8)
    value = R.tracking_relative_body_ori(as_env(state), std=0.4)
    torch.testing.assert_close(value, torch.full((N,), math.exp(-0.64 / (14 * 0.16))), atol=1e-5, rtol=0)


def test_relative_terms_read_the_relative_reference_not_the_world_reference() -> None:
    """tracking_relative_body_pos compares with body_pos_relative_w: a world-reference shift alone is free."""
    state = reference_state()
    state.ref_body_pos_w += 5.0
    torch.testing.assert_close(R.tracking_relative_body_pos(as_env(state), std=0.3), torch.ones(N))


def test_velocity_terms_use_their_sigmas() -> None:
    """Every body 1 m/s off gives exp(−1) (σ 1.0); every body 3.14 rad/s off gives exp(−1) (σ 3.14)."""
    state = reference_state()
    state.robot_body_lin_vel_w[..., 0] += 1.0
    state.robot_body_ang_vel_w[..., 1] -= 3.14
    env = as_env(state)
    e1 = torch.full((N,), math.exp(-1.0))
    torch.testing.assert_close(R.tracking_body_linvel(env, std=1.0), e1, atol=1e-6, rtol=0)
    torch.testing.assert_close(R.tracking_body_angvel(env, std=3.14), e1, atol=1e-6, rtol=0)


def test_reward_points_average_over_points() -> None:
    """One of the 3 local reward points 0.1 m off gives exp(−1/3) (σ 0.1)."""
    state = reference_state()
    state.robot_reward_points_local[:, 2, 0] += 0.1
    value = R.tracking_vr_5point_local(as_env(state), std=CFG.tracking_vr_5point_local.std)
    torch.testing.assert_close(value, torch.full((N,), math.exp(-1.0 / 3.0)), atol=1e-6, rtol=0)


def test_penalty_terms_against_hand_computed_values() -> None:
    """action rate, soft-limit violation, contact count, anti-shake and joint acceleration on small cases."""
    torch.testing.assert_close(
        R.action_rate_l2(torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[0.0, 0.0], [0.5, 0.0]])),
        torch.tensor([5.0, 0.25]),
    )
    limits = torch.tensor([[-1.0, 1.0], [-1.0, 1.0], [0.0, 2.0]]).expand(2, 3, 2)
    torch.testing.assert_close(
        R.joint_pos_limit_violation(torch.tensor([[1.5, -1.2, 1.0], [0.0, 0.0, 2.0]]), limits),
        torch.tensor([0.7, 0.0]),
    )
    history = torch.zeros(2, 3, 3, 3)  # (envs, history, bodies, xyz)
    history[0, 2, 0] = torch.tensor([0.0, 1.2, 1.6])  # 2 N, oldest step: counts
    history[0, 0, 1, 2] = 1.0  # exactly the threshold: does not count (strict >)
    history[1, 1, :, 0] = 3.0  # all three bodies once
    torch.testing.assert_close(R.undesired_contact_count(history, 1.0), torch.tensor([1.0, 3.0]))
    ang_vel = torch.tensor([[[0.0, 2.5, 0.0], [1.0, 0.0, 0.0]], [[0.0, 0.0, 1.5], [0.0, 0.0, -3.5]]])
    torch.testing.assert_close(R.anti_shake_penalty(ang_vel, 1.5), torch.tensor([0.5, 2.0]))
    torch.testing.assert_close(
        R.joint_acc_l2(torch.tensor([[3.0, 4.0], [0.0, -1.0]])), torch.tensor([25.0, 1.0])
    )


def test_action_rate_adapter_clips_actions_like_sonic() -> None:
    """Actions beyond ±20 count as ±20 (SONIC clips before the env)."""
    am = SimpleNamespace(action=torch.tensor([[100.0, 1.0]]), prev_action=torch.tensor([[0.0, -30.0]]))
    value = R.clipped_action_rate_l2(SimpleNamespace(action_manager=am), action_clip=20.0)  # pyright: ignore[reportArgumentType]
    torch.testing.assert_close(value, torch.tensor([20.0**2 + 21.0**2]))


def test_error_metrics_are_in_metres() -> None:
    """anchor_pos_err is the pelvis distance; body_pos_err the mean distance to the relative reference."""
    state = reference_state()
    state.robot_body_pos_w[:, 0, 0] += 0.3
    state.robot_body_pos_w[:, 3, 1] -= 0.7
    metrics = R.tracking_error_metrics(state)  # pyright: ignore[reportArgumentType]
    assert set(metrics) == {"rewards/anchor_pos_err", "rewards/body_pos_err"}
    torch.testing.assert_close(metrics["rewards/anchor_pos_err"], torch.full((N,), 0.3), atol=1e-6, rtol=0)
    torch.testing.assert_close(metrics["rewards/body_pos_err"], torch.full((N,), 1.0 / 14), atol=1e-6, rtol=0)


def test_reward_terms_cfg_carries_the_config_block() -> None:
    """The Isaac Lab terms have the block's names, weights and sigmas; bodies/joints resolve by name."""
    cfg = R.reward_terms_cfg(RewardsConfig.model_validate({"feet_acc": {"weight": -1e-6}}))
    terms = {k: v for k, v in vars(cfg).items() if v is not None}
    assert set(terms) == set(RewardsConfig.model_fields)
    for name in TRACKING_ADAPTERS:
        assert terms[name].weight == getattr(CFG, name).weight
        assert terms[name].params == {"std": getattr(CFG, name).std, "command_name": "motion"}
    assert terms["feet_acc"].weight == -1e-6
    assert terms["feet_acc"].params["asset_cfg"].joint_names == list(CFG.feet_acc.joint_names)
    assert terms["undesired_contacts"].params["sensor_cfg"].name == "contact_forces"
    assert terms["anti_shake_ang_vel"].params["asset_cfg"].body_names == list(
        CFG.anti_shake_ang_vel.body_names
    )
    assert terms["action_rate_l2"].params == {"action_clip": 20.0}
