"""The joint and body names written as data in sonic_model's presets equal sonic_data.g1's names."""

from __future__ import annotations

import pytest

from sonic_data.g1 import BODY_NAMES, ISAACLAB_JOINT_NAMES, JOINT_NAMES, TRACKED_BODY_NAMES
from sonic_model import PRESETS, ObservationContract, g1_contracts

CANONICAL_LEGS = JOINT_NAMES[:12]
ISAACLAB_WRISTS = ISAACLAB_JOINT_NAMES[23:29]


def test_module_name_lists_equal_sonic_data():
    """sonic_model.g1_contracts' lists: Isaac Lab order, MuJoCo leg order, wrists 23-28, tracked bodies."""
    assert g1_contracts.ISAACLAB_JOINT_NAMES == ISAACLAB_JOINT_NAMES
    assert g1_contracts.LOWER_BODY_JOINT_NAMES == CANONICAL_LEGS
    assert g1_contracts.WRIST_JOINT_NAMES == ISAACLAB_WRISTS
    assert g1_contracts.TRACKED_BODY_NAMES == TRACKED_BODY_NAMES
    assert set(g1_contracts.VR_3POINT_BODY_NAMES) <= set(BODY_NAMES)


def _terms(contract: ObservationContract):
    for group in ("tokenizer", "proprioception", "critic"):
        for term in getattr(contract, group):
            yield group, term


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_contract_uses_sonic_data_names(name: str):
    """Each joint-valued term lists exactly one of the three orders FORMATS.md allows; G1 body lists
    are tracked bodies or MJCF bodies; actions are in Isaac Lab order."""
    contract = PRESETS[name]().contract
    assert contract.action_joint_names == ISAACLAB_JOINT_NAMES
    expected_joints = {
        "command_multi_future_lower_body": CANONICAL_LEGS,
        "joint_pos_multi_future_wrist_for_smpl": ISAACLAB_WRISTS,
        "joint_pos_multi_future_wrist_for_soma": ISAACLAB_WRISTS,
    }
    joint_terms = 0
    for group, term in _terms(contract):
        if term.joint_names is not None:
            joint_terms += 1
            assert term.joint_names == expected_joints.get(term.name, ISAACLAB_JOINT_NAMES), (
                group,
                term.name,
            )
        if term.body_names is not None and term.body_skeleton == "g1":
            assert set(term.body_names) <= set(BODY_NAMES), (group, term.name)
            if term.name in ("body_pos", "body_ori"):
                assert term.body_names == TRACKED_BODY_NAMES
    assert joint_terms >= 10
