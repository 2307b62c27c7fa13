"""Names and orders of the Unitree G1 29-DOF joints and bodies.

The canonical order is the MJCF's depth-first order (left leg 6, right leg 6, waist 3, left arm 7,
right arm 7). It is also the order of Bones-SEED CSV columns, SONIC robot PKL ``dof`` and Unitree's
motor indices, and the simulator's order when Isaac Lab loads the USD converted from our MJCF.

SONIC's policy border uses Isaac Lab's breadth-first order of its URDF (``G1_ISAACLab_ORDER`` in
GEAR-SONIC's ``env_utils/joint_utils.py``; SONIC_REFERENCE §8). Orders are converted only through
:func:`joint_permutation`, built once by name.
"""

from __future__ import annotations

from collections.abc import Sequence

_SIDES = ("left", "right")
_LEG = ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")
_ARM = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow", "wrist_roll", "wrist_pitch", "wrist_yaw")
_WAIST = ("waist_yaw", "waist_roll", "waist_pitch")

JOINT_NAMES: tuple[str, ...] = (
    *(f"left_{j}_joint" for j in _LEG),
    *(f"right_{j}_joint" for j in _LEG),
    *(f"{j}_joint" for j in _WAIST),
    *(f"left_{j}_joint" for j in _ARM),
    *(f"right_{j}_joint" for j in _ARM),
)
"""The 29 hinge joints in canonical (MJCF) order."""

NUM_JOINTS = len(JOINT_NAMES)

ISAACLAB_JOINT_NAMES: tuple[str, ...] = (
    "left_hip_pitch_joint", "right_hip_pitch_joint", "waist_yaw_joint",
    "left_hip_roll_joint", "right_hip_roll_joint", "waist_roll_joint",
    "left_hip_yaw_joint", "right_hip_yaw_joint", "waist_pitch_joint",
    "left_knee_joint", "right_knee_joint",
    "left_shoulder_pitch_joint", "right_shoulder_pitch_joint",
    "left_ankle_pitch_joint", "right_ankle_pitch_joint",
    "left_shoulder_roll_joint", "right_shoulder_roll_joint",
    "left_ankle_roll_joint", "right_ankle_roll_joint",
    "left_shoulder_yaw_joint", "right_shoulder_yaw_joint",
    "left_elbow_joint", "right_elbow_joint",
    "left_wrist_roll_joint", "right_wrist_roll_joint",
    "left_wrist_pitch_joint", "right_wrist_pitch_joint",
    "left_wrist_yaw_joint", "right_wrist_yaw_joint",
)  # fmt: skip
"""SONIC's Isaac Lab joint order (policy actions, proprioception, ONNX), SONIC_REFERENCE §8."""

BODY_NAMES: tuple[str, ...] = (
    "pelvis",
    *(f"left_{j}_link" for j in _LEG),
    *(f"right_{j}_link" for j in _LEG),
    "waist_yaw_link", "waist_roll_link", "torso_link",
    *(f"left_{j}_link" for j in _ARM),
    *(f"right_{j}_link" for j in _ARM),
)  # fmt: skip
"""The 30 bodies of the MJCF (world excluded) in depth-first order; pelvis is the root."""

TRACKED_BODY_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip_roll_link", "left_knee_link", "left_ankle_roll_link",
    "right_hip_roll_link", "right_knee_link", "right_ankle_roll_link",
    "torso_link",
    "left_shoulder_roll_link", "left_elbow_link", "left_wrist_yaw_link",
    "right_shoulder_roll_link", "right_elbow_link", "right_wrist_yaw_link",
)  # fmt: skip
"""SONIC's 14 tracked bodies, pelvis first (SONIC_REFERENCE §3)."""


def joint_permutation(src: Sequence[str], dst: Sequence[str]) -> list[int]:
    """Index list ``perm`` such that ``x_dst = x_src[..., perm]``.

    Args:
        src: joint names in the order of the source vector.
        dst: joint names in the wanted order; every name must appear in ``src`` exactly once.

    Raises:
        ValueError: naming the joints that are missing from ``src`` or repeated in either list.
    """
    for label, names in (("src", src), ("dst", dst)):
        dupes = sorted({n for n in names if list(names).count(n) > 1})
        if dupes:
            raise ValueError(f"joint_permutation: {label} repeats joint names {dupes}")
    index = {name: i for i, name in enumerate(src)}
    missing = [n for n in dst if n not in index]
    if missing:
        raise ValueError(f"joint_permutation: names not found in the source order: {missing}")
    return [index[n] for n in dst]
