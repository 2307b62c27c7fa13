"""SONIC SOMA PKL files (``extract_soma_joints_from_bvh`` output, SONIC_REFERENCE §11.3).

``joblib.dump({motion_name: entry}, path)`` (not compressed), entry keys: ``soma_joints`` (T, 26, 3)
f32 Hips-relative, Z up, metres; ``soma_root_quat`` (T, 4) Hips world orientation, **wxyz, Y up**;
``soma_transl`` (T, 3) Hips world position, metres, Y up; ``fps`` int; ``joint_names`` list of 26.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from sonic_data.formats.atomic import atomic_joblib_dump
from sonic_data.formats.containers import SomaMotion
from sonic_data.formats.errors import FormatError

__all__ = ["SOMA_JOINT_NAMES", "SOMA_PKL_KEYS", "read_soma_pkl", "soma_entry", "write_soma_pkl"]

SOMA_PKL_KEYS: tuple[str, ...] = ("soma_joints", "soma_root_quat", "soma_transl", "fps", "joint_names")
"""The keys of one SOMA entry."""

SOMA_JOINT_NAMES: tuple[str, ...] = (
    "Hips", "Spine1", "Spine2", "Chest", "Neck1", "Head",
    "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand", "LeftHandThumb1", "LeftHandMiddle1",
    "RightShoulder", "RightArm", "RightForeArm", "RightHand", "RightHandThumb1", "RightHandMiddle1",
    "LeftLeg", "LeftShin", "LeftFoot", "LeftToeBase", "RightLeg", "RightShin", "RightFoot", "RightToeBase",
)  # fmt: skip
"""The 26 BVH joints SONIC keeps, in its order (SONIC_REFERENCE §11.3)."""


def soma_entry(motion: SomaMotion) -> dict[str, Any]:
    """The SONIC entry dict of ``motion`` (float32 arrays, ``fps`` int, ``joint_names`` list)."""
    fps = motion.fps
    if abs(fps - round(fps)) > 1e-6:
        raise ValueError(f"fps: the SOMA PKL stores an integer frame rate, got {fps}")
    return {
        "soma_joints": motion.joints.copy(),
        "soma_root_quat": motion.root_quat.copy(),
        "soma_transl": motion.transl.copy(),
        "fps": round(fps),
        "joint_names": list(motion.joint_names),
    }


def read_soma_pkl(path: str | Path) -> dict[str, SomaMotion]:
    """Read a SOMA PKL into ``{motion_name: SomaMotion}``.

    Raises:
        FormatError: unloadable file, wrong wrapper, or a missing/malformed key (named).
    """
    path = Path(path)
    try:
        data = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many types for a damaged file
        raise FormatError(path, f"cannot load as a joblib pickle: {type(exc).__name__}: {exc}") from exc
    if not isinstance(data, Mapping) or not data:
        raise FormatError(path, "expected a non-empty dict {motion_name: entry}")
    out: dict[str, SomaMotion] = {}
    for name, entry in data.items():
        if not isinstance(entry, Mapping):
            raise FormatError(path, f"motion {name!r}: expected a dict entry, got {type(entry).__name__}")
        missing = [k for k in SOMA_PKL_KEYS if k not in entry]
        if missing:
            raise FormatError(path, f"motion {name!r}: missing keys {missing}", key=missing[0])
        fps = entry["fps"]
        if not isinstance(fps, int | float | np.integer | np.floating) or fps <= 0:
            raise FormatError(
                path, f"motion {name!r}: expected a positive frame rate, got {fps!r}", key="fps"
            )
        try:
            out[str(name)] = SomaMotion(
                joints=entry["soma_joints"],
                root_quat=entry["soma_root_quat"],
                transl=entry["soma_transl"],
                fps=float(fps),
                joint_names=tuple(entry["joint_names"]),
            )
        except (TypeError, ValueError) as exc:
            raise FormatError(path, f"motion {name!r}: {exc}") from exc
    return out


def write_soma_pkl(path: str | Path, motions: Mapping[str, SomaMotion]) -> None:
    """Write ``{name: entry}`` with joblib (uncompressed, as SONIC does), atomically."""
    if not motions:
        raise ValueError(f"{path}: refusing to write a SOMA PKL without motions")
    atomic_joblib_dump({name: soma_entry(m) for name, m in motions.items()}, path, compress=False)
