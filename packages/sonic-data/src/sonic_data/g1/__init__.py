"""The Unitree G1 29-DOF description: the single source of every number about the robot.

The vendored MJCF ``g1.xml`` (mesh-free; provenance in its header, licences beside it) is the one
model file; everything else (USD for Isaac Lab, forward kinematics, joint limits, mass) is derived
from it. Modules: ``names`` (joint/body names and orders), ``model`` (numbers read from the MJCF),
``mjcf`` (the ``xml.etree`` reader), ``actuators`` (SONIC's gains and limits), ``default_pose``.
"""

from __future__ import annotations

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
from sonic_data.g1.model import (
    G1_MJCF,
    JOINT_LIMITS,
    JOINT_LOWER,
    JOINT_UPPER,
    MJCF_PATH,
    TOTAL_MASS,
)
from sonic_data.g1.names import (
    BODY_NAMES,
    ISAACLAB_JOINT_NAMES,
    JOINT_NAMES,
    NUM_JOINTS,
    TRACKED_BODY_NAMES,
    joint_permutation,
)

__all__ = [
    "ACTION_SCALE",
    "ARMATURE",
    "BODY_NAMES",
    "DEFAULT_JOINT_POS",
    "DEFAULT_ROOT_HEIGHT",
    "EFFORT_LIMIT",
    "G1_MJCF",
    "ISAACLAB_JOINT_NAMES",
    "JOINT_LIMITS",
    "JOINT_LOWER",
    "JOINT_MOTORS",
    "JOINT_NAMES",
    "JOINT_UPPER",
    "KD",
    "KP",
    "MJCF_PATH",
    "MOTORS",
    "NUM_JOINTS",
    "TOTAL_MASS",
    "TRACKED_BODY_NAMES",
    "VELOCITY_LIMIT",
    "Motor",
    "joint_permutation",
    "motor_of",
]
