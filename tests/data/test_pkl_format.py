"""SONIC robot PKL: exact key set, dtypes and shapes, xyzw root_rot, MJCF axes, plain joblib, errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import joblib
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sonic_data.formats import FormatError, RobotMotion, joint_axes, read_robot_pkl, write_robot_pkl
from sonic_data.g1 import JOINT_NAMES, MJCF_PATH


def _motion(seed: int, t: int = 7) -> RobotMotion:
    rng = np.random.default_rng(seed)
    q = Rotation.from_rotvec(rng.normal(size=(t, 3))).as_quat()  # xyzw
    return RobotMotion(
        root_pos=rng.normal(size=(t, 3)),
        root_quat=np.concatenate([q[:, 3:], q[:, :3]], 1),
        joint_pos=rng.uniform(-1, 1, (t, 29)),
        fps=30,
    )


def test_entry_has_sonic_keys_dtypes_and_shapes(tmp_path: Path) -> None:
    """A written file loads with plain joblib into {name: entry} with SONIC's exact layout."""
    m = _motion(0)
    write_robot_pkl(tmp_path / "a.pkl", {"walk_001": m})
    data = joblib.load(tmp_path / "a.pkl")
    assert list(data) == ["walk_001"]
    e = data["walk_001"]
    assert set(e) == {"root_trans_offset", "pose_aa", "dof", "root_rot", "smpl_joints", "fps"}
    shapes = {
        "root_trans_offset": (7, 3),
        "pose_aa": (7, 30, 3),
        "dof": (7, 29),
        "root_rot": (7, 4),
        "smpl_joints": (7, 24, 3),
    }
    for key, shape in shapes.items():
        assert isinstance(e[key], np.ndarray) and e[key].dtype == np.float32 and e[key].shape == shape, key
    assert type(e["fps"]) is int and e["fps"] == 30
    assert not e["smpl_joints"].any()


def test_root_rot_is_xyzw_and_pose_aa_root_is_its_rotation_vector(tmp_path: Path) -> None:
    """root_rot holds the wxyz root as xyzw; pose_aa[:, 0] is the same rotation as a rotation vector."""
    m = _motion(1)
    write_robot_pkl(tmp_path / "a.pkl", {"x": m})
    e = joblib.load(tmp_path / "a.pkl")["x"]
    np.testing.assert_allclose(
        e["root_rot"], np.concatenate([m.root_quat[:, 1:], m.root_quat[:, :1]], 1), atol=1e-7
    )
    from_aa = Rotation.from_rotvec(e["pose_aa"][:, 0]).as_quat()
    np.testing.assert_allclose(np.abs((from_aa * e["root_rot"]).sum(-1)), 1.0, atol=1e-5)


def test_pose_aa_joints_are_mjcf_axis_times_angle(tmp_path: Path) -> None:
    """pose_aa[:, 1+i] = axis_i · dof_i with axis_i read independently from the MJCF here."""
    axes = {
        j.get("name"): np.array(str(j.get("axis")).split(), float)
        for j in ET.parse(MJCF_PATH).getroot().iter("joint")
        if j.get("axis")
    }
    ref = np.stack([axes[n] for n in JOINT_NAMES])
    np.testing.assert_allclose(joint_axes(), ref)
    m = _motion(2)
    write_robot_pkl(tmp_path / "a.pkl", {"x": m})
    e = joblib.load(tmp_path / "a.pkl")["x"]
    np.testing.assert_allclose(e["pose_aa"][:, 1:], m.joint_pos[:, :, None] * ref[None], atol=1e-6)


def test_read_back_many_motions_in_one_file(tmp_path: Path) -> None:
    """A combined file with several motions reads back every motion unchanged."""
    ms = {f"m{i}": _motion(i, t=3 + i) for i in range(3)}
    write_robot_pkl(tmp_path / "all.pkl", ms)
    back = read_robot_pkl(tmp_path / "all.pkl")
    assert list(back) == list(ms)
    for k, m in ms.items():
        np.testing.assert_allclose(back[k].root_pos, m.root_pos, atol=1e-6)
        np.testing.assert_allclose(back[k].joint_pos, m.joint_pos, atol=1e-6)
        np.testing.assert_allclose(np.abs((back[k].root_quat * m.root_quat).sum(-1)), 1.0, atol=1e-6)
        assert back[k].fps == 30


def test_unreadable_pkl_is_a_clear_error(tmp_path: Path) -> None:
    """Garbage bytes give a FormatError naming the file."""
    p = tmp_path / "bad.pkl"
    p.write_bytes(b"not a pickle at all")
    with pytest.raises(FormatError, match="bad.pkl.*cannot load"):
        read_robot_pkl(p)


def test_missing_key_and_wrong_shape_are_named(tmp_path: Path) -> None:
    """A missing key or a wrong shape names the motion and the key."""
    write_robot_pkl(tmp_path / "a.pkl", {"x": _motion(3)})
    e = joblib.load(tmp_path / "a.pkl")["x"]
    joblib.dump({"x": {k: v for k, v in e.items() if k != "root_rot"}}, tmp_path / "b.pkl")
    with pytest.raises(FormatError, match="'x'.*root_rot") as info:
        read_robot_pkl(tmp_path / "b.pkl")
    assert info.value.key == "root_rot"
    joblib.dump({"x": {**e, "dof": e["dof"][:, :28]}}, tmp_path / "c.pkl")
    with pytest.raises(FormatError, match=r"\(T, 29\)"):
        read_robot_pkl(tmp_path / "c.pkl")


def test_pose_aa_inconsistent_with_dof_is_rejected(tmp_path: Path) -> None:
    """A file whose pose_aa disagrees with dof is refused (SONIC trains on pose_aa)."""
    write_robot_pkl(tmp_path / "a.pkl", {"x": _motion(4)})
    e = joblib.load(tmp_path / "a.pkl")["x"]
    e["pose_aa"][:, 5] += 0.1
    joblib.dump({"x": e}, tmp_path / "b.pkl")
    with pytest.raises(FormatError, match="pose_aa"):
        read_robot_pkl(tmp_path / "b.pkl")


def test_non_integer_fps_cannot_be_written(tmp_path: Path) -> None:
    """The format stores fps as int, so a fractional rate is refused and nothing is written."""
    m = _motion(5)
    m = RobotMotion(root_pos=m.root_pos, root_quat=m.root_quat, joint_pos=m.joint_pos, fps=29.97)
    with pytest.raises(ValueError, match="integer"):
        write_robot_pkl(tmp_path / "a.pkl", {"x": m})
    assert not any(tmp_path.iterdir())
