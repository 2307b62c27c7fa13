"""Typed containers of reference tensors returned by ``MotionLibrary.state`` and ``.future``.

Every tensor has the query's batch shape ``B`` first: ``(N,)`` for :meth:`state` and ``(N, F)`` for
:meth:`future` windows. Joints are in canonical (MJCF) order, bodies in the library's tracked-body
order (pelvis first), quaternions ``wxyz``, all in the world frame (Z up) unless said otherwise.
Fields are views into one gathered buffer per modality, so building a container costs one gather.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

__all__ = ["HumanFrames", "MotionState", "RobotFrames", "TeleopTargets"]


@dataclass(frozen=True)
class RobotFrames:
    """G1 reference at the queried frames.

    Attributes:
        joint_pos: ``(*B, 29)`` joint angles (rad).
        joint_vel: ``(*B, 29)`` joint velocities (rad/s).
        body_pos_w: ``(*B, K, 3)`` tracked-body positions (m).
        body_quat_w: ``(*B, K, 4)`` tracked-body orientations.
        body_lin_vel_w: ``(*B, K, 3)`` tracked-body linear velocities (m/s).
        body_ang_vel_w: ``(*B, K, 3)`` tracked-body angular velocities (rad/s).
    """

    joint_pos: Tensor
    joint_vel: Tensor
    body_pos_w: Tensor
    body_quat_w: Tensor
    body_lin_vel_w: Tensor
    body_ang_vel_w: Tensor

    @property
    def root_pos_w(self) -> Tensor:
        """``(*B, 3)`` pelvis (anchor) position."""
        return self.body_pos_w[..., 0, :]

    @property
    def root_quat_w(self) -> Tensor:
        """``(*B, 4)`` pelvis (anchor) orientation."""
        return self.body_quat_w[..., 0, :]


@dataclass(frozen=True)
class HumanFrames:
    """SMPL or SOMA reference at the queried frames (zeros where the clip has none).

    Attributes:
        joints: ``(*B, J, 3)`` joint positions, Z up, relative to the root position (m); J = 24
            (SMPL) or 26 (SOMA).
        root_quat: ``(*B, 4)`` root orientation, Z up, body-model base removed (identity where absent).
        valid: ``(*B,)`` bool, whether the clip has this modality (the env zeroes the encoder's
            probability where false).
    """

    joints: Tensor
    root_quat: Tensor
    valid: Tensor


@dataclass(frozen=True)
class TeleopTargets:
    """The VR 3-point targets of §2.1, from the reference bodies (SONIC's ``vr_3point_*`` terms).

    Attributes:
        local_pos: ``(*B, 3, 3)`` each point (body position + body-frame offset) relative to the
            reference pelvis, in the reference pelvis frame (``vr_3point_local_target``).
        local_quat: ``(*B, 3, 4)`` ``q_pelvis⁻¹·q_body`` (``vr_3point_local_orn_target``).
    """

    local_pos: Tensor
    local_quat: Tensor


@dataclass(frozen=True)
class MotionState:
    """Everything the environment reads from the reference at a batch of (slot, frame) pairs.

    ``smpl``, ``soma`` and ``teleop`` are None when the query did not ask for them.

    Attributes:
        frames: ``(*B,)`` int64 frame indices actually read (after clamping to the clip).
        robot: the G1 reference.
        smpl: SMPL joints and root orientation.
        soma: SOMA joints and root orientation.
        teleop: VR 3-point targets.
    """

    frames: Tensor
    robot: RobotFrames
    smpl: HumanFrames | None = None
    soma: HumanFrames | None = None
    teleop: TeleopTargets | None = None
