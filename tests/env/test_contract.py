"""Observation groups are built from the contract, and a contract the env cannot honour fails at construction.

No simulator: these check the Isaac Lab configuration the builder produces (term order, history,
noise, joint permutations) and the errors, which must name the offending term. The widths of a
built env are checked in ``test_commands.py``.
"""

from __future__ import annotations

import pytest
from isaaclab.managers import ObservationGroupCfg, ObservationTermCfg
from isaaclab.utils.noise import UniformNoiseCfg

from sonic_data import g1
from sonic_env.config import MotionCommandConfig
from sonic_env.observation_builder import ContractEnvError, command_parts, observation_groups, policy_io
from sonic_model import ObservationContract, ObservationTerm
from sonic_model.presets import preset

RELEASE = preset("sonic_release").contract
BONES = preset("sonic_bones_seed").contract
MOTION = MotionCommandConfig()
GROUP_SETTINGS = {"concatenate_terms", "concatenate_dim", "enable_corruption", "history_length",
                  "flatten_history_dim", "history_order"}  # fmt: skip


def _terms(group: ObservationGroupCfg) -> dict[str, ObservationTermCfg]:
    return {k: v for k, v in vars(group).items() if k not in GROUP_SETTINGS}


def _ids(group: ObservationGroupCfg, term: str, key: str) -> list[int]:
    """An index-list parameter of a built term."""
    value = _terms(group)[term].params[key]
    assert isinstance(value, list)
    return value


def _replace_term(
    contract: ObservationContract, group: str, name: str, **update: object
) -> ObservationContract:
    terms = tuple(t.model_copy(update=update) if t.name == name else t for t in getattr(contract, group))
    return contract.model_copy(update={group: terms})


def test_groups_follow_the_contract_order() -> None:
    """Tokenizer (minus file-only mode_id), policy and critic terms appear in contract order."""
    for contract in (RELEASE, BONES):
        groups = observation_groups(contract, MOTION, True)
        assert list(_terms(groups["tokenizer"])) == [t.name for t in contract.tokenizer if not t.file_only]
        assert list(_terms(groups["policy"])) == [t.name for t in contract.proprioception]
        assert list(_terms(groups["critic"])) == [t.name for t in contract.critic]
        assert not groups["tokenizer"].concatenate_terms
        assert groups["policy"].concatenate_terms and groups["critic"].concatenate_terms


def test_noise_is_the_contracts_and_can_be_switched_off() -> None:
    """Noise on: ±term.noise uniform on noisy tokenizer/policy terms, critic never; off: no corruption at all."""
    train = observation_groups(RELEASE, MOTION, True)
    for group, terms in (("tokenizer", RELEASE.tokenizer), ("policy", RELEASE.proprioception)):
        built = _terms(train[group])
        for term in terms:
            if term.file_only:
                continue
            noise = built[term.name].noise
            if term.noise > 0:
                assert isinstance(noise, UniformNoiseCfg), term.name
                assert (noise.n_min, noise.n_max) == (-term.noise, term.noise)
            else:
                assert noise is None, term.name
        assert train[group].enable_corruption
    assert _terms(train["tokenizer"])["smpl_joints_multi_future_local_nonflat"].noise is not None
    assert _terms(train["policy"])["joint_vel"].noise.n_max == 0.5  # pyright: ignore[reportOptionalMemberAccess]
    assert all(t.noise is None for t in _terms(train["critic"]).values())
    quiet = observation_groups(RELEASE, MOTION, False)
    assert not quiet["tokenizer"].enable_corruption and not quiet["policy"].enable_corruption


def test_history_terms_keep_ten_steps() -> None:
    """Every proprioception term and the critic's robot-state terms keep 10 steps, flattened."""
    groups = observation_groups(RELEASE, MOTION, True)
    assert {t.history_length for t in _terms(groups["policy"]).values()} == {10}
    critic = _terms(groups["critic"])
    assert {k for k, t in critic.items() if t.history_length == 10} == {
        "base_lin_vel", "base_ang_vel", "joint_pos", "joint_vel", "actions"
    }  # fmt: skip


def test_joint_terms_gather_by_name() -> None:
    """joint_pos gathers Isaac Lab order from canonical; the lower-body command the 12 legs in MuJoCo order."""
    groups = observation_groups(RELEASE, MOTION, True)
    ids = _ids(groups["policy"], "joint_pos", "joint_ids")
    assert [g1.JOINT_NAMES[i] for i in ids] == list(g1.ISAACLAB_JOINT_NAMES)
    assert ids[9] == g1.JOINT_NAMES.index("left_knee_joint") == 3
    lower = _ids(groups["tokenizer"], "command_multi_future_lower_body", "joint_ids")
    assert lower == list(range(12))
    wrist = _ids(groups["tokenizer"], "joint_pos_multi_future_wrist_for_smpl", "joint_ids")
    assert [g1.JOINT_NAMES[i] for i in wrist] == list(g1.ISAACLAB_JOINT_NAMES[23:29])
    actions = _ids(groups["policy"], "actions", "action_ids")
    assert actions == list(range(29))  # the action vector is already in the contract's order


def test_command_parts_follow_the_contract() -> None:
    """Release: 3 encoders, SMPL only; bones_seed adds soma; VR bodies and offsets from the contract."""
    release, bones = command_parts(RELEASE), command_parts(BONES)
    assert release["encoder_names"] == ("g1", "teleop", "smpl") and release["human_parts"] == ("smpl",)
    assert bones["encoder_names"] == ("g1", "teleop", "smpl", "soma") and bones["human_parts"] == (
        "smpl",
        "soma",
    )
    assert release["teleop_bodies"] == ("left_wrist_yaw_link", "right_wrist_yaw_link", "torso_link")
    assert release["teleop_offsets"][2] == (0.0, 0.0, 0.35)


def test_a_wrong_shape_names_the_term() -> None:
    """command_multi_future_lower_body declared (200,) cannot be produced: error names the term."""
    bad = _replace_term(RELEASE, "tokenizer", "command_multi_future_lower_body", shape=(200,))
    with pytest.raises(ContractEnvError, match="command_multi_future_lower_body"):
        observation_groups(bad, MOTION, True)


def test_a_wrong_future_count_names_the_term() -> None:
    """A contract asking for 5 future frames while the command provides 10."""
    bad = _replace_term(RELEASE, "tokenizer", "motion_anchor_ori_b_mf_nonflat", num_frames=5, shape=(5, 6))
    with pytest.raises(ContractEnvError, match="motion_anchor_ori_b_mf_nonflat.*5 future frames"):
        observation_groups(bad, MOTION, True)


def test_an_unknown_joint_names_the_term() -> None:
    """A joint the robot does not have."""
    names = ("left_toe_joint", *g1.ISAACLAB_JOINT_NAMES[1:])
    bad = _replace_term(RELEASE, "proprioception", "joint_vel", joint_names=names)
    with pytest.raises(ContractEnvError, match="joint_vel.*left_toe_joint"):
        observation_groups(bad, MOTION, True)


def test_an_untracked_body_names_the_term() -> None:
    """The critic's body_pos may only list bodies the motion command tracks."""
    bodies = (*g1.TRACKED_BODY_NAMES[:-1], "head_link")
    bad = _replace_term(RELEASE, "critic", "body_pos", body_names=bodies)
    with pytest.raises(ContractEnvError, match="body_pos.*head_link"):
        observation_groups(bad, MOTION, True)


def test_an_unknown_term_names_the_term() -> None:
    """A term this env has no producer for."""
    extra = ObservationTerm(name="command_z", shape=(1,), frame="world", units="m")
    bad = RELEASE.model_copy(update={"tokenizer": (*RELEASE.tokenizer, extra)})
    with pytest.raises(ContractEnvError, match="command_z.*unknown term"):
        observation_groups(bad, MOTION, True)


def test_policy_io_is_sonic_data_in_policy_order() -> None:
    """Slot 9 (left knee): default 0.669, 7520-22 motor gains and scale; dt 0.02, clip 20."""
    io = policy_io(RELEASE, control_dt_s=0.02, action_clip=20.0)
    knee = g1.JOINT_NAMES.index("left_knee_joint")
    assert io.joint_names == tuple(g1.ISAACLAB_JOINT_NAMES)
    assert io.default_joint_pos[9] == 0.669
    assert (io.kp[9], io.kd[9], io.action_scale[9]) == (g1.KP[knee], g1.KD[knee], g1.ACTION_SCALE[knee])
    assert io.kp[9] == pytest.approx(99.098, abs=1e-3) and io.action_scale[9] == pytest.approx(
        0.3507, abs=1e-4
    )
    wrist = g1.JOINT_NAMES.index("right_wrist_yaw_joint")
    assert io.action_scale[28] == g1.ACTION_SCALE[wrist] == pytest.approx(0.0745, abs=1e-4)
    assert (io.control_dt_s, io.action_clip) == (0.02, 20.0)
