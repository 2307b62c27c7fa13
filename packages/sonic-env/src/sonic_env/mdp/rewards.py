"""SONIC's reward terms (``tracking/base_5point_local_feet_acc``, SONIC_REFERENCE §3) and tracking-error metrics.

Each term is a small pure function of tensors, with a thin Isaac Lab adapter ``term(env, ...)`` that
reads the motion command term (``sonic_env.mdp.commands.MotionCommand``, registered as ``"motion"``)
or the robot/contact-sensor data and calls it. Weights and sigmas live in
:class:`sonic_env.mdp_config.RewardsConfig`; :func:`reward_terms_cfg` turns that block into Isaac Lab's
``RewardTermCfg`` objects. Isaac Lab's ``RewardManager`` multiplies every term by ``weight · step_dt``
(0.02 s) and logs its episode sum as ``Episode_Reward/<term>``.

Conventions of the command's tensors: world frame with env origins, quaternions ``wxyz``, bodies in
``sonic_data.g1.TRACKED_BODY_NAMES`` order (pelvis = anchor = index 0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

import torch
from isaaclab.managers import RewardTermCfg, SceneEntityCfg
from isaaclab.utils import configclass
from torch import Tensor

from sonic_data.rotations import quat_error_angle
from sonic_env.actions import ACTION_CLIP
from sonic_env.mdp.observations import entity_ids
from sonic_env.mdp_config import RewardsConfig, TrackingRewardConfig

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

MOTION_COMMAND = "motion"
"""Name of the motion command term in Isaac Lab's command manager."""

ANCHOR = 0
"""Index of the anchor body (pelvis) among the tracked bodies."""


class TrackingState(Protocol):
    """The motion command's attributes that the reward and termination terms read (all ``num_envs`` first)."""

    ref_body_pos_w: Tensor  # (N, 14, 3)
    ref_body_quat_w: Tensor  # (N, 14, 4) wxyz
    ref_body_lin_vel_w: Tensor  # (N, 14, 3)
    ref_body_ang_vel_w: Tensor  # (N, 14, 3)
    body_pos_relative_w: Tensor  # (N, 14, 3)
    body_quat_relative_w: Tensor  # (N, 14, 4) wxyz
    robot_body_pos_w: Tensor  # (N, 14, 3)
    robot_body_quat_w: Tensor  # (N, 14, 4) wxyz
    robot_anchor_pos_w: Tensor  # (N, 3), robot_body_pos_w[:, ANCHOR]
    robot_anchor_quat_w: Tensor  # (N, 4) wxyz, robot_body_quat_w[:, ANCHOR]
    robot_body_lin_vel_w: Tensor  # (N, 14, 3)
    robot_body_ang_vel_w: Tensor  # (N, 14, 3)
    ref_reward_points_local: Tensor  # (N, P, 3)
    robot_reward_points_local: Tensor  # (N, P, 3)
    running_ref_root_height: Tensor  # (N,)
    frames: Tensor  # (N,) long
    clip_lengths: Tensor  # (N,) long


def tracking_state(env: ManagerBasedRLEnv, command_name: str = MOTION_COMMAND) -> TrackingState:
    """The motion command term of ``env``, typed by the attributes the terms read."""
    return cast(TrackingState, env.command_manager.get_term(command_name))


# --------------------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------------------


def exp_kernel(squared_error: Tensor, std: float) -> Tensor:
    """``exp(−e / σ²)``: 1 for a perfect match, ``exp(−1)`` when ``√e = σ``."""
    return torch.exp(-squared_error / (std * std))


def position_exp(ref_pos: Tensor, robot_pos: Tensor, std: float) -> Tensor:
    """``exp(−‖p_ref − p_robot‖² / σ²)`` of one point per env, ``(N, 3)`` each → ``(N,)``."""
    return exp_kernel((ref_pos - robot_pos).square().sum(-1), std)


def orientation_exp(ref_quat: Tensor, robot_quat: Tensor, std: float) -> Tensor:
    """``exp(−θ² / σ²)`` with θ the geodesic angle between ``wxyz`` quaternions ``(N, 4)`` → ``(N,)``."""
    return exp_kernel(quat_error_angle(ref_quat, robot_quat).square(), std)


def mean_position_exp(ref_pos: Tensor, robot_pos: Tensor, std: float) -> Tensor:
    """``exp(−mean_b ‖p_ref_b − p_robot_b‖² / σ²)`` over points/bodies ``(N, B, 3)`` → ``(N,)``.

    Also the velocity kernels (``tracking_body_linvel`` / ``_angvel``) and the local reward points.
    """
    return exp_kernel((ref_pos - robot_pos).square().sum(-1).mean(-1), std)


def mean_orientation_exp(ref_quat: Tensor, robot_quat: Tensor, std: float) -> Tensor:
    """``exp(−mean_b θ_b² / σ²)`` over bodies, ``wxyz`` quaternions ``(N, B, 4)`` → ``(N,)``."""
    return exp_kernel(quat_error_angle(ref_quat, robot_quat).square().mean(-1), std)


def action_rate_l2(action: Tensor, prev_action: Tensor) -> Tensor:
    """``Σ_j (a_t − a_{t−1})²``, ``(N, A)`` each → ``(N,)``."""
    return (action - prev_action).square().sum(-1)


def joint_pos_limit_violation(joint_pos: Tensor, soft_limits: Tensor) -> Tensor:
    """``Σ_j`` of how far each joint is beyond its soft limits (rad), ``(N, J)`` and ``(N, J, 2)`` → ``(N,)``."""
    below = (soft_limits[..., 0] - joint_pos).clamp_min(0.0)
    above = (joint_pos - soft_limits[..., 1]).clamp_min(0.0)
    return (below + above).sum(-1)


def undesired_contact_count(force_history: Tensor, threshold: float) -> Tensor:
    """Number of bodies whose contact-force norm exceeded ``threshold`` (N) at any step of the history.

    Args:
        force_history: contact forces, ``(N, T, B, 3)`` (Isaac Lab's sensor history layout).
        threshold: force norm (N).

    Returns:
        ``(N,)`` float counts.
    """
    return (force_history.norm(dim=-1).amax(dim=1) > threshold).sum(-1).to(force_history.dtype)


def anti_shake_penalty(ang_vel: Tensor, threshold: float) -> Tensor:
    """``mean_b relu(‖ω_b‖ − threshold)²``, angular velocities ``(N, B, 3)`` (rad/s) → ``(N,)``."""
    return (ang_vel.norm(dim=-1) - threshold).clamp_min(0.0).square().mean(-1)


def joint_acc_l2(joint_acc: Tensor) -> Tensor:
    """``Σ_j q̈_j²``, ``(N, J)`` → ``(N,)``."""
    return joint_acc.square().sum(-1)


def anchor_position_error(ref_anchor_pos: Tensor, robot_anchor_pos: Tensor) -> Tensor:
    """Metric ``rewards/anchor_pos_err``: pelvis position error (m), ``(N, 3)`` each → ``(N,)``."""
    return (ref_anchor_pos - robot_anchor_pos).norm(dim=-1)


def mean_body_position_error(ref_body_pos: Tensor, robot_body_pos: Tensor) -> Tensor:
    """Metric ``rewards/body_pos_err``: mean over bodies of the position error (m), ``(N, B, 3)`` → ``(N,)``."""
    return (ref_body_pos - robot_body_pos).norm(dim=-1).mean(-1)


def tracking_error_metrics(state: TrackingState) -> dict[str, Tensor]:
    """The per-env error metrics the trainer logs (metres), each ``(N,)``.

    ``rewards/anchor_pos_err`` compares the world pelvis positions; ``rewards/body_pos_err`` compares
    the robot's tracked bodies with the relative reference (``body_pos_relative_w``), the frame the
    body rewards are computed in.
    """
    return {
        "rewards/anchor_pos_err": anchor_position_error(
            state.ref_body_pos_w[:, ANCHOR], state.robot_anchor_pos_w
        ),
        "rewards/body_pos_err": mean_body_position_error(state.body_pos_relative_w, state.robot_body_pos_w),
    }


# --------------------------------------------------------------------------------------------------
# Isaac Lab adapters: term(env, **params) -> (num_envs,)
# --------------------------------------------------------------------------------------------------


def tracking_anchor_pos(env: ManagerBasedRLEnv, std: float, command_name: str = MOTION_COMMAND) -> Tensor:
    """Pelvis position in the world frame (z included)."""
    s = tracking_state(env, command_name)
    return position_exp(s.ref_body_pos_w[:, ANCHOR], s.robot_anchor_pos_w, std)


def tracking_anchor_ori(env: ManagerBasedRLEnv, std: float, command_name: str = MOTION_COMMAND) -> Tensor:
    """Pelvis orientation in the world frame."""
    s = tracking_state(env, command_name)
    return orientation_exp(s.ref_body_quat_w[:, ANCHOR], s.robot_anchor_quat_w, std)


def tracking_relative_body_pos(
    env: ManagerBasedRLEnv, std: float, command_name: str = MOTION_COMMAND
) -> Tensor:
    """All 14 tracked bodies against the relative reference (the reference re-anchored at the robot)."""
    s = tracking_state(env, command_name)
    return mean_position_exp(s.body_pos_relative_w, s.robot_body_pos_w, std)


def tracking_relative_body_ori(
    env: ManagerBasedRLEnv, std: float, command_name: str = MOTION_COMMAND
) -> Tensor:
    """All 14 tracked body orientations against the relative reference."""
    s = tracking_state(env, command_name)
    return mean_orientation_exp(s.body_quat_relative_w, s.robot_body_quat_w, std)


def tracking_body_linvel(env: ManagerBasedRLEnv, std: float, command_name: str = MOTION_COMMAND) -> Tensor:
    """Tracked body linear velocities, world frame."""
    s = tracking_state(env, command_name)
    return mean_position_exp(s.ref_body_lin_vel_w, s.robot_body_lin_vel_w, std)


def tracking_body_angvel(env: ManagerBasedRLEnv, std: float, command_name: str = MOTION_COMMAND) -> Tensor:
    """Tracked body angular velocities, world frame."""
    s = tracking_state(env, command_name)
    return mean_position_exp(s.ref_body_ang_vel_w, s.robot_body_ang_vel_w, std)


def tracking_vr_5point_local(
    env: ManagerBasedRLEnv, std: float, command_name: str = MOTION_COMMAND
) -> Tensor:
    """The reward points (SONIC: torso + (0, 0, 0.5) m and both wrists) in each own pelvis frame."""
    s = tracking_state(env, command_name)
    return mean_position_exp(s.ref_reward_points_local, s.robot_reward_points_local, std)


def clipped_action_rate_l2(env: ManagerBasedRLEnv, action_clip: float) -> Tensor:
    """Action rate of the actions clipped to ``±action_clip``, as SONIC clips them before the env."""
    am = env.action_manager
    return action_rate_l2(
        am.action.clamp(-action_clip, action_clip), am.prev_action.clamp(-action_clip, action_clip)
    )


def joint_pos_limits(env: ManagerBasedRLEnv, asset_cfg: SceneEntityCfg) -> Tensor:
    """Violation of the soft joint limits (the articulation's soft factor is 0.9)."""
    data = env.scene[asset_cfg.name].data
    ids = entity_ids(asset_cfg.joint_ids, env.device)
    return joint_pos_limit_violation(data.joint_pos.torch[:, ids], data.soft_joint_pos_limits.torch[:, ids])


def undesired_contacts(env: ManagerBasedRLEnv, threshold: float, sensor_cfg: SceneEntityCfg) -> Tensor:
    """Bodies in contact over the sensor history; total force (normal + friction) as SONIC's Isaac Lab 2.x.

    Isaac Lab 3.0's own ``undesired_contacts`` reads the normal force only.
    """
    history = env.scene.sensors[sensor_cfg.name].data.net_forces_w_history.torch
    return undesired_contact_count(history[:, :, entity_ids(sensor_cfg.body_ids, env.device)], threshold)


def anti_shake_ang_vel(env: ManagerBasedRLEnv, threshold: float, asset_cfg: SceneEntityCfg) -> Tensor:
    """Angular speed beyond ``threshold`` of the chosen bodies (SONIC: both wrist_yaw links)."""
    data = env.scene[asset_cfg.name].data
    # A rigid body's angular velocity is the same at its CoM and its link frame. Isaac Lab derives
    # body_link_ang_vel_w lazily (not allowed in a CUDA-graph capture); body_com_ang_vel_w is simulator state.
    return anti_shake_penalty(
        data.body_com_ang_vel_w.torch[:, entity_ids(asset_cfg.body_ids, env.device)], threshold
    )


def feet_acc(env: ManagerBasedRLEnv, asset_cfg: SceneEntityCfg) -> Tensor:
    """``joint_acc_l2`` on the chosen joints (SONIC: the 4 ankle joints)."""
    data = env.scene[asset_cfg.name].data
    return joint_acc_l2(data.joint_acc.torch[:, entity_ids(asset_cfg.joint_ids, env.device)])


# --------------------------------------------------------------------------------------------------
# Isaac Lab configuration
# --------------------------------------------------------------------------------------------------


@configclass
class SonicRewardsCfg:
    """SONIC's reward terms; build with :func:`reward_terms_cfg`."""

    tracking_anchor_pos: RewardTermCfg | None = None
    tracking_anchor_ori: RewardTermCfg | None = None
    tracking_relative_body_pos: RewardTermCfg | None = None
    tracking_relative_body_ori: RewardTermCfg | None = None
    tracking_body_linvel: RewardTermCfg | None = None
    tracking_body_angvel: RewardTermCfg | None = None
    tracking_vr_5point_local: RewardTermCfg | None = None
    action_rate_l2: RewardTermCfg | None = None
    joint_limit: RewardTermCfg | None = None
    undesired_contacts: RewardTermCfg | None = None
    anti_shake_ang_vel: RewardTermCfg | None = None
    feet_acc: RewardTermCfg | None = None


_TRACKING_TERMS = {
    "tracking_anchor_pos": tracking_anchor_pos,
    "tracking_anchor_ori": tracking_anchor_ori,
    "tracking_relative_body_pos": tracking_relative_body_pos,
    "tracking_relative_body_ori": tracking_relative_body_ori,
    "tracking_body_linvel": tracking_body_linvel,
    "tracking_body_angvel": tracking_body_angvel,
    "tracking_vr_5point_local": tracking_vr_5point_local,
}


def reward_terms_cfg(
    rewards: RewardsConfig,
    action_clip: float = ACTION_CLIP,
    command_name: str = MOTION_COMMAND,
    robot_name: str = "robot",
    sensor_name: str = "contact_forces",
) -> SonicRewardsCfg:
    """Isaac Lab reward terms for ``rewards`` (field name = term name = ``Episode_Reward/<name>``).

    Args:
        rewards: weights, sigmas and term parameters.
        action_clip: bound applied to the actions before the action rate (the action term's clip).
        command_name: the motion command term's name.
        robot_name: the articulation's scene name.
        sensor_name: the contact sensor's scene name.
    """
    cfg = SonicRewardsCfg()
    for name, func in _TRACKING_TERMS.items():
        term = cast(TrackingRewardConfig, getattr(rewards, name))
        setattr(
            cfg,
            name,
            RewardTermCfg(
                func=func, weight=term.weight, params={"std": term.std, "command_name": command_name}
            ),
        )
    cfg.action_rate_l2 = RewardTermCfg(
        func=clipped_action_rate_l2, weight=rewards.action_rate_l2.weight, params={"action_clip": action_clip}
    )
    cfg.joint_limit = RewardTermCfg(
        func=joint_pos_limits,
        weight=rewards.joint_limit.weight,
        params={"asset_cfg": SceneEntityCfg(robot_name)},
    )
    contacts = rewards.undesired_contacts
    cfg.undesired_contacts = RewardTermCfg(
        func=undesired_contacts,
        weight=contacts.weight,
        params={
            "threshold": contacts.threshold,
            "sensor_cfg": SceneEntityCfg(
                sensor_name, body_names=list(contacts.body_names), preserve_order=True
            ),
        },
    )
    shake = rewards.anti_shake_ang_vel
    cfg.anti_shake_ang_vel = RewardTermCfg(
        func=anti_shake_ang_vel,
        weight=shake.weight,
        params={
            "threshold": shake.threshold,
            "asset_cfg": SceneEntityCfg(robot_name, body_names=list(shake.body_names), preserve_order=True),
        },
    )
    cfg.feet_acc = RewardTermCfg(
        func=feet_acc,
        weight=rewards.feet_acc.weight,
        params={
            "asset_cfg": SceneEntityCfg(
                robot_name, joint_names=list(rewards.feet_acc.joint_names), preserve_order=True
            )
        },
    )
    return cfg
