"""Motion file formats: readers and writers with typed containers (numpy, metres, radians, ``wxyz``).

* Bones-SEED G1 CSV: :func:`read_g1_csv` / :func:`write_g1_csv` → :class:`RobotMotion`.
* SONIC robot PKL: :func:`read_robot_pkl` / :func:`write_robot_pkl` (``{name: entry}``, ``root_rot`` xyzw).
* SMPL PKL (flat dict): :func:`read_smpl_pkl` / :func:`write_smpl_pkl` → :class:`SmplMotion`.
* BVH (SOMA 6-channel and standard): :func:`read_bvh` / :func:`write_bvh` → :class:`BvhMotion`.
* SOMA PKL: :func:`read_soma_pkl` / :func:`write_soma_pkl` → :class:`SomaMotion`.

Every reader raises :class:`FormatError` naming the file (and line, column or key); every writer is
atomic. Frames per key: FORMATS.md "Frames and units per file key" and :mod:`.frames`.
"""

from __future__ import annotations

from sonic_data.formats.bvh import BvhJoint, BvhMotion, read_bvh, write_bvh
from sonic_data.formats.containers import RobotMotion, SmplMotion, SomaMotion
from sonic_data.formats.errors import FormatError
from sonic_data.formats.g1_csv import BONES_SEED_FPS, CSV_COLUMNS, read_g1_csv, write_g1_csv
from sonic_data.formats.robot_pkl import (
    ROBOT_PKL_KEYS,
    joint_axes,
    read_robot_pkl,
    robot_entry,
    robot_motion_from_entry,
    write_robot_pkl,
)
from sonic_data.formats.smpl_pkl import (
    SMPL_JOINT_NAMES,
    SMPL_PARENTS,
    SMPL_PKL_KEYS,
    read_smpl_pkl,
    write_smpl_pkl,
)
from sonic_data.formats.soma_pkl import SOMA_JOINT_NAMES, SOMA_PKL_KEYS, read_soma_pkl, write_soma_pkl

__all__ = [
    "BONES_SEED_FPS",
    "CSV_COLUMNS",
    "ROBOT_PKL_KEYS",
    "SMPL_JOINT_NAMES",
    "SMPL_PARENTS",
    "SMPL_PKL_KEYS",
    "SOMA_JOINT_NAMES",
    "SOMA_PKL_KEYS",
    "BvhJoint",
    "BvhMotion",
    "FormatError",
    "RobotMotion",
    "SmplMotion",
    "SomaMotion",
    "joint_axes",
    "read_bvh",
    "read_g1_csv",
    "read_robot_pkl",
    "read_smpl_pkl",
    "read_soma_pkl",
    "robot_entry",
    "robot_motion_from_entry",
    "write_bvh",
    "write_g1_csv",
    "write_robot_pkl",
    "write_smpl_pkl",
    "write_soma_pkl",
]
