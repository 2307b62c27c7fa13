"""sonic_export: file set and ONNX settings, metadata round trip, contract checks, parity, int8 error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from sonic_export import (
    INT8_TOLERANCE,
    MetadataError,
    export,
    load,
    random_observations,
    verify,
)
from sonic_model import (
    CheckpointError,
    ContractMismatchError,
    UniversalTokenPolicy,
    load_policy,
    preset,
    save_policy,
    sonic_bones_seed_contract,
)

WIDTHS = {"g1": 1570, "teleop": 1197, "smpl": 1770, "encoder": 1751, "decoder": 994}


def test_file_set_and_sonic_onnx_settings(small_export):
    """Five files named <stem>_<kind>.onnx, opset 13, one fixed-shape float input obs_dict, SONIC's outputs."""
    files = small_export.files.fp32
    assert {k: p.name for k, p in files.items()} == {k: f"model_step_000100_{k}.onnx" for k in WIDTHS}
    for kind, path in files.items():
        model = onnx.load(path)
        assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [13]
        (inp,), (out,) = model.graph.input, model.graph.output
        dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
        assert inp.name == "obs_dict" and dims == [1, WIDTHS[kind]]
        assert all(not d.dim_param for d in inp.type.tensor_type.shape.dim)  # no dynamic axes
        assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        expected_out = ("encoded_tokens", 64) if kind == "encoder" else ("action", 29)
        assert (out.name, [d.dim_value for d in out.type.tensor_type.shape.dim]) == (
            expected_out[0],
            [1, expected_out[1]],
        )


def test_bones_seed_adds_soma_file(bones_seed_export):
    """sonic_bones_seed layouts add <stem>_soma.onnx (1830) and a 2652-wide encoder file."""
    files = bones_seed_export.files.fp32
    assert set(files) == {"g1", "teleop", "smpl", "soma", "encoder", "decoder"}
    assert load(files["soma"]).metadata.input_width == 1830
    assert load(files["encoder"]).metadata.input_width == 2652


def test_metadata_round_trip_from_a_saved_checkpoint(tmp_path: Path, g1_io):
    """A checkpoint written by save_policy exports to files whose metadata gives back its contract,
    PolicyIO (G1 order, gains, default pose, dt, clip) and config, and whose actions match torch."""
    torch.manual_seed(3)
    p = preset("small")
    policy = UniversalTokenPolicy(p.model, p.contract)
    io = g1_io
    ckpt = save_policy(tmp_path / "model_step_000200.pt", policy, io)
    part = torch.load(ckpt, weights_only=True)["policy"]
    result = export(part, tmp_path / "exported", ckpt.stem)
    loaded = load_policy(ckpt)
    for path in result.fp32.values():
        meta = load(path, expected_contract=p.contract).metadata
        assert meta.policy_io == io == loaded.policy_io
        assert meta.policy_io.joint_names[:3] == (
            "left_hip_pitch_joint",
            "right_hip_pitch_joint",
            "waist_yaw_joint",
        )
        assert meta.policy_io.control_dt_s == 0.02 and meta.policy_io.action_clip == 20.0
        assert meta.contract == p.contract and meta.contract_hash == p.contract.stable_hash()
        assert meta.network_config == p.model and meta.source == "model_step_000200"
        assert meta.mode_ids == {"g1": 0, "teleop": 1, "smpl": 2}
    results = verify(part, list(result.fp32.values()), num_random=6, seed=5)
    assert all(r.passed and r.samples > 0 for r in results), [r.line() for r in results]


def test_contract_mismatch_is_refused_naming_terms(small_export):
    """Loading a sonic_release-layout file against the bones_seed contract lists the soma terms."""
    path = small_export.files.fp32["g1"]
    with pytest.raises(ContractMismatchError) as info:
        load(path, expected_contract=sonic_bones_seed_contract())
    text = str(info.value)
    assert "soma_joints_multi_future_local_nonflat" in text and "encoder_index" in text


def test_joint_order_change_is_refused_naming_the_term(small_export):
    """A contract whose joint_pos joint order differs (same widths) is refused, naming joint_pos."""
    contract = small_export.policy.contract
    proprio = tuple(
        t.model_copy(update={"joint_names": tuple(reversed(t.joint_names or ()))})
        if t.name == "joint_pos"
        else t
        for t in contract.proprioception
    )
    other = contract.model_copy(update={"proprioception": proprio})
    with pytest.raises(ContractMismatchError, match="'joint_pos': joint_names"):
        load(small_export.files.fp32["decoder"], expected_contract=other)


def test_file_without_sonic_metadata_is_refused(small_export, tmp_path: Path):
    """A file as SONIC writes it (no metadata) cannot be loaded with a contract check."""
    model = onnx.load(small_export.files.fp32["g1"])
    del model.metadata_props[:]
    onnx.save(model, tmp_path / "plain.onnx")
    with pytest.raises(MetadataError, match="no 'sonic"):
        load(tmp_path / "plain.onnx")


def test_edited_contract_metadata_is_refused(small_export, tmp_path: Path):
    """A contract edited after export no longer matches its stored hash."""
    model = onnx.load(small_export.files.fp32["g1"])
    for prop in model.metadata_props:
        if prop.key == "sonic.contract":
            prop.value = prop.value.replace('"joint_vel"', '"joint_velocity"')
    onnx.save(model, tmp_path / "edited.onnx")
    with pytest.raises(MetadataError, match="contract_hash"):
        load(tmp_path / "edited.onnx")


@pytest.mark.parametrize("which", ["small", "bones_seed"])
def test_per_modality_files_equal_encoder_plus_decoder(which, small_export, bones_seed_export):
    """<stem>_<enc>.onnx gives the action of <stem>_decoder.onnx fed <stem>_encoder.onnx's token (mode of enc)."""
    exported = small_export if which == "small" else bones_seed_export
    files = exported.files.fp32
    encoder, decoder = load(files["encoder"]), load(files["decoder"])
    obs = {k: v.numpy() for k, v in random_observations(exported.policy.contract, 4, seed=7).items()}
    for name, mode in encoder.metadata.mode_ids.items():
        combined = load(files[name])
        tokens = encoder.run(encoder.assemble(obs, mode_id=mode))
        via_pair = decoder.run(decoder.assemble({"encoded_tokens": tokens, **obs}))
        np.testing.assert_allclose(combined.run(combined.assemble(obs)), via_pair, atol=1e-6, rtol=0)


def test_encoder_file_ignores_encoder_index_and_zeroes_unknown_modes(small_export):
    """The encoder_index slot does not change the token; a mode id out of range gives the zero token."""
    encoder = load(small_export.files.fp32["encoder"])
    obs = {k: v.numpy() for k, v in random_observations(small_export.policy.contract, 2, seed=2).items()}
    x = encoder.assemble(obs, mode_id=2)
    y = x.copy()
    y[:, 1:4] = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    np.testing.assert_array_equal(encoder.run(x), encoder.run(y))
    x[:, 0] = 7.0
    assert not encoder.run(x).any()


def test_int8_files_stay_within_their_stated_error(small_export, bones_seed_export):
    """int8 files hold quantised weights, are smaller, and their actions stay within 1e-2 of fp32 torch."""
    for exported in (small_export, bones_seed_export):
        for kind, path in exported.files.int8.items():
            assert path.parent.name == "int8" and path.name == exported.files.fp32[kind].name
            assert path.stat().st_size < 0.5 * exported.files.fp32[kind].stat().st_size
            assert any(n.op_type == "MatMulInteger" for n in onnx.load(path).graph.node)
            assert load(path).metadata.precision == "int8"
        results = verify(exported.policy_part, list(exported.files.int8.values()), num_random=8)
        assert all(r.passed and r.max_action_err < INT8_TOLERANCE for r in results), [
            r.line() for r in results
        ]
        assert max(r.max_action_err for r in results) > 0.0  # quantised, not a copy


def test_verify_on_recorded_observations(small_export, tmp_path: Path):
    """A recording with only g1 and proprioception terms checks the g1 and decoder files and skips the rest."""
    contract = small_export.policy.contract
    rng = np.random.default_rng(0)
    sizes = {n: contract.tokenizer_term(n).size for n in contract.encoder("g1").inputs}
    sizes |= {t.name: t.size for t in contract.proprioception}
    arrays = {n: rng.standard_normal((5, size)) for n, size in sizes.items()}
    arrays["critic_only_extra"] = np.zeros((5, 3))  # not a contract term: ignored
    np.savez(tmp_path / "obs.npz", **arrays)  # pyright: ignore[reportArgumentType]  (numpy stub: **kwargs vs allow_pickle)
    results = verify(small_export.policy_part, list(small_export.files.fp32.values()), tmp_path / "obs.npz")
    recorded = {r.file.removeprefix("model_step_000100_"): r for r in results if r.inputs == "obs.npz"}
    assert recorded["g1.onnx"].samples == 5 and recorded["g1.onnx"].passed
    assert recorded["decoder.onnx"].samples == 5 and recorded["decoder.onnx"].passed
    assert "vr_3point_local_target" in recorded["teleop.onnx"].skipped
    assert "smpl_root_ori_b_multi_future" in recorded["encoder.onnx"].skipped


def test_recorded_array_of_wrong_size_is_named(small_export, tmp_path: Path):
    """A recorded array whose width does not fit its term is refused, naming file and key."""
    np.savez(tmp_path / "bad.npz", joint_pos=np.zeros((2, 29)))
    with pytest.raises(ValueError, match=r"bad\.npz: array 'joint_pos'"):
        verify(small_export.policy_part, [small_export.files.fp32["g1"]], tmp_path / "bad.npz")


def test_policy_part_with_an_extra_tensor_is_refused(small_export, tmp_path: Path):
    """An actor tensor the graphs would not use (e.g. an observation normaliser) stops the export, named."""
    part = dict(small_export.policy_part)
    part["state_dict"] = {**part["state_dict"], "actor_normalizer.running_mean": torch.zeros(930)}
    with pytest.raises(CheckpointError, match="actor_normalizer.running_mean"):
        export(part, tmp_path, "bad")


def test_policy_io_in_another_joint_order_is_refused(small_export, tmp_path: Path):
    """A PolicyIO whose joints are not in the action order would mislabel every action: refused."""
    part = dict(small_export.policy_part)
    io = dict(part["policy_io"])
    io["joint_names"] = list(reversed(io["joint_names"]))
    part["policy_io"] = io
    with pytest.raises(CheckpointError, match="policy_io.joint_names"):
        export(part, tmp_path, "bad")
