"""The committed ONNX input layout, written out by hand from FORMATS.md "ONNX files".

This test deliberately does not use the contract or layout code: offsets and widths are literals
here, network-order inputs are assembled from a file-order vector by the rules of SONIC_REFERENCE
§2.1, and onnxruntime must then agree with the policy's MLPs applied to those hand-built inputs.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from sonic_export import read_metadata

PROPRIO = 930
TOKENS = 64

RELEASE = {
    "mode_id": (0, 1),
    "encoder_index": (1, 3),
    "command_multi_future_nonflat": (4, 580),
    "motion_anchor_ori_b": (584, 6),
    "motion_anchor_ori_b_mf_nonflat": (590, 60),
    "command_multi_future_lower_body": (650, 240),
    "vr_3point_local_target": (890, 9),
    "vr_3point_local_orn_target": (899, 12),
    "smpl_joints_multi_future_local_nonflat": (911, 720),
    "smpl_root_ori_b_multi_future": (1631, 60),
    "joint_pos_multi_future_wrist_for_smpl": (1691, 60),
}
RELEASE_WIDTH = 1751

BONES_SEED = {
    "mode_id": (0, 1),
    "encoder_index": (1, 4),
    **{k: (o + 1, w) for k, (o, w) in RELEASE.items() if o >= 4},
    "soma_joints_multi_future_local_nonflat": (1752, 780),
    "soma_root_ori_b_multi_future": (2532, 60),
    "joint_pos_multi_future_wrist_for_soma": (2592, 60),
}
BONES_SEED_WIDTH = 2652

# Per-modality files: that encoder's terms in file order, then the 930 proprioception values.
MODALITY_TERMS = {
    "g1": ["command_multi_future_nonflat", "motion_anchor_ori_b_mf_nonflat"],
    "teleop": [
        "motion_anchor_ori_b",
        "command_multi_future_lower_body",
        "vr_3point_local_target",
        "vr_3point_local_orn_target",
    ],
    "smpl": [
        "smpl_joints_multi_future_local_nonflat",
        "smpl_root_ori_b_multi_future",
        "joint_pos_multi_future_wrist_for_smpl",
    ],
    "soma": [
        "soma_joints_multi_future_local_nonflat",
        "soma_root_ori_b_multi_future",
        "joint_pos_multi_future_wrist_for_soma",
    ],
}
MODALITY_WIDTH = {"g1": 1570, "teleop": 1197, "smpl": 1770, "soma": 1830}
MODE_ID = {"g1": 0, "teleop": 1, "smpl": 2, "soma": 3}


def term(vec: np.ndarray, offsets: dict[str, tuple[int, int]], name: str) -> np.ndarray:
    o, w = offsets[name]
    return vec[o : o + w]


def rows(x: np.ndarray, n: int = 10) -> list[np.ndarray]:
    return list(x.reshape(n, -1))


def network_input(encoder: str, vec: np.ndarray, offsets: dict[str, tuple[int, int]]) -> np.ndarray:
    """SONIC_REFERENCE §2.1 by hand: g1 = 10 x [58 cmf | 6 anchor-mf]; teleop = lower | vr pos | vr orn |
    anchor; smpl/soma = 10 x [joints | root 6 | wrist 6]."""
    t = {name: term(vec, offsets, name) for name in offsets}
    if encoder == "g1":
        cmf, ori = rows(t["command_multi_future_nonflat"]), rows(t["motion_anchor_ori_b_mf_nonflat"])
        return np.concatenate([np.concatenate([a, b]) for a, b in zip(cmf, ori, strict=True)])
    if encoder == "teleop":
        return np.concatenate(
            [t[k] for k in ("command_multi_future_lower_body", "vr_3point_local_target",
                            "vr_3point_local_orn_target", "motion_anchor_ori_b")]
        )  # fmt: skip
    human = [rows(t[k]) for k in MODALITY_TERMS[encoder]]
    return np.concatenate([np.concatenate(frame) for frame in zip(*human, strict=True)])


def run(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert inp.name == "obs_dict" and inp.shape == [1, x.shape[0]]
    return np.asarray(session.run([out.name], {"obs_dict": x[None].astype(np.float32)})[0])[0]


@pytest.mark.parametrize("which", ["release", "bones_seed"])
def test_files_follow_the_committed_layout(which, small_export, bones_seed_export):
    """Every file's ONNX output equals the policy's MLPs on inputs assembled by hand from FORMATS.md offsets."""
    exported = small_export if which == "release" else bones_seed_export
    offsets, width = (RELEASE, RELEASE_WIDTH) if which == "release" else (BONES_SEED, BONES_SEED_WIDTH)
    encoders = ["g1", "teleop", "smpl"] + (["soma"] if which == "bones_seed" else [])
    assert max(o + w for o, w in offsets.values()) == width
    policy, files = exported.policy, exported.files.fp32
    rng = np.random.default_rng(1)
    vec = rng.standard_normal(width).astype(np.float32)
    proprio = rng.standard_normal(PROPRIO).astype(np.float32)
    torch_proprio = torch.from_numpy(proprio)[None]

    with torch.no_grad():
        for enc in encoders:
            x = torch.from_numpy(network_input(enc, vec, offsets))[None]
            token = policy.quantize(policy.encoders[enc](x))
            action = policy.decoders["g1_dyn"](torch.cat([token, torch_proprio], dim=-1))[0].numpy()

            modality = np.concatenate([*(term(vec, offsets, k) for k in MODALITY_TERMS[enc]), proprio])
            assert modality.shape[0] == MODALITY_WIDTH[enc]
            np.testing.assert_allclose(run(files[enc], modality), action, atol=1e-5, rtol=0)

            head = vec.copy()
            head[0] = MODE_ID[enc]
            np.testing.assert_allclose(run(files["encoder"], head), token[0].numpy(), atol=1e-6, rtol=0)

            decoder_in = np.concatenate([token[0].numpy(), proprio])
            assert decoder_in.shape[0] == TOKENS + PROPRIO == 994
            np.testing.assert_allclose(run(files["decoder"], decoder_in), action, atol=1e-5, rtol=0)


@pytest.mark.parametrize("which", ["release", "bones_seed"])
def test_metadata_layout_states_the_committed_offsets(which, small_export, bones_seed_export):
    """The encoder file's metadata lists FORMATS.md's offsets; per-modality files list theirs in file order."""
    exported = small_export if which == "release" else bones_seed_export
    offsets = RELEASE if which == "release" else BONES_SEED
    files = exported.files.fp32
    meta = read_metadata(files["encoder"])
    assert {s.name: (s.offset, s.width) for s in meta.input_layout} == offsets
    for enc, names in MODALITY_TERMS.items():
        if enc not in files:
            continue
        layout = read_metadata(files[enc]).input_layout
        assert [s.name for s in layout[: len(names)]] == names
        assert layout[len(names)].offset == MODALITY_WIDTH[enc] - PROPRIO
        assert layout[-1].offset + layout[-1].width == MODALITY_WIDTH[enc]
