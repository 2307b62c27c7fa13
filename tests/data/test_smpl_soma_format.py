"""SMPL and SOMA PKL readers/writers: layout, round trip, frame helpers and errors."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from sonic_data.formats import (
    SOMA_JOINT_NAMES,
    FormatError,
    SmplMotion,
    SomaMotion,
    read_smpl_pkl,
    read_soma_pkl,
    write_smpl_pkl,
    write_soma_pkl,
)
from sonic_data.formats.frames import (
    smpl_root_aa_from_z_up,
    smpl_root_quat_z_up,
    soma_root_quat_from_z_up,
    soma_root_quat_z_up,
    y_up_to_z_up,
    z_up_to_y_up,
)


def test_smpl_pkl_is_a_flat_dict_and_round_trips(tmp_path: Path) -> None:
    """The SMPL file is flat {pose_aa, smpl_joints, transl, fps} with float32 arrays."""
    rng = np.random.default_rng(0)
    m = SmplMotion(
        pose_aa=rng.normal(size=(6, 72)),
        joints=rng.normal(size=(6, 24, 3)),
        transl=rng.normal(size=(6, 3)),
        fps=50,
    )
    write_smpl_pkl(tmp_path / "a.pkl", m)
    d = joblib.load(tmp_path / "a.pkl")
    assert set(d) == {"pose_aa", "smpl_joints", "transl", "fps"} and d["fps"] == 50
    assert d["pose_aa"].dtype == np.float32 and d["smpl_joints"].shape == (6, 24, 3)
    back = read_smpl_pkl(tmp_path / "a.pkl")
    np.testing.assert_array_equal(back.joints, m.joints)
    np.testing.assert_array_equal(back.pose_aa, m.pose_aa)


def test_smpl_missing_key_is_named(tmp_path: Path) -> None:
    """A SMPL file without transl names the key."""
    joblib.dump(
        {"pose_aa": np.zeros((2, 72)), "smpl_joints": np.zeros((2, 24, 3)), "fps": 30}, tmp_path / "a.pkl"
    )
    with pytest.raises(FormatError, match="transl") as info:
        read_smpl_pkl(tmp_path / "a.pkl")
    assert info.value.key == "transl"


def test_soma_pkl_layout_and_round_trip(tmp_path: Path) -> None:
    """SOMA entries hold soma_joints (T,26,3), soma_root_quat wxyz, soma_transl, int fps, joint_names."""
    rng = np.random.default_rng(1)
    m = SomaMotion(
        joints=rng.normal(size=(4, 26, 3)),
        root_quat=np.tile([1.0, 0, 0, 0], (4, 1)),
        transl=rng.normal(size=(4, 3)),
        fps=30,
        joint_names=SOMA_JOINT_NAMES,
    )
    write_soma_pkl(tmp_path / "s.pkl", {"clip": m})
    d = joblib.load(tmp_path / "s.pkl")["clip"]
    assert set(d) == {"soma_joints", "soma_root_quat", "soma_transl", "fps", "joint_names"}
    assert (
        d["soma_joints"].dtype == np.float32 and d["fps"] == 30 and d["joint_names"] == list(SOMA_JOINT_NAMES)
    )
    back = read_soma_pkl(tmp_path / "s.pkl")["clip"]
    np.testing.assert_array_equal(back.joints, m.joints)
    assert back.joint_names == SOMA_JOINT_NAMES


def test_soma_pkl_unreadable_is_an_error(tmp_path: Path) -> None:
    """A truncated SOMA PKL is reported with its path."""
    m = SomaMotion(
        joints=np.zeros((2, 26, 3)),
        root_quat=np.tile([1.0, 0, 0, 0], (2, 1)),
        transl=np.zeros((2, 3)),
        fps=30,
        joint_names=SOMA_JOINT_NAMES,
    )
    write_soma_pkl(tmp_path / "s.pkl", {"c": m})
    raw = (tmp_path / "s.pkl").read_bytes()
    (tmp_path / "s.pkl").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FormatError, match="s.pkl"):
        read_soma_pkl(tmp_path / "s.pkl")


def test_y_up_point_map_is_sonics() -> None:
    """(x, y, z) → (x, −z, y) and back."""
    p = torch.tensor([[1.0, 2.0, 3.0]])
    assert y_up_to_z_up(p).tolist() == [[1.0, -3.0, 2.0]]
    assert z_up_to_y_up(y_up_to_z_up(p)).tolist() == p.tolist()


def test_smpl_root_of_an_upright_forward_person_is_identity() -> None:
    """SMPL body axes (x left, y up, z forward), upright in Y-up facing +X (Z-up +X), give identity."""
    # World Y-up frame: forward +X, up +Y, left = up × forward = -Z. Columns: images of body x, y, z.
    r = Rotation.from_matrix(np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]], dtype=float))
    aa = torch.tensor(r.as_rotvec(), dtype=torch.float64)
    q = smpl_root_quat_z_up(aa)
    assert abs(abs(float(q[0])) - 1.0) < 1e-9
    qz = torch.tensor(Rotation.from_euler("z", 0.7).as_quat()[[3, 0, 1, 2]], dtype=torch.float64)
    assert torch.allclose(smpl_root_quat_z_up(smpl_root_aa_from_z_up(qz)), qz, atol=1e-9)


def test_soma_root_of_rest_hips_faces_minus_y() -> None:
    """SOMA's rest Hips (Z90 Y0 X90 intrinsic, facing +Z in Y-up) faces −Y after the Z-up map: yaw −90°."""
    r = Rotation.from_euler("ZYX", [90, 0, 90], degrees=True).as_quat()
    q = soma_root_quat_z_up(torch.tensor(r[[3, 0, 1, 2]], dtype=torch.float64))
    yaw = Rotation.from_quat(q.numpy()[[1, 2, 3, 0]]).as_euler("zyx")
    np.testing.assert_allclose(yaw, [-np.pi / 2, 0, 0], atol=1e-9)
    np.testing.assert_allclose(soma_root_quat_from_z_up(q).numpy(), r[[3, 0, 1, 2]], atol=1e-9)
