"""SOMA BVH and SMPL PKL clips generated from G1 motions through a fixed body correspondence.

The human joints are placed on G1 bodies by forward kinematics: each joint is the origin of one
G1 body plus a small offset in that body's frame (tables below; FORMATS.md "SMPL skeleton"). Both
formats therefore describe exactly the motion of the robot clip, which lets the tests check the
whole pipeline (convert, extract-soma, SMPL matching) against the robot's own FK.

* SOMA: the 26 joints SONIC keeps plus their ancestors (``Root``, ``Neck2``), SOMA's names and
  6-channel layout, 6-value ``OFFSET`` lines (frame-0 values, as in SOMA's files), cm, Y up, 120 fps.
  Joint frames follow SOMA's Hips convention (local x up, y forward, z left), so SONIC's
  ``Rx(90°)·q·(0.5,0.5,0.5,0.5)`` turns the Hips rotation back into the G1 pelvis orientation.
* SMPL: 24 joints at the robot clip's 50 fps times (FORMATS.md "Resampling to 50 fps"), Z up and
  pelvis-relative; ``transl`` is the pelvis position, Y up; ``pose_aa[:3]`` the Y-up root with the
  SMPL base rotation; ``pose_aa[3:]`` each joint's rotation relative to its parent, measured from
  the G1 zero pose (all zero there).
"""

from __future__ import annotations

import numpy as np
import torch

from sonic_data.formats import SMPL_JOINT_NAMES, SMPL_PARENTS, BvhJoint, BvhMotion, RobotMotion, SmplMotion
from sonic_data.formats.frames import BASE_QUAT, smpl_root_aa_from_z_up, z_up_to_y_up
from sonic_data.formats.g1_csv import quat_to_euler_xyz_extrinsic
from sonic_data.kinematics import G1Kinematics
from sonic_data.resample import resample_robot
from sonic_data.rotations import matrix_to_quat, quat_conjugate, quat_mul, quat_to_axis_angle, quat_to_matrix

__all__ = ["SMPL_ON_G1", "SOMA_ON_G1", "smpl_from_robot", "soma_bvh_from_robot"]

Vec = tuple[float, float, float]

_SOMA_LEFT: tuple[tuple[str, str, str, Vec, str], ...] = (
    # (joint, parent, body giving the position, offset in that body's frame (m), body giving the rotation)
    ("LeftShoulder", "Chest", "torso_link", (0.0, 0.04, 0.25), "torso_link"),
    ("LeftArm", "LeftShoulder", "left_shoulder_roll_link", (0.0, 0.0, 0.0), "left_shoulder_yaw_link"),
    ("LeftForeArm", "LeftArm", "left_elbow_link", (0.0, 0.0, 0.0), "left_elbow_link"),
    ("LeftHand", "LeftForeArm", "left_wrist_yaw_link", (0.0, 0.0, 0.0), "left_wrist_yaw_link"),
    ("LeftHandThumb1", "LeftHand", "left_wrist_yaw_link", (0.03, 0.0, 0.025), "left_wrist_yaw_link"),
    ("LeftHandMiddle1", "LeftHand", "left_wrist_yaw_link", (0.09, 0.0, 0.0), "left_wrist_yaw_link"),
    ("LeftLeg", "Hips", "left_hip_roll_link", (0.0, 0.0, 0.0), "left_hip_yaw_link"),
    ("LeftShin", "LeftLeg", "left_knee_link", (0.0, 0.0, 0.0), "left_knee_link"),
    ("LeftFoot", "LeftShin", "left_ankle_roll_link", (0.0, 0.0, 0.0), "left_ankle_roll_link"),
    ("LeftToeBase", "LeftFoot", "left_ankle_roll_link", (0.12, 0.0, -0.03), "left_ankle_roll_link"),
)


def _mirror(rows: tuple[tuple[str, str, str, Vec, str], ...]) -> tuple[tuple[str, str, str, Vec, str], ...]:
    def swap(s: str) -> str:
        return s.replace("Left", "Right").replace("left_", "right_")

    return tuple((swap(j), swap(p), swap(b), (o[0], -o[1], o[2]), swap(r)) for j, p, b, o, r in rows)


SOMA_ON_G1: tuple[tuple[str, str, str, Vec, str], ...] = (
    ("Hips", "Root", "pelvis", (0.0, 0.0, 0.0), "pelvis"),
    ("Spine1", "Hips", "torso_link", (0.0, 0.0, 0.0), "torso_link"),
    ("Spine2", "Spine1", "torso_link", (0.0, 0.0, 0.08), "torso_link"),
    ("Chest", "Spine2", "torso_link", (0.0, 0.0, 0.16), "torso_link"),
    ("Neck1", "Chest", "torso_link", (0.01, 0.0, 0.33), "torso_link"),
    ("Neck2", "Neck1", "torso_link", (0.015, 0.0, 0.38), "torso_link"),
    ("Head", "Neck2", "torso_link", (0.02, 0.0, 0.43), "torso_link"),
    *_SOMA_LEFT,
    *_mirror(_SOMA_LEFT),
)
"""SOMA joint → (parent, position body, offset, rotation body); ``Root`` sits fixed at the origin."""

_SOMA_END_SITES = {
    "Head",
    "LeftHandThumb1",
    "LeftHandMiddle1",
    "RightHandThumb1",
    "RightHandMiddle1",
    "LeftToeBase",
    "RightToeBase",
}

_SMPL_LEFT: dict[str, tuple[str, Vec, str]] = {
    # joint: (body giving the position, offset (m), body giving the rotation)
    "L_Hip": ("left_hip_roll_link", (0.0, 0.0, 0.0), "left_hip_yaw_link"),
    "L_Knee": ("left_knee_link", (0.0, 0.0, 0.0), "left_knee_link"),
    "L_Ankle": ("left_ankle_roll_link", (0.0, 0.0, 0.0), "left_ankle_roll_link"),
    "L_Foot": ("left_ankle_roll_link", (0.12, 0.0, -0.03), "left_ankle_roll_link"),
    "L_Collar": ("torso_link", (0.0, 0.05, 0.26), "torso_link"),
    "L_Shoulder": ("left_shoulder_roll_link", (0.0, 0.0, 0.0), "left_shoulder_yaw_link"),
    "L_Elbow": ("left_elbow_link", (0.0, 0.0, 0.0), "left_elbow_link"),
    "L_Wrist": ("left_wrist_yaw_link", (0.0, 0.0, 0.0), "left_wrist_yaw_link"),
    "L_Hand": ("left_wrist_yaw_link", (0.08, 0.0, 0.0), "left_wrist_yaw_link"),
}

SMPL_ON_G1: dict[str, tuple[str, Vec, str]] = {
    "Pelvis": ("pelvis", (0.0, 0.0, 0.0), "pelvis"),
    "Spine1": ("torso_link", (0.0, 0.0, 0.03), "torso_link"),
    "Spine2": ("torso_link", (0.0, 0.0, 0.13), "torso_link"),
    "Spine3": ("torso_link", (0.0, 0.0, 0.2), "torso_link"),
    "Neck": ("torso_link", (0.01, 0.0, 0.33), "torso_link"),
    "Head": ("torso_link", (0.03, 0.0, 0.43), "torso_link"),
    **_SMPL_LEFT,
    **{
        k.replace("L_", "R_"): (
            b.replace("left_", "right_"),
            (o[0], -o[1], o[2]),
            r.replace("left_", "right_"),
        )
        for k, (b, o, r) in _SMPL_LEFT.items()
    },
}
"""SMPL joint → (position body, offset in its frame, rotation body)."""


def _fk(fk: G1Kinematics, m: RobotMotion) -> tuple[torch.Tensor, torch.Tensor]:
    f64 = torch.float64
    return fk(
        torch.tensor(m.root_pos, dtype=f64),
        torch.tensor(m.root_quat, dtype=f64),
        torch.tensor(m.joint_pos, dtype=f64),
    )


def _points(fk: G1Kinematics, pos: torch.Tensor, rot: torch.Tensor, body: str, offset: Vec) -> torch.Tensor:
    b = fk.body_index(body)
    return pos[:, b] + rot[:, b] @ torch.tensor(offset, dtype=pos.dtype)


def soma_bvh_from_robot(motion: RobotMotion, fk: G1Kinematics | None = None) -> BvhMotion:
    """A SOMA-layout BVH (cm, Y up, 6 channels per joint) of ``motion`` at its own frame rate."""
    fk = fk or G1Kinematics(dtype=torch.float64)
    pos, quat = _fk(fk, motion)
    rot = quat_to_matrix(quat)
    t = motion.num_frames
    # World Y-up frames of every joint, SOMA axes: R = Rx(-90°)·R_body·R(q_base)ᵀ.
    rx_m90 = torch.tensor([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=torch.float64)
    base_t = quat_to_matrix(torch.tensor(BASE_QUAT, dtype=torch.float64)).T
    names = ["Root"] + [row[0] for row in SOMA_ON_G1]
    parents = [-1] + [names.index(row[1]) for row in SOMA_ON_G1]
    world_p = [torch.zeros(t, 3, dtype=torch.float64)]
    world_r = [torch.eye(3, dtype=torch.float64).expand(t, 3, 3)]
    for _, _, body, offset, rot_body in SOMA_ON_G1:
        world_p.append(z_up_to_y_up(_points(fk, pos, rot, body, offset)) * 100.0)
        world_r.append(rx_m90 @ rot[:, fk.body_index(rot_body)] @ base_t)
    values, joints = [], []
    for i, name in enumerate(names):
        if parents[i] < 0:
            local_t, local_r = world_p[i], world_r[i]
        else:
            pr = world_r[parents[i]]
            local_t = (pr.transpose(-1, -2) @ (world_p[i] - world_p[parents[i]]).unsqueeze(-1)).squeeze(-1)
            local_r = pr.transpose(-1, -2) @ world_r[i]
        # Intrinsic Z-Y-X (channel order) equals extrinsic x-y-z: reuse the CSV helper.
        xyz = np.rad2deg(quat_to_euler_xyz_extrinsic(matrix_to_quat(local_r).numpy()))
        zyx = xyz[:, ::-1]
        values.append(np.concatenate([local_t.numpy(), zyx], axis=1))
        joints.append(
            BvhJoint(
                name=name,
                parent=parents[i],
                offset=(float(local_t[0, 0]), float(local_t[0, 1]), float(local_t[0, 2])),
                channels=("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation"),
                rest_rotation_deg=(float(xyz[0, 0]), float(xyz[0, 1]), float(xyz[0, 2])),
                end_site=(0.0, 0.0, 0.0) if name in _SOMA_END_SITES else None,
            )
        )
    return BvhMotion(joints=tuple(joints), frame_time=1.0 / motion.fps, values=np.concatenate(values, axis=1))


def smpl_from_robot(motion: RobotMotion, fk: G1Kinematics | None = None) -> SmplMotion:
    """SMPL clip of ``motion`` at 50 fps with N50 = ceil(50·(T−1)/fps) frames in every key."""
    fk = fk or G1Kinematics(dtype=torch.float64)
    m50 = resample_robot(motion, 50.0, interpolate=True)
    pos, quat = _fk(fk, m50)
    rot = quat_to_matrix(quat)
    zero_pos, zero_quat = fk(
        torch.zeros(3, dtype=torch.float64),
        torch.tensor([1.0, 0, 0, 0], dtype=torch.float64),
        torch.zeros(29, dtype=torch.float64),
    )
    del zero_pos
    pelvis = pos[:, fk.body_index("pelvis")]
    joints = torch.stack([_points(fk, pos, rot, *SMPL_ON_G1[n][:2]) for n in SMPL_JOINT_NAMES], dim=1)
    # Joint orientations relative to the G1 zero pose: identity there, so pose_aa is zero at rest.
    world = torch.stack(
        [
            quat_mul(
                quat[:, fk.body_index(SMPL_ON_G1[n][2])],
                quat_conjugate(zero_quat[fk.body_index(SMPL_ON_G1[n][2])]),
            )
            for n in SMPL_JOINT_NAMES
        ],
        dim=1,
    )
    base = torch.tensor(BASE_QUAT, dtype=torch.float64)
    pose = [smpl_root_aa_from_z_up(world[:, 0])]
    for j in range(1, len(SMPL_JOINT_NAMES)):
        local = quat_mul(quat_conjugate(world[:, SMPL_PARENTS[j]]), world[:, j])
        pose.append(
            quat_to_axis_angle(
                quat_mul(quat_mul(quat_conjugate(base).expand_as(local), local), base.expand_as(local))
            )
        )
    return SmplMotion(
        pose_aa=torch.cat(pose, dim=-1).numpy(),
        joints=(joints - pelvis[:, None]).numpy(),
        transl=z_up_to_y_up(pelvis).numpy(),
        fps=50,
    )
