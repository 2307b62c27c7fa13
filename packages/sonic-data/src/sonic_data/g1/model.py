"""Numbers read from the vendored G1 MJCF at import: joint limits and total mass.

These come from ``g1.xml`` itself (no hand-copied values), so the file stays the single source.
Reading it also checks that the file agrees with :mod:`sonic_data.g1.names`: an edited MJCF whose
joint or body order drifts from ``JOINT_NAMES``/``BODY_NAMES`` fails at import, naming the file.
"""

from __future__ import annotations

from pathlib import Path

from sonic_data.g1.mjcf import MjcfError, MjcfTree, parse_mjcf
from sonic_data.g1.names import BODY_NAMES, JOINT_NAMES

__all__ = ["G1_MJCF", "JOINT_LIMITS", "JOINT_LOWER", "JOINT_UPPER", "MJCF_PATH", "TOTAL_MASS"]

MJCF_PATH: Path = Path(__file__).with_name("g1.xml")
"""Path of the vendored mesh-free G1 MJCF."""


def _load(path: Path) -> MjcfTree:
    tree = parse_mjcf(path)
    if tree.joint_names != JOINT_NAMES:
        raise MjcfError(f"{path}: hinge joints {tree.joint_names} differ from JOINT_NAMES {JOINT_NAMES}")
    if tree.body_names != BODY_NAMES:
        raise MjcfError(f"{path}: bodies {tree.body_names} differ from BODY_NAMES {BODY_NAMES}")
    unlimited = [j.name for j in tree.joints if j.range is None]
    if unlimited:
        raise MjcfError(f"{path}: joints without a range: {unlimited}")
    return tree


G1_MJCF: MjcfTree = _load(MJCF_PATH)
"""The parsed kinematic tree of the vendored MJCF (bodies in ``BODY_NAMES`` order)."""

JOINT_LIMITS: tuple[tuple[float, float], ...] = tuple(
    (j.range[0], j.range[1]) for j in G1_MJCF.joints if j.range is not None
)
"""``(lower, upper)`` position limit (rad) of every joint, canonical order, from the MJCF ``range``."""

JOINT_LOWER: tuple[float, ...] = tuple(lo for lo, _ in JOINT_LIMITS)
"""Lower joint limits (rad), canonical order."""

JOINT_UPPER: tuple[float, ...] = tuple(hi for _, hi in JOINT_LIMITS)
"""Upper joint limits (rad), canonical order."""

TOTAL_MASS: float = G1_MJCF.total_mass
"""Total mass (kg) of the model: the sum of its bodies' ``<inertial>`` masses."""
