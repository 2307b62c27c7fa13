"""SONIC robot motion-library PKL files (``convert_soma_csv_to_motion_lib`` output, SONIC_REFERENCE §11.1).

A file is ``joblib.dump({motion_name: entry, ...}, path, compress=True)``; one motion per file with
``--individual``, many otherwise. Each entry holds exactly:

==================== ============== ==========================================================
key                  shape / dtype  content
==================== ============== ==========================================================
``root_trans_offset`` (T, 3) f32     pelvis position, world Z up, metres
``pose_aa``           (T, 30, 3) f32 ``[:, 0]`` root rotation vector; ``[:, 1+i]`` = axis_i · dof_i
``dof``               (T, 29) f32    joint angles (rad), canonical order
``root_rot``          (T, 4) f32     pelvis orientation, **xyzw**
``smpl_joints``       (T, 24, 3) f32 zeros in robot files
``fps``               int            frame rate
==================== ============== ==========================================================

The joint axes come from the vendored MJCF (``axis`` of each hinge), not from a hand-typed table.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import torch

from sonic_data.formats.atomic import atomic_joblib_dump
from sonic_data.formats.containers import RobotMotion
from sonic_data.formats.errors import FormatError
from sonic_data.g1 import JOINT_NAMES, MJCF_PATH, NUM_JOINTS
from sonic_data.rotations import axis_angle_to_quat, quat_to_axis_angle, wxyz_to_xyzw, xyzw_to_wxyz

__all__ = [
    "ROBOT_PKL_KEYS",
    "joint_axes",
    "read_robot_pkl",
    "robot_entry",
    "robot_motion_from_entry",
    "write_robot_pkl",
]

ROBOT_PKL_KEYS: tuple[str, ...] = ("root_trans_offset", "pose_aa", "dof", "root_rot", "smpl_joints", "fps")
"""The keys of one SONIC robot entry, in the order SONIC writes them."""

_CONSISTENCY_TOL_RAD = 1e-3


@cache
def joint_axes(mjcf_path: Path = MJCF_PATH) -> np.ndarray:
    """Unit hinge axes (29, 3) in canonical joint order, read from the MJCF's ``<joint axis=...>``.

    Raises:
        ValueError: if a canonical joint is missing from the MJCF or has no axis.
    """
    root = ET.parse(mjcf_path).getroot()
    found = {j.get("name"): j.get("axis") for j in root.iter("joint")}
    axes = []
    for name in JOINT_NAMES:
        axis = found.get(name)
        if axis is None:
            raise ValueError(f"{mjcf_path}: hinge {name!r} missing or without an axis")
        vec = np.array([float(v) for v in axis.split()], dtype=np.float64)
        axes.append(vec / np.linalg.norm(vec))
    out = np.stack(axes).astype(np.float32)
    out.setflags(write=False)
    return out


def robot_entry(motion: RobotMotion) -> dict[str, Any]:
    """The SONIC entry dict of ``motion`` (keys :data:`ROBOT_PKL_KEYS`, float32 arrays, ``fps`` int).

    Raises:
        ValueError: if ``motion.fps`` is not an integer (the format stores an int).
    """
    fps = motion.fps
    if abs(fps - round(fps)) > 1e-6:
        raise ValueError(f"fps: the robot PKL stores an integer frame rate, got {fps}")
    t = motion.num_frames
    root_rotvec = quat_to_axis_angle(torch.from_numpy(motion.root_quat.astype(np.float64))).numpy()
    pose_aa = np.empty((t, NUM_JOINTS + 1, 3), dtype=np.float32)
    pose_aa[:, 0] = root_rotvec
    pose_aa[:, 1:] = motion.joint_pos[:, :, None] * joint_axes()[None]
    return {
        "root_trans_offset": motion.root_pos.astype(np.float32, copy=True),
        "pose_aa": pose_aa,
        "dof": motion.joint_pos.astype(np.float32, copy=True),
        "root_rot": wxyz_to_xyzw(torch.from_numpy(motion.root_quat)).numpy().astype(np.float32),
        "smpl_joints": np.zeros((t, 24, 3), dtype=np.float32),
        "fps": round(fps),
    }


def _array(
    path: Path, name: str, entry: Mapping[str, Any], key: str, shape: tuple[int | None, ...]
) -> np.ndarray:
    if key not in entry:
        raise FormatError(path, f"motion {name!r} has no {key!r} (keys: {sorted(entry)})", key=key)
    try:
        arr = np.asarray(entry[key], dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise FormatError(path, f"motion {name!r}: not a numeric array ({exc})", key=key) from exc
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)):
        want = "(" + ", ".join("T" if s is None else str(s) for s in shape) + ")"
        raise FormatError(path, f"motion {name!r}: expected shape {want}, got {tuple(arr.shape)}", key=key)
    if not np.isfinite(arr).all():
        raise FormatError(path, f"motion {name!r}: contains NaN or infinite values", key=key)
    return arr


def robot_motion_from_entry(path: str | Path, name: str, entry: Any) -> RobotMotion:
    """Validate one SONIC entry and turn it into a :class:`RobotMotion`.

    ``dof`` and ``root_rot`` are the data; ``pose_aa`` must agree with them (SONIC's motion library
    reads ``pose_aa``, so a file where they differ would train on something else than it shows).

    Raises:
        FormatError: missing key, wrong shape, non-finite value, or ``pose_aa`` inconsistent with
            ``dof`` / ``root_rot``; the message names the file, the motion and the key.
    """
    path = Path(path)
    if not isinstance(entry, Mapping):
        raise FormatError(path, f"motion {name!r}: expected a dict entry, got {type(entry).__name__}")
    dof = _array(path, name, entry, "dof", (None, NUM_JOINTS))
    t = dof.shape[0]
    root_pos = _array(path, name, entry, "root_trans_offset", (t, 3))
    root_rot = _array(path, name, entry, "root_rot", (t, 4))
    pose_aa = _array(path, name, entry, "pose_aa", (t, NUM_JOINTS + 1, 3))
    if "smpl_joints" in entry:
        _array(path, name, entry, "smpl_joints", (t, 24, 3))
    fps = entry.get("fps", 30)
    if not isinstance(fps, int | float | np.integer | np.floating) or fps <= 0:
        raise FormatError(path, f"motion {name!r}: expected a positive frame rate, got {fps!r}", key="fps")
    joint_from_aa = np.einsum("tjk,jk->tj", pose_aa[:, 1:], joint_axes())
    if t and np.abs(joint_from_aa - dof).max() > _CONSISTENCY_TOL_RAD:
        raise FormatError(path, f"motion {name!r}: pose_aa[:, 1:] disagrees with dof", key="pose_aa")
    root_quat = xyzw_to_wxyz(torch.from_numpy(root_rot.astype(np.float64)))
    aa_quat = axis_angle_to_quat(torch.from_numpy(pose_aa[:, 0].astype(np.float64)))
    norms = root_quat.norm(dim=-1)
    if t and (norms - 1).abs().max() > 1e-3:
        raise FormatError(path, f"motion {name!r}: root_rot is not unit-norm", key="root_rot")
    dot = (root_quat / norms[:, None] * aa_quat).sum(-1).abs().clamp(max=1.0)
    if t and (2 * torch.arccos(dot)).max() > _CONSISTENCY_TOL_RAD * 10:
        raise FormatError(path, f"motion {name!r}: pose_aa[:, 0] disagrees with root_rot", key="pose_aa")
    try:
        return RobotMotion(root_pos=root_pos, root_quat=root_quat.numpy(), joint_pos=dof, fps=float(fps))
    except ValueError as exc:
        raise FormatError(path, f"motion {name!r}: {exc}") from exc


def read_robot_pkl(path: str | Path) -> dict[str, RobotMotion]:
    """Read a robot PKL (one or many motions) into ``{motion_name: RobotMotion}``.

    Raises:
        FormatError: the file cannot be unpickled, is not a ``{name: entry}`` dict, or an entry is bad.
    """
    path = Path(path)
    try:
        data = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many types for a damaged file
        raise FormatError(path, f"cannot load as a joblib pickle: {type(exc).__name__}: {exc}") from exc
    if not isinstance(data, Mapping) or not data:
        raise FormatError(path, "expected a non-empty dict {motion_name: entry}")
    if "dof" in data and "pose_aa" in data:
        raise FormatError(path, "this is a bare entry; robot PKLs wrap entries as {motion_name: entry}")
    return {str(name): robot_motion_from_entry(path, str(name), entry) for name, entry in data.items()}


def write_robot_pkl(
    path: str | Path, motions: Mapping[str, RobotMotion], *, compress: bool | int = True
) -> None:
    """Write ``{name: entry}`` with ``joblib.dump(..., compress=True)`` atomically, as SONIC does."""
    if not motions:
        raise ValueError(f"{path}: refusing to write a robot PKL without motions")
    atomic_joblib_dump({name: robot_entry(m) for name, m in motions.items()}, path, compress=compress)
