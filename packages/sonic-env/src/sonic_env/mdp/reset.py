"""Reference-state initialisation noise of the motion command (SONIC_REFERENCE §7, train mode only).

At reset the robot is put on its reference frame plus uniform noise: root position ``+ (dx, dy, dz)``;
root orientation pre-multiplied (world frame) by the rotation of extrinsic XYZ Euler angles
``(roll, pitch, yaw)``; root linear and angular velocity (world frame) ``+`` noise; joint positions
``+ U(joint_position_range)``, clipped to the soft joint limits; joint velocities unchanged. These
are the formulas of BeyondMimic's ``TrackingCommand`` that SONIC's command extends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import Tensor

from sonic_data.rotations import euler_xyz_extrinsic_to_quat, quat_mul, quat_normalize

AXES = ("x", "y", "z", "roll", "pitch", "yaw")
"""Key order of ``pose_range`` / ``velocity_range``."""


def range_tensor(ranges: Mapping[Any, Sequence[float]], keys: Sequence[str] = AXES) -> Tensor:
    """``(len(keys), 2)`` lower/upper bounds; a missing key is ``(0, 0)``."""
    return torch.tensor([list(ranges.get(k, (0.0, 0.0))) for k in keys], dtype=torch.float32)


def sample_uniform(bounds: Tensor, num: int, generator: torch.Generator | None = None) -> Tensor:
    """``(num, K)`` samples, column k uniform in ``[bounds[k, 0], bounds[k, 1]]``; ``bounds`` is ``(K, 2)``."""
    u = torch.rand(num, bounds.shape[0], generator=generator, device=bounds.device)
    return bounds[:, 0] + u * (bounds[:, 1] - bounds[:, 0])


@dataclass(frozen=True)
class RootState:
    """Root pose and velocity of ``n`` robots, world frame, quaternion ``wxyz``.

    Attributes:
        pos: ``(n, 3)``; quat: ``(n, 4)``; lin_vel: ``(n, 3)``; ang_vel: ``(n, 3)``.
    """

    pos: Tensor
    quat: Tensor
    lin_vel: Tensor
    ang_vel: Tensor


class ResetDraws(NamedTuple):
    """A new episode start for every env (``MotionCommand.draw_resets``), kept where an env is done."""

    slots: Tensor
    frames: Tensor
    encoder_mask: Tensor
    root_pos: Tensor
    root_quat: Tensor
    root_lin_vel: Tensor
    root_ang_vel: Tensor
    joint_pos: Tensor
    joint_vel: Tensor
    ref_root_z: Tensor


def perturb_root(state: RootState, pose_noise: Tensor, velocity_noise: Tensor) -> RootState:
    """Add reset noise to a root state.

    Args:
        state: the reference root state.
        pose_noise: ``(n, 6)`` ``[dx, dy, dz, roll, pitch, yaw]``; the rotation is applied in the world
            frame (pre-multiplied).
        velocity_noise: ``(n, 6)`` ``[vx, vy, vz, wx, wy, wz]`` added to the world-frame velocities.
    """
    delta = euler_xyz_extrinsic_to_quat(pose_noise[:, 3:6])
    return RootState(
        pos=state.pos + pose_noise[:, :3],
        quat=quat_normalize(quat_mul(delta, state.quat)),
        lin_vel=state.lin_vel + velocity_noise[:, :3],
        ang_vel=state.ang_vel + velocity_noise[:, 3:6],
    )


def perturb_joint_pos(joint_pos: Tensor, noise: Tensor, lower: Tensor, upper: Tensor) -> Tensor:
    """``clamp(joint_pos + noise, lower, upper)``; all ``(n, J)`` (limits may be ``(J,)``)."""
    return torch.maximum(torch.minimum(joint_pos + noise, upper), lower)
