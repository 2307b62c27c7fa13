"""ObservationContract: SONIC's widths, mismatch messages, stable hash, YAML-able round trips."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from sonic_model import (
    ContractMismatchError,
    ModelConfig,
    ObservationContract,
    PolicyIO,
    preset,
    sonic_bones_seed_contract,
    sonic_release_contract,
)


def replace_term(contract: ObservationContract, group: str, name: str, **update) -> ObservationContract:
    terms = tuple(t.model_copy(update=update) if t.name == name else t for t in getattr(contract, group))
    return ObservationContract.model_validate(
        {**contract.model_dump(), group: [t.model_dump() for t in terms]}
    )


def test_widths_equal_sonic():
    """Encoders 640/267/840/900, decoder 64 + 930 = 994, critic 1645, g1_kin 640, 29 actions."""
    release, bones = sonic_release_contract(), sonic_bones_seed_contract()
    assert [release.input_width(n) for n in release.encoder_names] == [640, 267, 840]
    assert [bones.input_width(n) for n in bones.encoder_names] == [640, 267, 840, 900]
    for c in (release, bones):
        assert c.proprioception_width == 930 and c.critic_width == 1645
        assert c.input_width("g1_kin") == 640 and c.num_actions == 29
    assert ModelConfig().latent_dim + release.proprioception_width == 994
    assert [t.name for t in release.proprioception] == [
        "base_ang_vel",
        "joint_pos",
        "joint_vel",
        "actions",
        "gravity_dir",
    ]
    assert [t.name for t in release.critic] == [
        "command_multi_future", "motion_anchor_pos_b", "motion_anchor_ori_b", "body_pos", "body_ori",
        "base_lin_vel", "base_ang_vel", "joint_pos", "joint_vel", "actions",
    ]  # fmt: skip


def test_mismatch_names_the_term():
    """A changed shape, joint order or removed term is reported by name; check_matches raises."""
    base = sonic_release_contract()
    changed = replace_term(base, "tokenizer", "smpl_root_ori_b_multi_future", frame_spacing_s=0.1)
    diff = base.diff(changed)
    assert diff == ["tokenizer term 'smpl_root_ori_b_multi_future': frame_spacing_s 0.02 != 0.1"]
    reversed_joints = tuple(reversed(base.proprioception[1].joint_names or ()))
    changed = replace_term(base, "proprioception", "joint_pos", joint_names=reversed_joints)
    assert (
        len(base.diff(changed)) == 1
        and "proprioception term 'joint_pos': joint_names" in base.diff(changed)[0]
    )
    with pytest.raises(ContractMismatchError, match="critic term 'body_pos': only in this contract") as err:
        fewer = ObservationContract.model_validate(
            {**base.model_dump(), "critic": [t.model_dump() for t in base.critic if t.name != "body_pos"]}
        )
        base.check_matches(fewer, context="test")
    assert len(err.value.differences) == 1
    assert sonic_release_contract().diff(base) == []


def test_release_and_bones_seed_differ_in_named_places():
    """The two SONIC contracts differ in their name, encoder list, encoder_index width and soma terms."""
    diff = sonic_release_contract().diff(sonic_bones_seed_contract())
    text = "\n".join(diff)
    assert diff[0].startswith("name")
    assert "tokenizer term 'encoder_index': shape [3] != [4]" in text
    assert "tokenizer term 'soma_joints_multi_future_local_nonflat': only in the other contract" in text
    assert "encoders ['g1', 'teleop', 'smpl'] != ['g1', 'teleop', 'smpl', 'soma']" in text


def test_hash_is_stable_and_ignores_annotations():
    """Same layout -> same hash (also in another process); a layout change moves it; a changed
    description or noise level does not."""
    base = sonic_release_contract()
    code = "from sonic_model import sonic_release_contract as c; print(c().stable_hash())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123"})  # fmt: skip
    assert other.stdout.strip() == base.stable_hash()
    assert len(base.stable_hash()) == 64
    assert replace_term(
        base, "tokenizer", "motion_anchor_ori_b", noise=0.0, description="x"
    ).stable_hash() == (base.stable_hash())
    assert replace_term(base, "critic", "body_pos", units="cm").stable_hash() != base.stable_hash()


def test_configs_round_trip_through_json_data():
    """Contract, ModelConfig and PolicyIO survive model_dump(mode='json') -> JSON -> model_validate."""
    for obj in (sonic_bones_seed_contract(), preset("sonic_bones_seed").model, _policy_io()):
        data = json.loads(json.dumps(obj.model_dump(mode="json")))
        assert type(obj).model_validate(data) == obj


def test_unknown_keys_and_inconsistent_terms_are_rejected():
    """extra='forbid' names the key; an encoder reading an unknown term and bad joint lists raise."""
    with pytest.raises(ValidationError, match="encoder_hiden"):
        ModelConfig.model_validate({"encoder_hiden": [8]})
    data = sonic_release_contract().model_dump()
    data["encoders"][1]["inputs"] = ["vr_3point_target"]
    with pytest.raises(ValidationError, match="'vr_3point_target', which is not a tokenizer term"):
        ObservationContract.model_validate(data)
    data = sonic_release_contract().model_dump()
    data["critic"][0]["joint_names"] = ["a", "b", "c"]
    with pytest.raises(ValidationError, match="not a multiple of len"):
        ObservationContract.model_validate(data)


def _policy_io() -> PolicyIO:
    names = sonic_release_contract().action_joint_names
    return PolicyIO(
        joint_names=names, default_joint_pos=(0.0,) * 29, kp=(40.0,) * 29, kd=(2.0,) * 29,
        action_scale=(0.25,) * 29, control_dt_s=0.02, action_clip=20.0,
    )  # fmt: skip


def test_policy_io_checks_lengths():
    """Per-joint lists must have one value per joint; the error names the field."""
    data = _policy_io().model_dump()
    data["kd"] = data["kd"][:28]
    with pytest.raises(ValidationError, match=r"PolicyIO.kd: expected 29 values"):
        PolicyIO.model_validate(data)
