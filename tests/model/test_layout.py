"""File (tokenizer) order -> network order: hand-built vectors whose values encode (term, index)."""

from __future__ import annotations

import pytest
import torch

from sonic_model import (
    encoder_input,
    encoder_input_from_tokenizer,
    join_tokenizer_vector,
    sonic_bones_seed_contract,
    sonic_release_contract,
    split_encoder_input,
    split_tokenizer_vector,
    tokenizer_to_network_index,
)

# FORMATS.md "ONNX files": committed sonic_release file layout, (term, offset, size).
RELEASE_FILE_LAYOUT = [
    ("mode_id", 0, 1),
    ("encoder_index", 1, 3),
    ("command_multi_future_nonflat", 4, 580),
    ("motion_anchor_ori_b", 584, 6),
    ("motion_anchor_ori_b_mf_nonflat", 590, 60),
    ("command_multi_future_lower_body", 650, 240),
    ("vr_3point_local_target", 890, 9),
    ("vr_3point_local_orn_target", 899, 12),
    ("smpl_joints_multi_future_local_nonflat", 911, 720),
    ("smpl_root_ori_b_multi_future", 1631, 60),
    ("joint_pos_multi_future_wrist_for_smpl", 1691, 60),
]


def coded_vector() -> torch.Tensor:
    """(1, 1751) file-order vector whose value at term t (FORMATS order), element i is 10000*t + i."""
    values = []
    for t, (_, _, size) in enumerate(RELEASE_FILE_LAYOUT):
        values += [10000 * t + i for i in range(size)]
    return torch.tensor([values], dtype=torch.float64)


def code(term: str, index: int) -> int:
    t = [name for name, _, _ in RELEASE_FILE_LAYOUT].index(term)
    return 10000 * t + index


def test_file_layout_matches_formats():
    """Offsets and widths of the sonic_release (1751) and sonic_bones_seed (2652) file vectors."""
    release = sonic_release_contract()
    assert release.tokenizer_offsets() == {n: (o, s) for n, o, s in RELEASE_FILE_LAYOUT}
    assert release.tokenizer_width == 1751
    bones = sonic_bones_seed_contract().tokenizer_offsets()
    assert bones["encoder_index"] == (1, 4) and bones["command_multi_future_nonflat"] == (5, 580)
    assert bones["joint_pos_multi_future_wrist_for_smpl"] == (1692, 60)
    assert bones["soma_joints_multi_future_local_nonflat"] == (1752, 780)
    assert bones["soma_root_ori_b_multi_future"] == (2532, 60)
    assert bones["joint_pos_multi_future_wrist_for_soma"] == (2592, 60)
    assert sonic_bones_seed_contract().tokenizer_width == 2652


def test_g1_network_input_is_ten_rows_of_cmf_then_anchor():
    """g1 row r = [cmf flat values 58r..58r+57 | anchor-ori-mf values 6r..6r+5]."""
    net = encoder_input_from_tokenizer(sonic_release_contract(), "g1", coded_vector())[0].tolist()
    expected = []
    for r in range(10):
        expected += [code("command_multi_future_nonflat", 58 * r + i) for i in range(58)]
        expected += [code("motion_anchor_ori_b_mf_nonflat", 6 * r + i) for i in range(6)]
    assert net == expected and len(net) == 640


def test_teleop_network_input_follows_encoder_term_order():
    """teleop = lower_body 240 | vr pos 9 | vr orn 12 | anchor ori 6 (not the file order)."""
    net = encoder_input_from_tokenizer(sonic_release_contract(), "teleop", coded_vector())[0].tolist()
    expected = [code("command_multi_future_lower_body", i) for i in range(240)]
    expected += [code("vr_3point_local_target", i) for i in range(9)]
    expected += [code("vr_3point_local_orn_target", i) for i in range(12)]
    expected += [code("motion_anchor_ori_b", i) for i in range(6)]
    assert net == expected and len(net) == 267


def test_smpl_network_input_is_per_frame_joints_root_wrist():
    """smpl frame f = [72 joint values 72f.. | 6 root 6f.. | 6 wrist 6f..]."""
    net = encoder_input_from_tokenizer(sonic_release_contract(), "smpl", coded_vector())[0].tolist()
    expected = []
    for f in range(10):
        expected += [code("smpl_joints_multi_future_local_nonflat", 72 * f + i) for i in range(72)]
        expected += [code("smpl_root_ori_b_multi_future", 6 * f + i) for i in range(6)]
        expected += [code("joint_pos_multi_future_wrist_for_smpl", 6 * f + i) for i in range(6)]
    assert net == expected and len(net) == 840


def test_soma_network_input_width_and_rows():
    """soma frame f = [78 joint values | 6 root | 6 wrist], 900 in all."""
    contract = sonic_bones_seed_contract()
    idx = tokenizer_to_network_index(contract, "soma").tolist()
    offsets = contract.tokenizer_offsets()
    j0, r0, w0 = (offsets[n][0] for n in contract.encoder("soma").inputs)
    expected = []
    for f in range(10):
        expected += [j0 + 78 * f + i for i in range(78)] + [r0 + 6 * f + i for i in range(6)]
        expected += [w0 + 6 * f + i for i in range(6)]
    assert idx == expected and len(idx) == 900


@pytest.mark.parametrize("encoder", ["g1", "teleop", "smpl", "g1_kin"])
def test_index_gather_and_round_trips(encoder: str):
    """The fixed gather equals the assembly; split/join invert the assembly and the file vector."""
    contract = sonic_release_contract()
    vec = torch.randn(3, contract.tokenizer_width, generator=torch.Generator().manual_seed(0))
    net = encoder_input_from_tokenizer(contract, encoder, vec)
    assert torch.equal(vec[:, tokenizer_to_network_index(contract, encoder)], net)
    terms = split_tokenizer_vector(contract, vec)
    assert torch.equal(join_tokenizer_vector(contract, terms), vec)
    back = split_encoder_input(contract, encoder, net)
    for name, value in back.items():
        assert torch.equal(value, terms[name])
    assert torch.equal(encoder_input(contract, encoder, back), net)


def test_bad_term_shape_names_the_term():
    """A term with the wrong number of values raises naming the term and the expected shape."""
    contract = sonic_release_contract()
    terms = split_tokenizer_vector(contract, torch.zeros(2, 1751))
    terms["vr_3point_local_orn_target"] = torch.zeros(2, 11)
    with pytest.raises(ValueError, match=r"vr_3point_local_orn_target.*\(num_envs, 12\)"):
        encoder_input(contract, "teleop", terms)
    with pytest.raises(ValueError, match="expected width 1751"):
        split_tokenizer_vector(contract, torch.zeros(2, 1750))
