"""SONIC's actuator model of the G1: motor type per joint, armature, PD gains, limits, action scale.

Source: GEAR-SONIC ``gear_sonic/envs/manager_env/robots/g1.py`` (SONIC_REFERENCE §8). Gains follow
from the reflected rotor inertia (armature) of each motor type with a natural frequency of 10 Hz and
a damping ratio of 2: ``kp = armature·ω²``, ``kd = 2·ζ·armature·ω`` with ``ω = 2π·10``, ``ζ = 2``.
Effort and velocity limits are SONIC's per-motor values (not the MJCF's: SONIC trains hip_pitch at
139 N·m). The action scale is ``0.25·effort/kp``, so a unit action moves a joint target by a quarter
of the angle at which its PD term saturates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sonic_data.g1.names import JOINT_NAMES

NATURAL_FREQ_HZ = 10.0
DAMPING_RATIO = 2.0
ACTION_SCALE_FACTOR = 0.25

_ARMATURE_5020 = 0.003609725
_ARMATURE_7520_14 = 0.010177520
_ARMATURE_7520_22 = 0.025101925
_ARMATURE_4010 = 0.00425


@dataclass(frozen=True)
class Motor:
    """One motor type: reflected inertia (kg·m²), effort limit (N·m), velocity limit (rad/s)."""

    name: str
    armature: float
    effort_limit: float
    velocity_limit: float

    @property
    def kp(self) -> float:
        """Stiffness ``armature·ω²`` (N·m/rad)."""
        omega = 2.0 * math.pi * NATURAL_FREQ_HZ
        return self.armature * omega**2

    @property
    def kd(self) -> float:
        """Damping ``2·ζ·armature·ω`` (N·m·s/rad)."""
        omega = 2.0 * math.pi * NATURAL_FREQ_HZ
        return 2.0 * DAMPING_RATIO * self.armature * omega

    @property
    def action_scale(self) -> float:
        """``0.25·effort/kp`` (rad per unit action)."""
        return ACTION_SCALE_FACTOR * self.effort_limit / self.kp


MOTORS: dict[str, Motor] = {
    "7520_22": Motor("7520_22", _ARMATURE_7520_22, 139.0, 20.0),
    "7520_14": Motor("7520_14", _ARMATURE_7520_14, 88.0, 32.0),
    "2x5020": Motor("2x5020", 2.0 * _ARMATURE_5020, 50.0, 37.0),
    "5020": Motor("5020", _ARMATURE_5020, 25.0, 37.0),
    "4010": Motor("4010", _ARMATURE_4010, 5.0, 22.0),
}
"""Motor types and SONIC's limits for them (SONIC_REFERENCE §8 table)."""

_MOTOR_BY_JOINT_SUFFIX: dict[str, str] = {
    "hip_pitch": "7520_22",
    "hip_roll": "7520_22",
    "knee": "7520_22",
    "hip_yaw": "7520_14",
    "waist_yaw": "7520_14",
    "ankle_pitch": "2x5020",
    "ankle_roll": "2x5020",
    "waist_roll": "2x5020",
    "waist_pitch": "2x5020",
    "shoulder_pitch": "5020",
    "shoulder_roll": "5020",
    "shoulder_yaw": "5020",
    "elbow": "5020",
    "wrist_roll": "5020",
    "wrist_pitch": "4010",
    "wrist_yaw": "4010",
}


def motor_of(joint_name: str) -> Motor:
    """The motor that drives ``joint_name`` (e.g. ``"left_knee_joint"`` → 7520_22)."""
    core = joint_name.removesuffix("_joint").removeprefix("left_").removeprefix("right_")
    try:
        return MOTORS[_MOTOR_BY_JOINT_SUFFIX[core]]
    except KeyError:
        raise KeyError(f"motor_of: {joint_name!r} is not a G1 joint; expected one of {JOINT_NAMES}") from None


JOINT_MOTORS: tuple[Motor, ...] = tuple(motor_of(n) for n in JOINT_NAMES)
"""Motor of every joint, canonical order."""

ARMATURE: tuple[float, ...] = tuple(m.armature for m in JOINT_MOTORS)
KP: tuple[float, ...] = tuple(m.kp for m in JOINT_MOTORS)
KD: tuple[float, ...] = tuple(m.kd for m in JOINT_MOTORS)
EFFORT_LIMIT: tuple[float, ...] = tuple(m.effort_limit for m in JOINT_MOTORS)
VELOCITY_LIMIT: tuple[float, ...] = tuple(m.velocity_limit for m in JOINT_MOTORS)
ACTION_SCALE: tuple[float, ...] = tuple(m.action_scale for m in JOINT_MOTORS)
"""Per-joint tables in canonical order."""
