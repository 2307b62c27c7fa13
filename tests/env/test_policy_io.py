"""The G1 PolicyIO built from sonic_data.g1, checked against SONIC_REFERENCE §8 typed in by hand."""

from __future__ import annotations

import pytest

from sonic_data import g1
from sonic_env.policy_io import g1_policy_io
from sonic_model import sonic_release_contract

# SONIC_REFERENCE §8 gain table: joint suffix -> (K, D, action scale), rounded as printed there.
_TABLE = {
    "hip_pitch": (99.098, 6.309, 0.3507),
    "hip_roll": (99.098, 6.309, 0.3507),
    "knee": (99.098, 6.309, 0.3507),
    "hip_yaw": (40.179, 2.558, 0.5476),
    "waist_yaw": (40.179, 2.558, 0.5476),
    "ankle_pitch": (28.501, 1.814, 0.4386),
    "ankle_roll": (28.501, 1.814, 0.4386),
    "waist_roll": (28.501, 1.814, 0.4386),
    "waist_pitch": (28.501, 1.814, 0.4386),
    "shoulder_pitch": (14.251, 0.907, 0.4386),
    "shoulder_roll": (14.251, 0.907, 0.4386),
    "shoulder_yaw": (14.251, 0.907, 0.4386),
    "elbow": (14.251, 0.907, 0.4386),
    "wrist_roll": (14.251, 0.907, 0.4386),
    "wrist_pitch": (16.778, 1.068, 0.0745),
    "wrist_yaw": (16.778, 1.068, 0.0745),
}
# §8 init pose; other joints 0.
_DEFAULT = {
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
# §8 Isaac Lab order, written out.
_ISAACLAB_ORDER = [
    f"{side}{j}_joint"
    for group in (
        [("L", "hip_pitch"), ("R", "hip_pitch"), ("", "waist_yaw"), ("L", "hip_roll"), ("R", "hip_roll")],
        [
            ("", "waist_roll"),
            ("L", "hip_yaw"),
            ("R", "hip_yaw"),
            ("", "waist_pitch"),
            ("L", "knee"),
            ("R", "knee"),
        ],
        [("L", "shoulder_pitch"), ("R", "shoulder_pitch"), ("L", "ankle_pitch"), ("R", "ankle_pitch")],
        [("L", "shoulder_roll"), ("R", "shoulder_roll"), ("L", "ankle_roll"), ("R", "ankle_roll")],
        [("L", "shoulder_yaw"), ("R", "shoulder_yaw"), ("L", "elbow"), ("R", "elbow")],
        [("L", "wrist_roll"), ("R", "wrist_roll"), ("L", "wrist_pitch"), ("R", "wrist_pitch")],
        [("L", "wrist_yaw"), ("R", "wrist_yaw")],
    )
    for side, j in [({"L": "left_", "R": "right_", "": ""}[s], j) for s, j in group]
]


def _core(name: str) -> str:
    return name.removesuffix("_joint").removeprefix("left_").removeprefix("right_")


def test_default_order_is_sonic_isaaclab_order_and_the_contract_action_order() -> None:
    """The default joint order is §8's Isaac Lab order, which is also the release contract's action order."""
    io = g1_policy_io()
    assert list(io.joint_names) == _ISAACLAB_ORDER
    assert io.joint_names == sonic_release_contract().action_joint_names


def test_values_follow_each_joint_through_the_permutation() -> None:
    """kp, kd, action scale and default pose of every joint equal §8's values for that joint's name."""
    io = g1_policy_io()
    for i, name in enumerate(io.joint_names):
        k, d, scale = _TABLE[_core(name)]
        assert io.kp[i] == pytest.approx(k, abs=6e-4), name
        assert io.kd[i] == pytest.approx(d, abs=6e-4), name
        assert io.action_scale[i] == pytest.approx(scale, abs=6e-5), name
        assert io.default_joint_pos[i] == pytest.approx(_DEFAULT.get(name, 0.0), abs=1e-12), name
    assert io.control_dt_s == pytest.approx(0.02)
    assert io.action_clip == 20.0


def test_canonical_order_gives_the_g1_tables_unchanged() -> None:
    """Asking for sonic_data's canonical order is the identity permutation."""
    io = g1_policy_io(g1.JOINT_NAMES)
    assert io.kp == tuple(g1.KP) and io.kd == tuple(g1.KD)
    assert io.action_scale == tuple(g1.ACTION_SCALE) and io.default_joint_pos == tuple(g1.DEFAULT_JOINT_POS)


def test_bad_joint_lists_are_refused_by_name() -> None:
    """Unknown, missing and repeated joints give errors that name them."""
    names = list(g1.ISAACLAB_JOINT_NAMES)
    with pytest.raises(ValueError, match="left_toe_joint"):
        g1_policy_io([*names[:-1], "left_toe_joint"])
    with pytest.raises(ValueError, match="right_wrist_yaw_joint"):
        g1_policy_io(names[:-1])
    with pytest.raises(ValueError, match="repeats"):
        g1_policy_io([*names, names[0]])
