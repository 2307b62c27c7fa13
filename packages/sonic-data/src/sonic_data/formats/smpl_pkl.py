"""SONIC SMPL PKL files: one flat dict per clip, matched to the robot clip by file basename.

Keys (FORMATS.md "Motion-library PKL formats"): ``pose_aa`` (T, 72) axis-angle per SMPL joint,
``[:3]`` the global orientation, **Y up**; ``smpl_joints`` (N, 24, 3) Z up, root-translation-free,
metres; ``transl`` (N, 3) metres, Y up; ``fps`` the rate of ``pose_aa``. ``smpl_joints`` and
``transl`` are at the robot clip's 50 fps frame count N (not resampled at load).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from sonic_data.formats.atomic import atomic_joblib_dump
from sonic_data.formats.containers import SmplMotion
from sonic_data.formats.errors import FormatError

__all__ = [
    "SMPL_JOINT_NAMES",
    "SMPL_PARENTS",
    "SMPL_PKL_KEYS",
    "read_smpl_pkl",
    "smpl_entry",
    "write_smpl_pkl",
]

SMPL_PKL_KEYS: tuple[str, ...] = ("pose_aa", "smpl_joints", "transl", "fps")
"""The keys of a SONIC SMPL PKL."""

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "Pelvis", "L_Hip", "R_Hip", "Spine1", "L_Knee", "R_Knee", "Spine2", "L_Ankle", "R_Ankle", "Spine3",
    "L_Foot", "R_Foot", "Neck", "L_Collar", "R_Collar", "Head", "L_Shoulder", "R_Shoulder", "L_Elbow",
    "R_Elbow", "L_Wrist", "R_Wrist", "L_Hand", "R_Hand",
)  # fmt: skip
"""The 24 SMPL joints in SMPL order (FORMATS.md "SMPL skeleton")."""

SMPL_PARENTS: tuple[int, ...] = (
    -1,
    0,
    0,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    9,
    9,
    12,
    13,
    14,
    16,
    17,
    18,
    19,
    20,
    21,
)
"""Parent index of each SMPL joint (-1 for the pelvis)."""


def smpl_entry(motion: SmplMotion) -> dict[str, Any]:
    """The flat SONIC dict of ``motion`` (float32 arrays; ``fps`` int when integral)."""
    fps = motion.fps
    return {
        "pose_aa": motion.pose_aa.copy(),
        "smpl_joints": motion.joints.copy(),
        "transl": motion.transl.copy(),
        "fps": round(fps) if abs(fps - round(fps)) < 1e-9 else fps,
    }


def read_smpl_pkl(path: str | Path) -> SmplMotion:
    """Read a SONIC SMPL PKL.

    Raises:
        FormatError: the file cannot be loaded, is not a flat dict, or a key is missing or malformed.
    """
    path = Path(path)
    try:
        data = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many types for a damaged file
        raise FormatError(path, f"cannot load as a joblib pickle: {type(exc).__name__}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise FormatError(
            path, f"expected a flat dict with keys {list(SMPL_PKL_KEYS)}, got {type(data).__name__}"
        )
    missing = [k for k in SMPL_PKL_KEYS if k not in data]
    if missing:
        raise FormatError(path, f"missing keys {missing} (found {sorted(map(str, data))})", key=missing[0])
    fps = data["fps"]
    if not isinstance(fps, int | float | np.integer | np.floating) or fps <= 0:
        raise FormatError(path, f"expected a positive frame rate, got {fps!r}", key="fps")
    try:
        return SmplMotion(
            pose_aa=data["pose_aa"], joints=data["smpl_joints"], transl=data["transl"], fps=float(fps)
        )
    except (TypeError, ValueError) as exc:
        raise FormatError(path, str(exc), key=str(exc).split(":")[0]) from exc


def write_smpl_pkl(path: str | Path, motion: SmplMotion, *, compress: bool | int = True) -> None:
    """Write a flat SMPL dict with joblib, atomically."""
    atomic_joblib_dump(smpl_entry(motion), path, compress=compress)
