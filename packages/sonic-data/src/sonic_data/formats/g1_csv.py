"""Bones-SEED Unitree G1 CSV files: one motion per file, 120 fps.

Layout (FORMATS.md "Bones-SEED"): 36 comma-separated columns ``Frame, root_translateX/Y/Z`` (cm,
Z up), ``root_rotateX/Y/Z`` (degrees, Euler **extrinsic** x→y→z, ``R = Rz·Ry·Rx``, scipy
``from_euler("xyz")``), then ``<joint>_dof`` for the 29 joints in canonical order (degrees).
The reader validates the header, the column count of every row, that every cell is a finite number
and that ``Frame`` increases; each error names the file, the 1-based line and the column.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from sonic_data.formats.atomic import atomic_write_text
from sonic_data.formats.containers import RobotMotion
from sonic_data.formats.errors import FormatError
from sonic_data.g1 import JOINT_NAMES
from sonic_data.rotations import euler_xyz_extrinsic_to_quat, quat_to_matrix

__all__ = ["BONES_SEED_FPS", "CSV_COLUMNS", "read_g1_csv", "write_g1_csv", "quat_to_euler_xyz_extrinsic"]

BONES_SEED_FPS = 120
"""Frame rate of the Bones-SEED G1 CSVs (their files carry no rate)."""

CSV_COLUMNS: tuple[str, ...] = (
    "Frame",
    "root_translateX",
    "root_translateY",
    "root_translateZ",
    "root_rotateX",
    "root_rotateY",
    "root_rotateZ",
    *(f"{name}_dof" for name in JOINT_NAMES),
)
"""The 36 header names, in order."""


def _parse_rows_slowly(path: Path, lines: list[str]) -> np.ndarray:
    """Parse row by row to locate the first bad cell; only runs when the fast path failed."""
    rows = []
    for i, text in enumerate(lines, start=2):
        cells = text.split(",")
        if len(cells) != len(CSV_COLUMNS):
            raise FormatError(
                path, f"expected {len(CSV_COLUMNS)} comma-separated values, got {len(cells)}", line=i
            )
        row = []
        for name, cell in zip(CSV_COLUMNS, cells, strict=True):
            try:
                row.append(float(cell))
            except ValueError:
                raise FormatError(path, f"not a number: {cell.strip()!r}", line=i, column=name) from None
        rows.append(row)
    return np.asarray(rows, dtype=np.float64)


def read_g1_csv(path: str | Path, fps: float = BONES_SEED_FPS) -> RobotMotion:
    """Read a Bones-SEED G1 CSV into a :class:`RobotMotion` (metres, radians, ``wxyz``).

    Args:
        path: the ``.csv`` file.
        fps: its frame rate (the file does not say; Bones-SEED is 120).

    Raises:
        FormatError: unreadable or empty file, wrong header, wrong column count, non-numeric or
            non-finite cell, or a ``Frame`` column that does not increase.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"cannot read file: {exc}") from exc
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise FormatError(path, "empty file (expected a header line and at least one frame)")
    header = tuple(h.strip() for h in lines[0].split(","))
    if header != CSV_COLUMNS:
        if len(header) != len(CSV_COLUMNS):
            raise FormatError(path, f"header has {len(header)} columns, expected {len(CSV_COLUMNS)}", line=1)
        k = next(i for i, (a, b) in enumerate(zip(header, CSV_COLUMNS, strict=True)) if a != b)
        raise FormatError(
            path, f"header column {k + 1} is {header[k]!r}, expected {CSV_COLUMNS[k]!r}", line=1
        )
    body = lines[1:]
    if not body:
        raise FormatError(path, "no frames after the header", line=2)
    try:
        data = np.loadtxt(io.StringIO("\n".join(body)), delimiter=",", dtype=np.float64, ndmin=2)
        if data.shape[1] != len(CSV_COLUMNS):
            raise ValueError
    except ValueError:
        data = _parse_rows_slowly(path, body)
    bad = ~np.isfinite(data)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise FormatError(path, f"value {data[r, c]} is not finite", line=int(r) + 2, column=CSV_COLUMNS[c])
    frames = data[:, 0]
    if frames.size > 1 and (np.diff(frames) <= 0).any():
        r = int(np.argmax(np.diff(frames) <= 0)) + 1
        raise FormatError(path, f"Frame {frames[r]:g} does not increase", line=r + 2, column="Frame")
    euler = torch.from_numpy(np.deg2rad(data[:, 4:7]))
    root_quat = euler_xyz_extrinsic_to_quat(euler).numpy()
    try:
        return RobotMotion(
            root_pos=data[:, 1:4] / 100.0, root_quat=root_quat, joint_pos=np.deg2rad(data[:, 7:]), fps=fps
        )
    except ValueError as exc:
        raise FormatError(path, str(exc)) from exc


def quat_to_euler_xyz_extrinsic(quat_wxyz: np.ndarray) -> np.ndarray:
    """Extrinsic x→y→z Euler angles (radians) of ``wxyz`` quaternions, (T, 4) → (T, 3).

    Inverse of ``R = Rz(c)·Ry(b)·Rx(a)`` with ``b`` in [-π/2, π/2]; at gimbal lock ``a = 0``.
    """
    m = quat_to_matrix(torch.from_numpy(np.asarray(quat_wxyz, dtype=np.float64))).numpy()
    sb = np.clip(-m[..., 2, 0], -1.0, 1.0)
    b = np.arcsin(sb)
    locked = np.abs(sb) > 1.0 - 1e-12
    a = np.where(locked, 0.0, np.arctan2(m[..., 2, 1], m[..., 2, 2]))
    c = np.where(locked, np.arctan2(-m[..., 0, 1], m[..., 1, 1]), np.arctan2(m[..., 1, 0], m[..., 0, 0]))
    return np.stack((a, b, c), axis=-1)


def write_g1_csv(path: str | Path, motion: RobotMotion) -> None:
    """Write ``motion`` as a Bones-SEED G1 CSV (cm, degrees, ``Frame`` from 0), atomically.

    The frame rate is not stored (the format has no field for it); write 120 fps data.
    """
    t = motion.num_frames
    table = np.empty((t, len(CSV_COLUMNS)), dtype=np.float64)
    table[:, 0] = np.arange(t)
    table[:, 1:4] = motion.root_pos.astype(np.float64) * 100.0
    table[:, 4:7] = np.rad2deg(quat_to_euler_xyz_extrinsic(motion.root_quat))
    table[:, 7:] = np.rad2deg(motion.joint_pos.astype(np.float64))
    fmt = ["%d"] + ["%.6f"] * (len(CSV_COLUMNS) - 1)

    def write(f: io.TextIOBase) -> None:
        f.write(",".join(CSV_COLUMNS) + "\n")
        np.savetxt(f, table, fmt=fmt, delimiter=",")

    atomic_write_text(path, write)
