"""Observation terms of the SONIC env (SONIC_REFERENCE §2): pure tensor math, then thin Isaac Lab adapters.

Conventions: quaternions ``wxyz``; "6D" is the first two columns of the rotation matrix, row-major
``[R00, R01, R10, R11, R20, R21]`` (identity → ``[1, 0, 0, 1, 0, 0]``); joint tensors arrive in
canonical (simulator) order and each term gathers its own order with an index list built by name
(:mod:`sonic_env.observation_builder`). Every orientation term uses the robot's **full** pelvis
orientation (not its heading), as sonic_release does.

The adapters ``term(env, ...)`` read the motion command (``env.command_manager.get_term("motion")``,
:class:`sonic_env.mdp.commands.MotionCommand`) and the robot, and call the pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from sonic_data.rotations import quat_apply_inverse, quat_conj_mul, quat_to_6d
from sonic_data.tensors import cached_tensor

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedEnv

    from sonic_env.mdp.commands import MotionCommand

COMMAND_NAME = "motion"
"""Name of the motion command term in the command manager."""

GRAVITY_DIR_W = (0.0, 0.0, -1.0)


# ----------------------------------------------------------------------------------------- pure math
def _constant(values: tuple[float, ...], dtype: torch.dtype, device: torch.device | str) -> Tensor:
    """A small constant tensor, built once per (values, dtype, device); callers must not modify it."""
    return cached_tensor(values, dtype, torch.device(device))


def index_tensor(ids: Sequence[int] | Tensor, device: torch.device | str) -> Tensor:
    """``ids`` as an int64 tensor on ``device``; lists are uploaded once, not on every step.

    The terms get their joint / body indices as config lists; indexing with a list copies it to
    the device on each call (one host-to-device transfer per term per step on CUDA).
    """
    if isinstance(ids, Tensor):
        return ids.to(device=device, dtype=torch.long)
    return cached_tensor(tuple(int(i) for i in ids), torch.long, torch.device(device))


def relative_ori_6d(robot_quat: Tensor, target_quat: Tensor) -> Tensor:
    """6D of ``q_robot⁻¹ · q_target``.

    Args:
        robot_quat: ``(N, 4)`` robot pelvis orientation.
        target_quat: ``(N, 4)`` or ``(N, F, 4)`` (future frames).

    Returns:
        ``(N, 6)`` or ``(N, F, 6)``.
    """
    q = robot_quat if target_quat.dim() == 2 else robot_quat.unsqueeze(1)
    return quat_to_6d(quat_conj_mul(q, target_quat))


def point_in_frame(frame_pos: Tensor, frame_quat: Tensor, point: Tensor) -> Tensor:
    """``q⁻¹ ⊗ (point − frame_pos)``: a world point in a body frame. ``(N, 3)``/``(N, 4)``, ``point (N, [B,] 3)``."""
    if point.dim() == 3:
        frame_pos = frame_pos.unsqueeze(1).expand_as(point)
        frame_quat = frame_quat.unsqueeze(1).expand(*point.shape[:2], 4)
    return quat_apply_inverse(frame_quat, point - frame_pos)


def bodies_ori_6d(frame_quat: Tensor, body_quat: Tensor) -> Tensor:
    """``(N, B·6)``: 6D of ``q_frame⁻¹ · q_b`` for each body, body-major; ``body_quat`` is ``(N, B, 4)``."""
    return quat_to_6d(quat_conj_mul(frame_quat.unsqueeze(1), body_quat)).flatten(1)


def multi_future_command(joint_pos: Tensor, joint_vel: Tensor, joint_ids: Sequence[int] | Tensor) -> Tensor:
    """SONIC's flat ``[pos f0…f(F−1) | vel f0…f(F−1)]`` vector of a joint subset.

    Args:
        joint_pos: ``(N, F, J)`` future reference joint positions, canonical order.
        joint_vel: ``(N, F, J)`` future reference joint velocities.
        joint_ids: canonical indices of the term's joints, in the term's order (length K).

    Returns:
        ``(N, 2·F·K)``; viewing it as ``(F, 2K)`` gives SONIC's ``_nonflat`` rows (row r ≠ frame r).
    """
    ids = index_tensor(joint_ids, joint_pos.device)
    return torch.cat((joint_pos[..., ids].flatten(1), joint_vel[..., ids].flatten(1)), dim=-1)


def human_joints_local(joints: Tensor, root_quat: Tensor) -> Tensor:
    """Human joints of each frame rotated by that frame's inverse root orientation.

    Args:
        joints: ``(N, F, J, 3)`` root-relative joint positions, Z up.
        root_quat: ``(N, F, 4)`` root orientation of each frame.

    Returns:
        ``(N, F, 3J)``.
    """
    q = root_quat.unsqueeze(2).expand(*joints.shape[:3], 4)
    return quat_apply_inverse(q, joints).flatten(2)


def entity_ids(ids: Sequence[int] | Tensor | slice, device: torch.device | str) -> Tensor | slice:
    """A ``SceneEntityCfg``'s resolved ``joint_ids`` / ``body_ids`` for indexing: a slice as is, a list uploaded once.

    Indexing with a list uploads it on every call, which a CUDA-graph capture cannot record.
    """
    return ids if isinstance(ids, slice) else index_tensor(ids, device)


def gravity_direction(root_quat: Tensor) -> Tensor:
    """``q⁻¹ ⊗ (0, 0, −1)``, ``(N, 3)``: gravity in the pelvis frame."""
    g = _constant(GRAVITY_DIR_W, root_quat.dtype, root_quat.device).expand(root_quat.shape[0], 3)
    return quat_apply_inverse(root_quat, g)


def select_joints(values: Tensor, joint_ids: Sequence[int] | Tensor) -> Tensor:
    """``values[..., joint_ids]``: a canonical-order joint tensor in a term's order."""
    return values[..., index_tensor(joint_ids, values.device)]


# ----------------------------------------------------------------------------------------- adapters
def _cmd(env: ManagerBasedEnv) -> MotionCommand:
    return env.command_manager.get_term(COMMAND_NAME)  # pyright: ignore[reportAttributeAccessIssue, reportReturnType]


def encoder_index(env: ManagerBasedEnv) -> Tensor:
    """``(N, E)`` bool: the episode's active encoders (§1.3)."""
    return _cmd(env).encoder_mask.clone()


def command_multi_future(env: ManagerBasedEnv, joint_ids: list[int], shape: list[int]) -> Tensor:
    """Reference joint pos/vel of the g1 future window in SONIC's flat layout, viewed as ``shape``."""
    ref = _cmd(env).g1_future.robot
    flat = multi_future_command(ref.joint_pos, ref.joint_vel, joint_ids)
    return flat.reshape(flat.shape[0], *shape)


def motion_anchor_ori_b(env: ManagerBasedEnv) -> Tensor:
    """``(N, 6)``: 6D of ``q_robot_pelvis⁻¹ · q_ref_pelvis`` at the current frame."""
    cmd = _cmd(env)
    return relative_ori_6d(cmd.robot_anchor_quat_w, cmd.ref_body_quat_w[:, 0])


def motion_anchor_ori_b_mf(env: ManagerBasedEnv) -> Tensor:
    """``(N, F, 6)``: the anchor orientation of every g1 future frame."""
    cmd = _cmd(env)
    return relative_ori_6d(cmd.robot_anchor_quat_w, cmd.g1_future.robot.root_quat_w)


def motion_anchor_pos_b(env: ManagerBasedEnv) -> Tensor:
    """``(N, 3)``: reference pelvis position in the robot pelvis frame."""
    cmd = _cmd(env)
    return point_in_frame(cmd.robot_anchor_pos_w, cmd.robot_anchor_quat_w, cmd.ref_body_pos_w[:, 0])


def vr_3point_local_target(env: ManagerBasedEnv) -> Tensor:
    """``(N, 9)``: the VR points relative to the reference pelvis, in its frame."""
    return _cmd(env).teleop_targets.local_pos.flatten(1)


def vr_3point_local_orn_target(env: ManagerBasedEnv) -> Tensor:
    """``(N, 12)``: ``q_ref_pelvis⁻¹ · q_ref_body`` of the VR bodies, wxyz."""
    return _cmd(env).teleop_targets.local_quat.flatten(1)


def human_joints_multi_future_local(env: ManagerBasedEnv, kind: str) -> Tensor:
    """``(N, F, 3J)``: SMPL (``kind='smpl'``) or SOMA joints of each future frame in that frame's root frame.

    Precomputed by the motion library (``HumanFrames.joints_local``, the :func:`human_joints_local` of each frame).
    """
    return _cmd(env).human_window(kind).joints_local


def human_root_ori_b_multi_future(env: ManagerBasedEnv, kind: str) -> Tensor:
    """``(N, F, 6)``: 6D of ``q_robot_pelvis⁻¹ · q_human_root(f)``."""
    cmd = _cmd(env)
    return relative_ori_6d(cmd.robot_anchor_quat_w, cmd.human_window(kind).root_quat)


def joint_pos_multi_future_wrist(env: ManagerBasedEnv, joint_ids: list[int]) -> Tensor:
    """``(N, F, 6)``: reference wrist joints at the human encoders' frame spacing."""
    return select_joints(_cmd(env).human_future.robot.joint_pos, joint_ids)


def base_lin_vel(env: ManagerBasedEnv) -> Tensor:
    """``(N, 3)`` pelvis (CoM) linear velocity in the pelvis frame (Isaac Lab ``root_lin_vel_b``)."""
    return env.scene["robot"].data.root_lin_vel_b.torch.clone()  # pyright: ignore[reportAttributeAccessIssue]


def base_ang_vel(env: ManagerBasedEnv) -> Tensor:
    """``(N, 3)`` pelvis angular velocity in the pelvis frame (``root_ang_vel_b``)."""
    return env.scene["robot"].data.root_ang_vel_b.torch.clone()  # pyright: ignore[reportAttributeAccessIssue]


def joint_pos_rel(env: ManagerBasedEnv, joint_ids: list[int]) -> Tensor:
    """``(N, K)``: ``q − default_q`` (default incl. any randomised offset) in the term's joint order."""
    data = env.scene["robot"].data
    return select_joints(data.joint_pos.torch - data.default_joint_pos.torch, joint_ids)  # pyright: ignore[reportAttributeAccessIssue]


def joint_vel_rel(env: ManagerBasedEnv, joint_ids: list[int]) -> Tensor:
    """``(N, K)``: ``q̇ − default_q̇`` in the term's joint order."""
    data = env.scene["robot"].data
    return select_joints(data.joint_vel.torch - data.default_joint_vel.torch, joint_ids)  # pyright: ignore[reportAttributeAccessIssue]


def last_action(env: ManagerBasedEnv, action_ids: list[int], action_name: str = "joint_pos") -> Tensor:
    """``(N, K)``: the last raw action after the ±clip, gathered from the action vector's order."""
    return select_joints(env.action_manager.get_term(action_name).raw_actions, action_ids)


def gravity_dir(env: ManagerBasedEnv) -> Tensor:
    """``(N, 3)``: gravity direction in the robot pelvis frame."""
    return gravity_direction(_cmd(env).robot_anchor_quat_w)


def body_pos_b(env: ManagerBasedEnv, body_ids: list[int]) -> Tensor:
    """``(N, B·3)``: robot tracked bodies (indices into the command's tracked bodies) in the pelvis frame."""
    cmd = _cmd(env)
    pos, quat = cmd.robot_body_pos_w, cmd.robot_body_quat_w
    return point_in_frame(pos[:, 0], quat[:, 0], pos[:, index_tensor(body_ids, pos.device)]).flatten(1)


def body_ori_b(env: ManagerBasedEnv, body_ids: list[int]) -> Tensor:
    """``(N, B·6)``: robot tracked-body orientations relative to the pelvis, 6D."""
    quat = _cmd(env).robot_body_quat_w
    return bodies_ori_6d(quat[:, 0], quat[:, index_tensor(body_ids, quat.device)])
