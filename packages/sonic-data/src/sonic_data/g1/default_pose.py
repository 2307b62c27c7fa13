"""SONIC's default (initial) pose of the G1 (SONIC_REFERENCE §8).

Joints not listed are 0. This is not the MJCF's ``qpos0`` (pelvis at 0.793 m, all joints 0).
"""

from __future__ import annotations

from sonic_data.g1.names import JOINT_NAMES

DEFAULT_ROOT_HEIGHT = 0.76
"""Initial pelvis height (m)."""

_NONZERO = {
    "left_hip_pitch_joint": -0.312,
    "right_hip_pitch_joint": -0.312,
    "left_knee_joint": 0.669,
    "right_knee_joint": 0.669,
    "left_ankle_pitch_joint": -0.363,
    "right_ankle_pitch_joint": -0.363,
    "left_elbow_joint": 0.6,
    "right_elbow_joint": 0.6,
    "left_shoulder_roll_joint": 0.2,
    "left_shoulder_pitch_joint": 0.2,
    "right_shoulder_roll_joint": -0.2,
    "right_shoulder_pitch_joint": 0.2,
}

DEFAULT_JOINT_POS: tuple[float, ...] = tuple(_NONZERO.get(n, 0.0) for n in JOINT_NAMES)
"""Default joint angles (rad), canonical order."""
