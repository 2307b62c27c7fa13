"""Loading robot/SMPL/SOMA PKLs into the host library: matching, length rules, errors, cache."""

from __future__ import annotations

import os
from pathlib import Path

import joblib
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
from sonic_data.motion_lib import MotionLibConfig, MotionLoadError, load_host_library
from sonic_data.motion_lib import loading as loading_module
from sonic_data.resample import resampled_length


def _robot(frames: int, seed: int, fps: float = 30.0) -> RobotMotion:
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / fps
    return RobotMotion(
        root_pos=np.array([0.0, 0.0, 0.8]) + t * rng.normal(size=3),
        root_quat=Rotation.from_rotvec(np.outer(t[:, 0], [0, 0, 1.0])).as_quat(scalar_first=True),
        joint_pos=0.1 * rng.normal(size=(frames, 29)) + t * 0.0,
        fps=fps,
    )


def _smpl(frames_50: int, pose_frames: int, seed: int, fps: float = 30.0) -> SmplMotion:
    rng = np.random.default_rng(seed)
    return SmplMotion(
        pose_aa=0.1 * rng.normal(size=(pose_frames, 72)),
        joints=rng.normal(size=(frames_50, 24, 3)),
        transl=rng.normal(size=(frames_50, 3)),
        fps=fps,
    )


def _soma(frames: int, seed: int, fps: float = 30.0) -> SomaMotion:
    rng = np.random.default_rng(seed)
    return SomaMotion(
        joints=rng.normal(size=(frames, 26, 3)),
        root_quat=Rotation.random(frames, rng=np.random.default_rng(seed)).as_quat(scalar_first=True),
        transl=rng.normal(size=(frames, 3)),
        fps=fps,
        joint_names=SOMA_JOINT_NAMES,
    )


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    """Three robot clips in session folders (+ metadata.pkl), SMPL for two of them."""
    for i, frames in enumerate((31, 46, 61)):
        write_robot_pkl(tmp_path / "robot" / f"s{i % 2}" / f"clip{i}.pkl", {f"clip{i}": _robot(frames, i)})
    joblib.dump({"not": "a clip"}, tmp_path / "robot" / "metadata.pkl")
    for i, frames in ((0, 31), (2, 61)):
        n = resampled_length(frames, 30, 50)
        write_smpl_pkl(tmp_path / "smpl" / "deep" / f"clip{i}.pkl", _smpl(n, frames, 10 + i))
    return tmp_path


def _cfg(root: Path, **kw: object) -> MotionLibConfig:
    return MotionLibConfig.model_validate(
        {"motion_file": str(root / "robot"), "cache_dir": str(root / "cache"), **kw}
    )


def test_clips_without_smpl_are_kept(library_dir: Path) -> None:
    """SMPL matched by basename in a nested folder; the clip without SMPL stays, has_smpl false."""
    host = load_host_library(_cfg(library_dir, smpl_motion_file=str(library_dir / "smpl")))
    assert host.names == ["clip0", "clip2", "clip1"]  # sorted paths: s0/clip0, s0/clip2, s1/clip1
    assert host.has_smpl.tolist() == [True, True, False]
    assert host.lengths.tolist() == [resampled_length(f, 30, 50) for f in (31, 61, 46)]


def test_dummy_smpl_means_no_clip_has_smpl(library_dir: Path) -> None:
    """smpl_motion_file 'dummy' (sonic_bones_seed's default) loads no SMPL."""
    host = load_host_library(_cfg(library_dir, smpl_motion_file="dummy"))
    assert not host.has_smpl.any()
    assert host.smpl_joints.shape == (0, 24, 3)


def test_robot_rows_follow_resampling(library_dir: Path) -> None:
    """Host rows are [root_pos | root_quat | joints] at k/50 s of the 30 fps source (linear root)."""
    host = load_host_library(_cfg(library_dir))
    src = _robot(31, 0)
    n = host.lengths[0]
    rows = host.robot[host.offsets[0] : host.offsets[0] + n]
    t50 = np.arange(n) / 50.0
    slope = (src.root_pos[1] - src.root_pos[0]) * 30.0
    np.testing.assert_allclose(rows[:, 0:3], src.root_pos[0] + np.outer(t50, slope), atol=1e-5)
    yaw = Rotation.from_quat(rows[:, 3:7], scalar_first=True).as_rotvec()[:, 2]
    np.testing.assert_allclose(yaw, t50, atol=1e-5)
    assert host.robot.dtype == np.float32 and host.robot.shape[1] * 4 == 144


def test_smpl_root_is_z_up_and_base_free(library_dir: Path) -> None:
    """SMPL root: Rx(+90°)·R(pose_aa[:3])·conj(0.5,0.5,0.5,0.5), computed here with scipy."""
    host = load_host_library(_cfg(library_dir, smpl_motion_file=str(library_dir / "smpl")))
    smpl = _smpl(resampled_length(31, 30, 50), 31, 10)
    r_file = Rotation.from_rotvec(smpl.pose_aa[0, :3])
    base = Rotation.from_quat([0.5, 0.5, 0.5, 0.5], scalar_first=True)
    want = Rotation.from_euler("x", 90, degrees=True) * r_file * base.inv()
    got = Rotation.from_quat(host.smpl_root_quat[host.smpl_offsets[0]], scalar_first=True)
    assert (want.inv() * got).magnitude() < 1e-5
    np.testing.assert_allclose(host.smpl_joints[: host.lengths[0]], smpl.joints, atol=2e-3)  # float16


def test_smpl_length_mismatch_names_the_clip(library_dir: Path) -> None:
    """smpl_joints must have the robot clip's 50 fps frame count; the error names the clip."""
    n = resampled_length(46, 30, 50)
    write_smpl_pkl(library_dir / "smpl" / "clip1.pkl", _smpl(n + 3, 46, 5))
    with pytest.raises(MotionLoadError, match=r"clip 'clip1'.*smpl_joints"):
        load_host_library(_cfg(library_dir, smpl_motion_file=str(library_dir / "smpl"), use_cache=False))


def test_missing_robot_key_names_file_and_key(library_dir: Path) -> None:
    """A robot entry without 'dof' fails with the file and the key in the message."""
    bad = library_dir / "robot" / "s1" / "broken.pkl"
    joblib.dump({"broken": {"root_trans_offset": np.zeros((5, 3))}}, bad)
    with pytest.raises(MotionLoadError, match=r"broken\.pkl.*'dof'"):
        load_host_library(_cfg(library_dir, use_cache=False))


def test_missing_smpl_key_names_the_file(library_dir: Path) -> None:
    """An SMPL file without 'transl' is reported with its path."""
    joblib.dump(
        {"pose_aa": np.zeros((31, 72)), "smpl_joints": np.zeros((50, 24, 3)), "fps": 30},
        library_dir / "smpl" / "clip1.pkl",
    )
    with pytest.raises(MotionLoadError, match=r"clip1\.pkl.*transl"):
        load_host_library(_cfg(library_dir, smpl_motion_file=str(library_dir / "smpl"), use_cache=False))


def test_soma_one_frame_longer_cuts_to_shorter(tmp_path: Path) -> None:
    """SOMA resampled to one frame more than the robot: both are cut to the shorter."""
    write_robot_pkl(tmp_path / "robot" / "a.pkl", {"a": _robot(31, 0)})  # 50 frames at 50 fps
    write_soma_pkl(tmp_path / "soma" / "a.pkl", {"a": _soma(32, 1, fps=31.0)})  # ceil(50·31/31) = 50
    write_soma_pkl(tmp_path / "soma2" / "a.pkl", {"a": _soma(62, 1, fps=60.0)})  # ceil(50·61/60) = 51
    host = load_host_library(_cfg(tmp_path, soma_motion_file=str(tmp_path / "soma"), use_cache=False))
    assert host.lengths.tolist() == [50] and host.has_soma.tolist() == [True]
    host = load_host_library(_cfg(tmp_path, soma_motion_file=str(tmp_path / "soma2"), use_cache=False))
    assert host.lengths.tolist() == [50] and len(host.soma_joints) == 50


def test_soma_length_far_off_is_an_error(tmp_path: Path) -> None:
    """A SOMA clip two or more frames off the robot clip is an error naming the clip."""
    write_robot_pkl(tmp_path / "robot" / "a.pkl", {"a": _robot(31, 0)})
    write_soma_pkl(tmp_path / "soma" / "a.pkl", {"a": _soma(40, 1)})
    with pytest.raises(MotionLoadError, match=r"clip 'a': SOMA"):
        load_host_library(_cfg(tmp_path, soma_motion_file=str(tmp_path / "soma"), use_cache=False))


def test_soma_root_is_z_up_and_base_free(tmp_path: Path) -> None:
    """SOMA root: Rx(+90°)·q_file·(0.5,0.5,0.5,0.5), computed here with scipy."""
    write_robot_pkl(tmp_path / "robot" / "a.pkl", {"a": _robot(31, 0)})
    soma = _soma(31, 3)
    write_soma_pkl(tmp_path / "soma" / "a.pkl", {"a": soma})
    host = load_host_library(_cfg(tmp_path, soma_motion_file=str(tmp_path / "soma"), use_cache=False))
    base = Rotation.from_quat([0.5, 0.5, 0.5, 0.5], scalar_first=True)
    want = (
        Rotation.from_euler("x", 90, degrees=True)
        * Rotation.from_quat(soma.root_quat[0], scalar_first=True)
        * base
    )
    got = Rotation.from_quat(host.soma_root_quat[0], scalar_first=True)
    assert (want.inv() * got).magnitude() < 1e-5
    np.testing.assert_allclose(host.soma_joints[0], soma.joints[0], atol=5e-3)


def test_duplicate_clip_names_are_an_error(library_dir: Path) -> None:
    """The same clip name in two files is refused, naming both files."""
    write_robot_pkl(library_dir / "robot" / "s1" / "again.pkl", {"clip0": _robot(20, 9)})
    with pytest.raises(MotionLoadError, match=r"clip 'clip0' appears in"):
        load_host_library(_cfg(library_dir, use_cache=False))


def test_missing_path_names_the_key(tmp_path: Path) -> None:
    """A motion_file that does not exist is reported with its config key."""
    with pytest.raises(FileNotFoundError, match="motion_file"):
        load_host_library(MotionLibConfig(motion_file=str(tmp_path / "nope"), use_cache=False))


def test_cache_is_reused_and_invalidated(library_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second load reads the cache; changing an input file's mtime makes a new cache entry."""
    cfg = _cfg(library_dir, smpl_motion_file=str(library_dir / "smpl"))
    first = load_host_library(cfg)
    cached = list((library_dir / "cache").glob("*.npz"))
    assert len(cached) == 1

    def refuse(*args: object) -> None:
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(loading_module, "_load_uncached", refuse)
    second = load_host_library(cfg)
    assert second.names == first.names
    np.testing.assert_array_equal(second.robot, first.robot)
    np.testing.assert_array_equal(second.smpl_joints, first.smpl_joints)
    monkeypatch.undo()
    target = library_dir / "robot" / "s0" / "clip0.pkl"
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    load_host_library(cfg)
    assert len(list((library_dir / "cache").glob("*.npz"))) == 2


def test_parallel_load_equals_serial(library_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes produce the same host arrays as the single-process path."""
    serial = load_host_library(_cfg(library_dir, use_cache=False, multi_thread=False))
    monkeypatch.setattr(loading_module, "_PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(loading_module, "_TASK_CHUNK", 1)
    parallel = load_host_library(_cfg(library_dir, use_cache=False, num_workers=2))
    assert parallel.names == serial.names
    np.testing.assert_array_equal(parallel.robot, serial.robot)
