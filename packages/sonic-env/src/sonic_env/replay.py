"""Kinematic replay: write a reference state straight into the simulator, bypassing physics.

The motion command's replay mode (and reference-state initialisation) put each robot exactly on a
reference frame: root pose and velocity plus all joint positions and velocities. The library's
conventions hold at this border: quaternions are ``wxyz`` and joints are in canonical
(``sonic_data.g1.JOINT_NAMES``) order. Isaac Lab 3.0 takes root poses as ``(x, y, z, qx, qy, qz, qw)``
(``xyzw``), so the conversion happens here, once.

The write invalidates Isaac Lab's cached kinematics, so body poses read afterwards
(``robot.data.body_link_pos_w``) are the forward kinematics of the written state.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from isaaclab.assets import Articulation

from sonic_data import g1
from sonic_data.rotations import quat_apply, wxyz_to_xyzw


def _state_tensors(
    robot: Articulation,
    n: int,
    root_pos_w: torch.Tensor,
    root_quat_wxyz: torch.Tensor,
    joint_pos: torch.Tensor,
    root_lin_vel_w: torch.Tensor | None,
    root_ang_vel_w: torch.Tensor | None,
    joint_vel: torch.Tensor | None,
    caller: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Checked ``(pose xyzw (n, 7), velocity (n, 6), joint_pos, joint_vel)`` for Isaac Lab's writes."""
    device = robot.device
    zeros3 = torch.zeros(n, 3, device=device)
    inputs = {
        "root_pos_w": (root_pos_w, (n, 3)),
        "root_quat_wxyz": (root_quat_wxyz, (n, 4)),
        "joint_pos": (joint_pos, (n, g1.NUM_JOINTS)),
        "root_lin_vel_w": (zeros3 if root_lin_vel_w is None else root_lin_vel_w, (n, 3)),
        "root_ang_vel_w": (zeros3 if root_ang_vel_w is None else root_ang_vel_w, (n, 3)),
        "joint_vel": (
            torch.zeros(n, g1.NUM_JOINTS, device=device) if joint_vel is None else joint_vel,
            (n, g1.NUM_JOINTS),
        ),
    }
    for name, (value, shape) in inputs.items():
        if tuple(value.shape) != shape:
            raise ValueError(f"{caller}: {name} has shape {tuple(value.shape)}, expected {shape}")
    t = {name: value.to(device=device, dtype=torch.float32) for name, (value, _) in inputs.items()}
    pose = torch.cat([t["root_pos_w"], wxyz_to_xyzw(t["root_quat_wxyz"])], dim=-1)
    velocity = torch.cat([t["root_lin_vel_w"], t["root_ang_vel_w"]], dim=-1)
    return pose, velocity, t["joint_pos"], t["joint_vel"]


def write_reference_state(
    robot: Articulation,
    env_ids: Sequence[int] | torch.Tensor,
    root_pos_w: torch.Tensor,
    root_quat_wxyz: torch.Tensor,
    joint_pos: torch.Tensor,
    root_lin_vel_w: torch.Tensor | None = None,
    root_ang_vel_w: torch.Tensor | None = None,
    joint_vel: torch.Tensor | None = None,
) -> None:
    """Put the robots of ``env_ids`` on the given state (velocities default to zero).

    Args:
        robot: the G1 articulation, whose joints are in canonical order (checked at env build).
        env_ids: environments to write, ``n`` of them.
        root_pos_w: pelvis position in the world frame (add ``scene.env_origins`` to env-local
            reference positions), shape ``(n, 3)``.
        root_quat_wxyz: pelvis orientation in the world frame, ``wxyz``, shape ``(n, 4)``.
        joint_pos: joint angles (rad), canonical order, shape ``(n, 29)``.
        root_lin_vel_w: pelvis (link frame origin) linear velocity, world frame, ``(n, 3)``.
        root_ang_vel_w: pelvis angular velocity, world frame, ``(n, 3)``.
        joint_vel: joint velocities (rad/s), canonical order, ``(n, 29)``.

    Raises:
        ValueError: if a tensor's shape does not match ``len(env_ids)``.
    """
    ids = torch.as_tensor(env_ids, dtype=torch.long, device=robot.device).reshape(-1)
    pose, velocity, q, qd = _state_tensors(
        robot, ids.numel(), root_pos_w, root_quat_wxyz, joint_pos, root_lin_vel_w, root_ang_vel_w, joint_vel,
        "write_reference_state",
    )  # fmt: skip
    robot.write_root_link_pose_to_sim_index(root_pose=pose, env_ids=ids)
    robot.write_root_link_velocity_to_sim_index(root_velocity=velocity, env_ids=ids)
    robot.write_joint_state_to_sim_index(position=q, velocity=qd, env_ids=ids)  # pyright: ignore[reportAttributeAccessIssue]


def write_reference_state_masked(
    robot: Articulation,
    env_mask: torch.Tensor,
    root_pos_w: torch.Tensor,
    root_quat_wxyz: torch.Tensor,
    joint_pos: torch.Tensor,
    root_lin_vel_w: torch.Tensor,
    root_ang_vel_w: torch.Tensor,
    joint_vel: torch.Tensor,
) -> None:
    """:func:`write_reference_state` for the envs where ``env_mask`` is True, given full ``(N, ...)`` data.

    Isaac Lab's ``*_mask`` writes take a device mask instead of an index list, so no host
    synchronisation is needed to know which envs to write (rows where the mask is False are ignored).
    The root velocity is written as the CoM velocity (the same state; see the comment in the body).

    Raises:
        ValueError: if ``env_mask`` is not ``(N,)`` bool or a tensor is not ``(N, ...)``.
    """
    n = robot.num_instances
    if env_mask.dtype != torch.bool or tuple(env_mask.shape) != (n,):
        raise ValueError(
            f"write_reference_state_masked: env_mask must be ({n},) bool, got {env_mask.dtype} {tuple(env_mask.shape)}"
        )
    pose, velocity, q, qd = _state_tensors(
        robot, n, root_pos_w, root_quat_wxyz, joint_pos, root_lin_vel_w, root_ang_vel_w, joint_vel,
        "write_reference_state_masked",
    )  # fmt: skip
    mask = env_mask.contiguous()
    robot.write_root_link_pose_to_sim_mask(root_pose=pose, env_mask=mask)  # pyright: ignore[reportArgumentType]
    # The root's CoM velocity, v_com = v_link + ω × (q ⊗ c_b): Isaac Lab's link-velocity write reads its lazily
    # derived link velocity, which a CUDA-graph capture does not allow (sonic_env.step_graphs).
    com_b = robot.data.body_com_pos_b.torch[:, 0]  # pyright: ignore[reportAttributeAccessIssue]
    lin, ang = velocity[:, :3], velocity[:, 3:]
    lin_com = lin + torch.linalg.cross(ang, quat_apply(root_quat_wxyz.to(lin), com_b), dim=-1)
    robot.write_root_com_velocity_to_sim_mask(root_velocity=torch.cat((lin_com, ang), dim=-1), env_mask=mask)  # pyright: ignore[reportArgumentType]
    robot.write_joint_state_to_sim_mask(position=q, velocity=qd, env_mask=mask)  # pyright: ignore[reportAttributeAccessIssue]
