"""The vendored G1 MJCF against MuJoCo: joints, mass, limits; SONIC's default pose within them."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from sonic_data.g1 import (
    DEFAULT_JOINT_POS,
    G1_MJCF,
    JOINT_LIMITS,
    JOINT_LOWER,
    JOINT_NAMES,
    JOINT_UPPER,
    MJCF_PATH,
    TOTAL_MASS,
)


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    """The vendored MJCF compiled by MuJoCo."""
    return mujoco.MjModel.from_xml_path(str(MJCF_PATH))


def test_mjcf_loads_with_29_hinges_and_one_free_joint(model):
    """MuJoCo compiles the file into a floating base with 29 hinge joints (nq = 7 + 29)."""
    types = [int(t) for t in model.jnt_type]
    assert types.count(int(mujoco.mjtJoint.mjJNT_FREE)) == 1
    assert types.count(int(mujoco.mjtJoint.mjJNT_HINGE)) == 29
    assert model.njnt == 30 and model.nq == 36 and model.nv == 35
    assert model.nbody == 31  # world + 30


def test_total_mass_is_33_341_kg(model):
    """The model weighs 33.341 kg in MuJoCo, and the xml.etree parse sums to the same."""
    assert model.body_subtreemass[0] == pytest.approx(33.341, abs=1e-3)
    assert pytest.approx(float(model.body_subtreemass[0]), abs=1e-9) == TOTAL_MASS
    np.testing.assert_allclose(
        [float(b.mass or 0.0) for b in G1_MJCF.bodies], model.body_mass[1:], atol=1e-12
    )


def test_joint_limits_equal_mujoco_ranges(model):
    """JOINT_LIMITS lists MuJoCo's jnt_range for every joint, in canonical order."""
    ranges = np.array([model.joint(name).range for name in JOINT_NAMES])
    assert all(model.joint(name).limited for name in JOINT_NAMES)
    np.testing.assert_array_equal(np.array(JOINT_LIMITS), ranges)
    np.testing.assert_array_equal(np.array(JOINT_LOWER), ranges[:, 0])
    np.testing.assert_array_equal(np.array(JOINT_UPPER), ranges[:, 1])


def test_known_limits_read_in_radians():
    """Spot values from the MJCF text (compiler angle='radian'): knee [-0.087267, 2.8798]."""
    knee = JOINT_NAMES.index("left_knee_joint")
    assert JOINT_LIMITS[knee] == (-0.087267, 2.8798)
    right_roll = JOINT_NAMES.index("right_hip_roll_joint")
    assert JOINT_LIMITS[right_roll] == (-2.9671, 0.5236)


def test_default_pose_within_joint_limits():
    """SONIC's default pose lies inside the joint ranges (strictly, with SONIC's 0.9 soft factor)."""
    lo, hi = np.array(JOINT_LOWER), np.array(JOINT_UPPER)
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    q = np.array(DEFAULT_JOINT_POS)
    outside = [n for n, inside in zip(JOINT_NAMES, np.abs(q - mid) <= 0.9 * half, strict=True) if not inside]
    assert not outside
