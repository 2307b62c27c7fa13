"""save_policy / load_policy: exact round trip, plain-data file, mismatch errors that name things."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sonic_model import (
    CheckpointError,
    ContractMismatchError,
    ObservationContract,
    PolicyIO,
    UniversalTokenPolicy,
    load_policy,
    preset,
    save_policy,
)


def policy_io(names) -> PolicyIO:
    n = len(names)
    return PolicyIO(
        joint_names=tuple(names), default_joint_pos=tuple(0.01 * i for i in range(n)), kp=(40.0,) * n,
        kd=(2.5,) * n, action_scale=(0.3,) * n, control_dt_s=0.02, action_clip=20.0,
    )  # fmt: skip


@pytest.fixture
def saved(
    tmp_path: Path, small_policy: UniversalTokenPolicy, make_batch
) -> tuple[Path, UniversalTokenPolicy]:
    """A small policy with moved std and normaliser statistics, saved to a file."""
    _, _, critic_obs, _ = make_batch(small_policy.contract, 8)
    small_policy.update_critic_normalizer(critic_obs * 3.0 + 1.0)
    with torch.no_grad():
        small_policy.std.copy_(torch.linspace(0.01, 0.3, 29))
    path = save_policy(
        tmp_path / "run" / "policy.pt", small_policy, policy_io(small_policy.contract.action_joint_names)
    )
    return path, small_policy


def test_round_trip_reproduces_actions_exactly(saved, make_batch, mask):
    """Loaded policy gives bit-identical action means, log-probs and values; PolicyIO comes back."""
    path, policy = saved
    loaded = load_policy(path, with_critic=True)
    terms, proprio, critic_obs, actions = make_batch(policy.contract, mask.shape[0])
    assert torch.equal(
        loaded.policy.act_inference(terms, mask, proprio), policy.act_inference(terms, mask, proprio)
    )
    a = loaded.policy.evaluate(terms, mask, proprio, actions, critic_obs)
    b = policy.evaluate(terms, mask, proprio, actions, critic_obs)
    assert torch.equal(a.log_prob, b.log_prob) and a.value is not None and b.value is not None
    assert torch.equal(a.value, b.value)
    assert loaded.policy_io == policy_io(policy.contract.action_joint_names)
    assert loaded.policy.contract == policy.contract and loaded.policy.config == policy.config
    assert load_policy(path).policy.critic is None  # policy part only by default


def test_file_is_plain_data(saved):
    """The file loads with weights_only=True and has FORMATS.md's top-level and part keys."""
    path, policy = saved
    ckpt = torch.load(path, weights_only=True)
    assert set(ckpt) == {"format_version", "policy", "critic"}
    assert set(ckpt["policy"]) == {"model_config", "contract", "policy_io", "state_dict"}
    assert set(ckpt["critic"]) == {"state_dict", "normalizer"}
    assert set(ckpt["policy"]["state_dict"]) == set(policy.actor_state_dict())
    assert set(ckpt["critic"]["normalizer"]) == {"running_mean", "running_var", "count"}
    assert "module.0.weight" in ckpt["critic"]["state_dict"]
    assert isinstance(ckpt["policy"]["model_config"]["encoder_hidden"], list)
    assert [p.name for p in path.parent.iterdir()] == ["policy.pt"]  # no temporary file left behind


def test_architecture_mismatch_names_the_tensors(saved):
    """Loading into a wider g1_dyn names the config field and the differing decoder tensors."""
    path, policy = saved
    wider = policy.config.model_copy(update={"g1_dyn_hidden": (96, 64)})
    with pytest.raises(CheckpointError) as err:
        load_policy(path, expected_config=wider)
    text = str(err.value)
    assert "model_config.g1_dyn_hidden" in text
    assert (
        "policy tensor 'decoders.g1_dyn.module.0.weight': shape (64, 994) in the file, (96, 994) expected"
        in text
    )
    assert "encoders.g1" not in text
    # Non-architecture fields may differ: the expected config's aux weights apply.
    aux = policy.config.aux.model_copy(update={"g1_recon": 0.5})
    loaded = load_policy(path, expected_config=policy.config.model_copy(update={"aux": aux}))
    assert loaded.policy.config.aux.g1_recon == 0.5


def test_contract_mismatch_names_the_term(saved):
    """An expected contract with a different term raises ContractMismatchError naming it."""
    path, policy = saved
    contract = policy.contract
    tokenizer = [
        t.model_copy(update={"units": "deg"}) if t.name == "joint_pos_multi_future_wrist_for_smpl" else t
        for t in contract.tokenizer
    ]
    other = ObservationContract.model_validate(
        {**contract.model_dump(), "tokenizer": [t.model_dump() for t in tokenizer]}
    )
    with pytest.raises(
        ContractMismatchError, match="joint_pos_multi_future_wrist_for_smpl': units 'rad' != 'deg'"
    ):
        load_policy(path, expected_contract=other)
    assert load_policy(path, expected_contract=preset("small").contract).policy.contract == contract


def test_malformed_files_raise_naming_the_key(tmp_path: Path, saved):
    """Missing file, missing part key and wrong version are reported with the path and key."""
    path, _ = saved
    with pytest.raises(FileNotFoundError, match="nothing.pt"):
        load_policy(tmp_path / "nothing.pt")
    ckpt = torch.load(path, weights_only=True)
    del ckpt["policy"]["policy_io"]
    torch.save(ckpt, tmp_path / "broken.pt")
    with pytest.raises(CheckpointError, match=r"broken.pt: policy: missing key 'policy_io'"):
        load_policy(tmp_path / "broken.pt")
    torch.save({"format_version": 99}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="format_version 99"):
        load_policy(tmp_path / "future.pt")
    torch.save({**torch.load(path, weights_only=True), "critic": None}, tmp_path / "no_critic.pt")
    with pytest.raises(CheckpointError, match="no critic"):
        load_policy(tmp_path / "no_critic.pt", with_critic=True)


def test_policy_io_must_follow_the_action_order(tmp_path: Path, small_policy):
    """Saving with a PolicyIO in another joint order is refused."""
    names = list(reversed(small_policy.contract.action_joint_names))
    with pytest.raises(ValueError, match="action_joint_names"):
        save_policy(tmp_path / "x.pt", small_policy, policy_io(names))
    assert not (tmp_path / "x.pt").exists()
