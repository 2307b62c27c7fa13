"""SONIC's actuator table: the gain formulas and the published numbers of SONIC_REFERENCE §8."""

from __future__ import annotations

import math

import pytest

from sonic_data.g1 import (
    ACTION_SCALE,
    ARMATURE,
    EFFORT_LIMIT,
    JOINT_NAMES,
    KD,
    KP,
    VELOCITY_LIMIT,
    motor_of,
)

# SONIC_REFERENCE §8, copied as printed: joints of the group, K, D, armature, effort, velocity, scale.
PUBLISHED = [
    (("hip_pitch", "hip_roll", "knee"), 99.098, 6.309, 0.025102, 139, 20, 0.3507),
    (("hip_yaw", "waist_yaw"), 40.179, 2.558, 0.010178, 88, 32, 0.5476),
    (("ankle_pitch", "ankle_roll", "waist_roll", "waist_pitch"), 28.501, 1.814, 0.007219, 50, 37, 0.4386),
    (
        ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow", "wrist_roll"),
        14.251,
        0.907,
        0.003610,
        25,
        37,
        0.4386,
    ),
    (("wrist_pitch", "wrist_yaw"), 16.778, 1.068, 0.004250, 5, 22, 0.0745),
]


def joints_of(group: tuple[str, ...]) -> list[int]:
    """Canonical indices of every joint whose name, sides stripped, is in ``group``."""
    core = [n.removesuffix("_joint").removeprefix("left_").removeprefix("right_") for n in JOINT_NAMES]
    return [i for i, c in enumerate(core) if c in group]


def test_groups_cover_every_joint_once():
    """The published groups partition the 29 joints."""
    indices = sorted(i for group, *_ in PUBLISHED for i in joints_of(group))
    assert indices == list(range(29))


@pytest.mark.parametrize(("group", "kp", "kd", "armature", "effort", "velocity", "scale"), PUBLISHED)
def test_table_reproduces_published_numbers(group, kp, kd, armature, effort, velocity, scale):
    """Every joint of a group carries SONIC's printed K, D, armature, limits and action scale."""
    for i in joints_of(group):
        assert KP[i] == pytest.approx(kp, abs=5e-4), JOINT_NAMES[i]
        assert KD[i] == pytest.approx(kd, abs=5e-4), JOINT_NAMES[i]
        assert ARMATURE[i] == pytest.approx(armature, abs=5e-7), JOINT_NAMES[i]
        assert EFFORT_LIMIT[i] == effort, JOINT_NAMES[i]
        assert VELOCITY_LIMIT[i] == velocity, JOINT_NAMES[i]
        # One unit of the last printed digit: the table prints 0.25·88/40.179 = 0.547546 as 0.5476.
        assert ACTION_SCALE[i] == pytest.approx(scale, abs=1e-4), JOINT_NAMES[i]


def test_gains_follow_the_formulas_from_motor_armature():
    """kp = a·(2π·10)², kd = 2·2·a·(2π·10), scale = 0.25·effort/kp, from the motor datasheet armatures."""
    datasheet = {"5020": 0.003609725, "7520_14": 0.010177520, "7520_22": 0.025101925, "4010": 0.00425}
    expected_motor = {
        "hip_pitch": "7520_22",
        "hip_roll": "7520_22",
        "knee": "7520_22",
        "hip_yaw": "7520_14",
        "waist_yaw": "7520_14",
        "wrist_pitch": "4010",
        "wrist_yaw": "4010",
    }
    doubled = {"ankle_pitch", "ankle_roll", "waist_roll", "waist_pitch"}
    omega = 2.0 * math.pi * 10.0
    for i, name in enumerate(JOINT_NAMES):
        core = name.removesuffix("_joint").removeprefix("left_").removeprefix("right_")
        armature = 2 * datasheet["5020"] if core in doubled else datasheet[expected_motor.get(core, "5020")]
        assert ARMATURE[i] == pytest.approx(armature, rel=1e-12), name
        assert KP[i] == pytest.approx(armature * omega**2, rel=1e-12), name
        assert KD[i] == pytest.approx(2.0 * 2.0 * armature * omega, rel=1e-12), name
        assert ACTION_SCALE[i] == pytest.approx(0.25 * EFFORT_LIMIT[i] / KP[i], rel=1e-12), name


def test_motor_of_rejects_unknown_joint():
    """An unknown joint name raises naming it."""
    with pytest.raises(KeyError, match="nose_joint"):
        motor_of("nose_joint")
