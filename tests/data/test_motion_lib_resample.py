"""Resampling as the motion library applies it at load (the shared formula of ``sonic_data.resample``).

Linear-in-time signals come out exact, slerped roots stay unit-norm and hit the source frames where
the 50 fps and source times coincide, and SMPL ``pose_aa`` is read at the robot clip's times.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sonic_data.formats import (
    RobotMotion,
    SmplMotion,
    SomaMotion,
    write_robot_pkl,
    write_smpl_pkl,
    write_soma_pkl,
)
from sonic_data.formats.soma_pkl import SOMA_JOINT_NAMES
from sonic_data.motion_lib import MotionLibConfig, load_host_library
from sonic_data.motion_lib.loading import _indices
from sonic_data.resample import resampled_length


def _cfg(root: Path, **kw: object) -> MotionLibConfig:
    return MotionLibConfig.model_validate({"motion_file": str(root / "robot"), "use_cache": False, **kw})


@pytest.mark.parametrize("fps", [30, 120, 25])
def test_linear_motion_is_interpolated_exactly(tmp_path: Path, fps: int) -> None:
    """Root position and joints linear in time resample to their exact values at k/50 s."""
    frames = 61
    t = np.arange(frames)[:, None] / fps
    a, b = np.array([0.3, -1.0, 0.8]), np.array([1.5, 0.25, -0.1])
    ja, jb = np.linspace(-0.5, 0.5, 29), np.linspace(0.3, -0.2, 29)
    motion = RobotMotion(a + t * b, np.tile([1.0, 0, 0, 0], (frames, 1)), ja + t * jb, fps)
    write_robot_pkl(tmp_path / "robot" / "lin.pkl", {"lin": motion})
    host = load_host_library(_cfg(tmp_path))
    n = resampled_length(frames, fps, 50)
    assert host.lengths.tolist() == [n]
    t50 = np.arange(n)[:, None] / 50.0
    np.testing.assert_allclose(host.robot[:, 0:3], a + t50 * b, atol=1e-5)
    np.testing.assert_allclose(host.robot[:, 7:], ja + t50 * jb, atol=1e-5)


def test_slerp_unit_norm_and_endpoints(tmp_path: Path) -> None:
    """Random roots: unit quaternions out; at k = 5j (t = j/10 s = source frame 3j) the source itself."""
    frames = 40
    rots = Rotation.random(frames, rng=np.random.default_rng(1))
    quat = rots.as_quat(scalar_first=True)
    quat[::2] *= -1  # the sign of a quaternion must not matter
    motion = RobotMotion(np.zeros((frames, 3)), quat, np.zeros((frames, 29)), 30)
    write_robot_pkl(tmp_path / "robot" / "spin.pkl", {"spin": motion})
    host = load_host_library(_cfg(tmp_path))
    q = host.robot[:, 3:7].astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-6)
    k = np.arange(0, len(q), 5)
    dots = np.abs((q[k] * quat[(k // 5) * 3]).sum(-1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-6)
    # Between coinciding frames the rotation lies on the geodesic between its source neighbours.
    r = Rotation.from_quat(q[1], scalar_first=True)  # t = 0.02 s = source 0.6
    a = (rots[0].inv() * r).magnitude()
    b = (rots[1].inv() * r).magnitude()
    assert a + b == pytest.approx((rots[0].inv() * rots[1]).magnitude(), abs=1e-5)
    assert a / (a + b) == pytest.approx(0.6, abs=1e-4)


def test_constant_rate_yaw_is_exact(tmp_path: Path) -> None:
    """A constant-rate turn resamples to the closed-form yaw at every 50 fps frame."""
    frames, rate = 31, 1.3
    t = np.arange(frames) / 30.0
    quat = Rotation.from_rotvec(np.outer(rate * t, [0, 0, 1])).as_quat(scalar_first=True)
    write_robot_pkl(
        tmp_path / "robot" / "yaw.pkl",
        {"yaw": RobotMotion(np.zeros((frames, 3)), quat, np.zeros((frames, 29)), 30)},
    )
    host = load_host_library(_cfg(tmp_path))
    n = host.lengths[0]
    want = Rotation.from_rotvec(np.outer(rate * np.arange(n) / 50.0, [0, 0, 1])).as_quat(scalar_first=True)
    np.testing.assert_allclose(np.abs((host.robot[:, 3:7] * want).sum(-1)), 1.0, atol=1e-6)


def test_indices_pad_with_last_source_frame() -> None:
    """Past the formula's N frames, reads hold the last source frame with zero blend."""
    i0, i1, w = _indices(5, 50, 50, 6)
    assert i0.tolist() == [0, 1, 2, 3, 4, 4] and i1.tolist() == [1, 2, 3, 4, 4, 4]
    np.testing.assert_array_equal(w, 0.0)


def test_smpl_root_read_at_robot_times(tmp_path: Path) -> None:
    """SMPL at 50 fps with N50 frames: its last root frame is used as is (not the formula's N50−1)."""
    frames = 31
    motion = RobotMotion(
        np.zeros((frames, 3)), np.tile([1.0, 0, 0, 0], (frames, 1)), np.zeros((frames, 29)), 30
    )
    write_robot_pkl(tmp_path / "robot" / "a.pkl", {"a": motion})
    n = resampled_length(frames, 30, 50)
    yaw = np.linspace(0, 1, n)
    # Y-up pose_aa whose Z-up root is a pure yaw: rotation about file +Y is rotation about world +Z.
    pose = np.zeros((n, 72))
    base = Rotation.from_quat([0.5, 0.5, 0.5, 0.5], scalar_first=True)
    to_z = Rotation.from_euler("x", 90, degrees=True)
    for i, y in enumerate(yaw):
        pose[i, :3] = (to_z.inv() * Rotation.from_euler("z", y) * base).as_rotvec()
    smpl = SmplMotion(pose_aa=pose, joints=np.zeros((n, 24, 3)), transl=np.zeros((n, 3)), fps=50)
    write_smpl_pkl(tmp_path / "smpl" / "a.pkl", smpl)
    host = load_host_library(_cfg(tmp_path, smpl_motion_file=str(tmp_path / "smpl")))
    got = Rotation.from_quat(host.smpl_root_quat, scalar_first=True).as_euler("xyz")[:, 2]
    np.testing.assert_allclose(got, yaw, atol=1e-5)


def test_soma_resampled_from_its_own_rate(tmp_path: Path) -> None:
    """SOMA joints linear in time at 30 fps come out exact at k/50 s."""
    frames = 31
    motion = RobotMotion(
        np.zeros((frames, 3)), np.tile([1.0, 0, 0, 0], (frames, 1)), np.zeros((frames, 29)), 30
    )
    write_robot_pkl(tmp_path / "robot" / "a.pkl", {"a": motion})
    t = np.arange(frames)[:, None, None] / 30.0
    joints = 0.1 + t * np.linspace(-1, 1, 78).reshape(1, 26, 3)
    soma = SomaMotion(
        joints, np.tile([1.0, 0, 0, 0], (frames, 1)), np.zeros((frames, 3)), 30, SOMA_JOINT_NAMES
    )
    write_soma_pkl(tmp_path / "soma" / "a.pkl", {"a": soma})
    host = load_host_library(_cfg(tmp_path, soma_motion_file=str(tmp_path / "soma")))
    t50 = np.arange(host.lengths[0])[:, None, None] / 50.0
    np.testing.assert_allclose(
        host.soma_joints, 0.1 + t50 * np.linspace(-1, 1, 78).reshape(1, 26, 3), atol=2e-3
    )
