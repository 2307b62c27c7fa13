"""Joint/body names and order maps of the G1 description, against MuJoCo and literal indices."""

from __future__ import annotations

import mujoco
import pytest

from sonic_data.g1 import BODY_NAMES, ISAACLAB_JOINT_NAMES, JOINT_NAMES, MJCF_PATH, joint_permutation


def test_canonical_joint_order_is_the_mjcf_order():
    """JOINT_NAMES lists the MJCF hinge joints in their file order; BODY_NAMES the MJCF bodies."""
    model = mujoco.MjModel.from_xml_path(str(MJCF_PATH))
    hinges = [
        model.joint(i).name for i in range(model.njnt) if model.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE
    ]
    assert hinges == list(JOINT_NAMES)
    assert [model.body(i).name for i in range(1, model.nbody)] == list(BODY_NAMES)


def test_canonical_to_isaaclab_permutation_matches_literal_indices():
    """The 12 leg joints land at SONIC's Isaac Lab indices, the wrists at 23-28."""
    perm = joint_permutation(ISAACLAB_JOINT_NAMES, JOINT_NAMES)  # isaac index of each canonical joint
    assert perm[:12] == [0, 3, 6, 9, 13, 17, 1, 4, 7, 10, 14, 18]
    assert perm[12:15] == [2, 5, 8]
    assert perm[15:22] == [11, 15, 19, 21, 23, 25, 27]
    assert perm[22:29] == [12, 16, 20, 22, 24, 26, 28]


def test_permutation_round_trip_and_errors():
    """Permuting there and back is the identity; unknown or repeated names raise naming them."""
    fwd = joint_permutation(JOINT_NAMES, ISAACLAB_JOINT_NAMES)
    back = joint_permutation(ISAACLAB_JOINT_NAMES, JOINT_NAMES)
    assert [fwd[i] for i in back] == list(range(29))
    with pytest.raises(ValueError, match="nose_joint"):
        joint_permutation(JOINT_NAMES, ["nose_joint"])
    with pytest.raises(ValueError, match="repeats"):
        joint_permutation(["a", "a"], ["a"])
