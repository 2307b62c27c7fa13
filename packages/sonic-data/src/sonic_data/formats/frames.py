"""Frame changes for the Y-up file keys (FORMATS.md "Frames and units per file key").

SMPL ``pose_aa[:3]`` / ``transl`` and SOMA ``soma_root_quat`` / ``soma_transl`` are stored Y up.
The world is Z up. The point map is SONIC's ``(x, y, z) → (x, −z, y)``, a +90° rotation about X.
Root orientations additionally carry the body model's own axes (SMPL: x left, y up, z forward;
SOMA Hips: x up, y forward, z left), which SONIC removes with the base quaternion
``q_base = (0.5, 0.5, 0.5, 0.5)`` (wxyz; §2.1): SMPL ``q = Rx(90°)·q_file·q_base⁻¹``
(``remove_smpl_base_rot``), SOMA ``q = Rx(90°)·q_file·q_base`` (``remove_bvh_base_rot``). Both give
a pelvis-like orientation (x forward, y left, z up), comparable to the robot's. The inverses build
generated sample files from G1 poses.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from sonic_data.rotations import axis_angle_to_quat, quat_conjugate, quat_mul, quat_to_axis_angle

__all__ = [
    "BASE_QUAT",
    "Y_TO_Z_UP_QUAT",
    "smpl_root_aa_from_z_up",
    "smpl_root_quat_z_up",
    "soma_root_quat_from_z_up",
    "soma_root_quat_z_up",
    "y_up_to_z_up",
    "z_up_to_y_up",
]

_H = math.sqrt(0.5)
Y_TO_Z_UP_QUAT = (_H, _H, 0.0, 0.0)
"""``Rx(+90°)`` (wxyz): maps Y-up coordinates to Z-up ones."""

BASE_QUAT = (0.5, 0.5, 0.5, 0.5)
"""SONIC's body-model base rotation (wxyz; the same four numbers in xyzw)."""


def _const(values: tuple[float, ...], like: Tensor) -> Tensor:
    return torch.tensor(values, dtype=like.dtype, device=like.device)


def y_up_to_z_up(p: Tensor) -> Tensor:
    """Points (..., 3) from Y up to Z up: ``(x, y, z) → (x, −z, y)``."""
    return torch.stack((p[..., 0], -p[..., 2], p[..., 1]), dim=-1)


def z_up_to_y_up(p: Tensor) -> Tensor:
    """Inverse of :func:`y_up_to_z_up`: ``(x, y, z) → (x, z, −y)``."""
    return torch.stack((p[..., 0], p[..., 2], -p[..., 1]), dim=-1)


def smpl_root_quat_z_up(root_aa_y_up: Tensor) -> Tensor:
    """Z-up, base-free SMPL root quaternion (..., 4) wxyz from ``pose_aa[..., :3]`` (Y up)."""
    q = axis_angle_to_quat(root_aa_y_up)
    q = quat_mul(_const(Y_TO_Z_UP_QUAT, q).expand_as(q), q)
    return quat_mul(q, quat_conjugate(_const(BASE_QUAT, q)).expand_as(q))


def smpl_root_aa_from_z_up(quat_z_up: Tensor) -> Tensor:
    """Inverse of :func:`smpl_root_quat_z_up`: the file's Y-up root axis-angle (..., 3)."""
    q = quat_mul(quat_conjugate(_const(Y_TO_Z_UP_QUAT, quat_z_up)).expand_as(quat_z_up), quat_z_up)
    return quat_to_axis_angle(quat_mul(q, _const(BASE_QUAT, q).expand_as(q)))


def soma_root_quat_z_up(quat_y_up: Tensor) -> Tensor:
    """Z-up, base-free SOMA root quaternion (..., 4) wxyz from ``soma_root_quat`` (Y up)."""
    q = quat_mul(_const(Y_TO_Z_UP_QUAT, quat_y_up).expand_as(quat_y_up), quat_y_up)
    return quat_mul(q, _const(BASE_QUAT, q).expand_as(q))


def soma_root_quat_from_z_up(quat_z_up: Tensor) -> Tensor:
    """Inverse of :func:`soma_root_quat_z_up`: the Hips world quaternion, Y up (..., 4) wxyz."""
    q = quat_mul(quat_conjugate(_const(Y_TO_Z_UP_QUAT, quat_z_up)).expand_as(quat_z_up), quat_z_up)
    return quat_mul(q, quat_conjugate(_const(BASE_QUAT, q)).expand_as(q))
