"""Typed in-memory motions: what every reader returns and every writer takes.

Arrays are numpy ``float32`` in library units (metres, radians) and quaternions are ``wxyz``; the
readers convert at the file border (cm, degrees, ``xyzw``). Frames follow the file keys they stand
for (FORMATS.md "Frames and units per file key"): robot data is Z up; SMPL ``pose_aa`` root and
``transl`` and SOMA ``root_quat`` / ``transl`` stay Y up as in the files, because the motion library
converts them once at load (``sonic_data.formats.frames``). Construction validates shapes, so a
container that exists is well formed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sonic_data.g1 import NUM_JOINTS

__all__ = ["RobotMotion", "SmplMotion", "SomaMotion", "as_f32"]


def as_f32(name: str, value: object, shape: tuple[int | None, ...]) -> np.ndarray:
    """``value`` as a C-contiguous float32 array of ``shape`` (``None`` = any size).

    Raises:
        ValueError: naming ``name``, the expected and the actual shape, or non-finite values.
    """
    arr = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)):
        want = "(" + ", ".join("T" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(arr.shape)}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return arr


def _check_fps(fps: float) -> float:
    fps = float(fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps: expected a positive number, got {fps}")
    return fps


@dataclass(frozen=True, eq=False)
class RobotMotion:
    """One G1 clip: root pose and the 29 joint angles per frame.

    Attributes:
        root_pos: (T, 3) pelvis position in the world, Z up, metres.
        root_quat: (T, 4) pelvis orientation, ``wxyz``, unit norm.
        joint_pos: (T, 29) joint angles, radians, canonical (MJCF) order.
        fps: frame rate of the clip (Hz).
    """

    root_pos: np.ndarray
    root_quat: np.ndarray
    joint_pos: np.ndarray
    fps: float

    def __post_init__(self) -> None:
        root_pos = as_f32("root_pos", self.root_pos, (None, 3))
        t = root_pos.shape[0]
        if t < 1:
            raise ValueError("root_pos: a motion needs at least one frame")
        root_quat = as_f32("root_quat", self.root_quat, (t, 4))
        norm = np.linalg.norm(root_quat, axis=-1)
        if np.abs(norm - 1.0).max() > 1e-3:
            raise ValueError(
                f"root_quat: expected unit quaternions, norms range {norm.min():.4f}..{norm.max():.4f}"
            )
        object.__setattr__(self, "root_pos", root_pos)
        object.__setattr__(self, "root_quat", root_quat / norm[:, None])
        object.__setattr__(self, "joint_pos", as_f32("joint_pos", self.joint_pos, (t, NUM_JOINTS)))
        object.__setattr__(self, "fps", _check_fps(self.fps))

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.root_pos.shape[0])

    @property
    def duration_s(self) -> float:
        """Time from the first to the last frame, ``(T - 1) / fps`` seconds."""
        return (self.num_frames - 1) / self.fps


@dataclass(frozen=True, eq=False)
class SmplMotion:
    """One SMPL clip as SONIC stores it (a flat dict, matched to a robot clip by basename).

    Attributes:
        pose_aa: (T, 72) axis-angle per SMPL joint; ``[:, :3]`` is the global orientation, Y up.
        joints: (N, 24, 3) joint positions, Z up, root-translation-free, metres (``smpl_joints``).
        transl: (N, 3) root translation, Y up, metres.
        fps: frame rate of ``pose_aa``. ``joints``/``transl`` are at the robot clip's 50 fps times
            (FORMATS.md "Resampling to 50 fps"), so N may differ from T in files of other sources.
    """

    pose_aa: np.ndarray
    joints: np.ndarray
    transl: np.ndarray
    fps: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "pose_aa", as_f32("pose_aa", self.pose_aa, (None, 72)))
        joints = as_f32("smpl_joints", self.joints, (None, 24, 3))
        object.__setattr__(self, "joints", joints)
        object.__setattr__(self, "transl", as_f32("transl", self.transl, (joints.shape[0], 3)))
        object.__setattr__(self, "fps", _check_fps(self.fps))

    @property
    def num_frames(self) -> int:
        """Number of ``pose_aa`` frames T."""
        return int(self.pose_aa.shape[0])


@dataclass(frozen=True, eq=False)
class SomaMotion:
    """One SOMA clip: the 26 joints SONIC keeps, root orientation and translation.

    Attributes:
        joints: (T, J, 3) joint positions minus the Hips position, Z up, metres.
        root_quat: (T, 4) Hips world orientation, ``wxyz``, **Y up** (as in the file).
        transl: (T, 3) Hips world position, metres, **Y up**.
        fps: frame rate (Hz).
        joint_names: the J joint names, in the order of ``joints``.
    """

    joints: np.ndarray
    root_quat: np.ndarray
    transl: np.ndarray
    fps: float
    joint_names: tuple[str, ...]

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.joint_names)
        joints = as_f32("soma_joints", self.joints, (None, len(names), 3))
        t = joints.shape[0]
        object.__setattr__(self, "joints", joints)
        object.__setattr__(self, "root_quat", as_f32("soma_root_quat", self.root_quat, (t, 4)))
        object.__setattr__(self, "transl", as_f32("soma_transl", self.transl, (t, 3)))
        object.__setattr__(self, "fps", _check_fps(self.fps))
        object.__setattr__(self, "joint_names", names)

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.joints.shape[0])
