"""The Unitree G1 29-DOF description: the single source of joint/body names, orders and the MJCF.

The vendored MJCF ``g1.xml`` (mesh-free; provenance in its header, licences beside it) is the one
model file; everything else (USD for Isaac Lab, forward kinematics) is derived from it.
"""

from __future__ import annotations

from pathlib import Path

from sonic_data.g1.actuators import (
    ACTION_SCALE,
    ARMATURE,
    EFFORT_LIMIT,
    JOINT_MOTORS,
    KD,
    KP,
    MOTORS,
    VELOCITY_LIMIT,
    Motor,
    motor_of,
)
from sonic_data.g1.default_pose import DEFAULT_JOINT_POS, DEFAULT_ROOT_HEIGHT
from sonic_data.g1.names import (
    BODY_NAMES,
    ISAACLAB_JOINT_NAMES,
    JOINT_NAMES,
    NUM_JOINTS,
    TRACKED_BODY_NAMES,
    joint_permutation,
)

MJCF_PATH: Path = Path(__file__).with_name("g1.xml")
"""Path of the vendored mesh-free G1 MJCF."""

__all__ = [
    "ACTION_SCALE",
    "ARMATURE",
    "DEFAULT_JOINT_POS",
    "DEFAULT_ROOT_HEIGHT",
    "EFFORT_LIMIT",
    "JOINT_MOTORS",
    "KD",
    "KP",
    "MOTORS",
    "Motor",
    "VELOCITY_LIMIT",
    "motor_of",
    "BODY_NAMES",
    "ISAACLAB_JOINT_NAMES",
    "JOINT_NAMES",
    "MJCF_PATH",
    "NUM_JOINTS",
    "TRACKED_BODY_NAMES",
    "joint_permutation",
]
