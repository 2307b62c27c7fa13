"""The motion command's reference geometry: SONIC's relative reference and body-attached points.

Pure functions of tensors (world frame, quaternions ``wxyz``, bodies pelvis first), used by
:class:`sonic_env.mdp.commands.MotionCommand` and tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from sonic_data.rotations import quat_apply, quat_apply_inverse, quat_conjugate, quat_mul, yaw_quat

__all__ = ["points_local", "relative_reference"]


def relative_reference(
    ref_pos: Tensor, ref_quat: Tensor, robot_root_pos: Tensor, robot_root_quat: Tensor
) -> tuple[Tensor, Tensor]:
    """SONIC's relative reference (SONIC_REFERENCE §3): the reference re-anchored at the robot's pelvis.

    ``p_Δ`` = robot pelvis position with z from the reference pelvis; ``q_Δ`` = heading of
    ``q_rob · q_ref_pelvis⁻¹``; bodies ``p_Δ + q_Δ ⊗ (p_ref_b − p_ref_pelvis)``, ``q_Δ · q_ref_b``.

    Args:
        ref_pos: ``(N, B, 3)`` reference bodies, pelvis first; ref_quat: ``(N, B, 4)``.
        robot_root_pos: ``(N, 3)``; robot_root_quat: ``(N, 4)``.

    Returns:
        ``body_pos_relative_w (N, B, 3)``, ``body_quat_relative_w (N, B, 4)``.
    """
    anchor = robot_root_pos.clone()
    anchor[:, 2] = ref_pos[:, 0, 2]
    q_delta = yaw_quat(quat_mul(robot_root_quat, quat_conjugate(ref_quat[:, 0])))
    q = q_delta.unsqueeze(1).expand_as(ref_quat)
    pos = anchor.unsqueeze(1) + quat_apply(q, ref_pos - ref_pos[:, :1])
    return pos, quat_mul(q, ref_quat)


def points_local(
    body_pos: Tensor, body_quat: Tensor, body_ids: Sequence[int] | Tensor, offsets: Tensor
) -> Tensor:
    """Points ``p_b + q_b ⊗ offset`` relative to the pelvis (body 0), in the pelvis frame.

    Args:
        body_pos: ``(N, B, 3)``; body_quat: ``(N, B, 4)``.
        body_ids: ``P`` body indices, one per point; offsets: ``(P, 3)`` in each body's frame.

    Returns:
        ``(N, P, 3)``.
    """
    pos, quat = body_pos[:, body_ids], body_quat[:, body_ids]
    point = pos + quat_apply(quat, offsets.to(pos).expand_as(pos))
    pelvis_q = body_quat[:, :1].expand_as(quat)
    return quat_apply_inverse(pelvis_q, point - body_pos[:, :1])
