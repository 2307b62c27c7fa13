"""The G1's :class:`~sonic_model.PolicyIO` (robot block at the policy border) from ``sonic_data.g1``.

The env fills it for the policy it serves, the trainer stores it in every checkpoint and the GEAR-SONIC
importer fills it for converted files: all three build it here, from the one robot-constants module
(FORMATS.md "Policy border"). This module imports neither Isaac Lab nor the simulator. ``sonic_data.g1``
keeps its tables in canonical (MJCF) joint order; the policy's actions are in SONIC's Isaac Lab order
(SONIC_REFERENCE §8), so every per-joint table is permuted **by name** into the requested order.

SONIC's values (§8): ``sim_dt`` 0.005 s x ``decimation`` 4 = 0.02 s policy period, raw actions clipped
to ±20 (``action_clip_value``) before ``target = default + scale · action``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sonic_data import g1
from sonic_model import PolicyIO

__all__ = ["ACTION_CLIP", "CONTROL_DT_S", "g1_policy_io"]

CONTROL_DT_S = 0.005 * 4
"""SONIC's policy period: physics step 0.005 s, decimation 4 (50 Hz)."""

ACTION_CLIP = 20.0
"""SONIC's ``action_clip_value``: raw actions are clamped to ±20 before scaling."""


def g1_policy_io(
    joint_names: Sequence[str] = g1.ISAACLAB_JOINT_NAMES,
    control_dt_s: float = CONTROL_DT_S,
    action_clip: float = ACTION_CLIP,
) -> PolicyIO:
    """The G1's robot block with every per-joint value laid out in ``joint_names`` order.

    Args:
        joint_names: the policy's action joint order (a contract's ``action_joint_names``); SONIC's
            Isaac Lab order by default. Must name each of the 29 G1 joints exactly once.
        control_dt_s: policy period in seconds.
        action_clip: bound on raw actions before scaling.

    Raises:
        ValueError: a name is not a G1 joint, a joint is repeated, or some G1 joint is left out.
    """
    names = tuple(joint_names)
    unknown = [n for n in names if n not in g1.JOINT_NAMES]
    left_out = [n for n in g1.JOINT_NAMES if n not in names]
    if unknown or left_out:
        raise ValueError(
            f"g1_policy_io: joint_names must list the {g1.NUM_JOINTS} G1 joints once each; "
            f"not G1 joints: {unknown}, G1 joints left out: {left_out}"
        )
    perm = g1.joint_permutation(g1.JOINT_NAMES, names)  # raises on repeated names

    def ordered(table: Sequence[float]) -> tuple[float, ...]:
        return tuple(float(table[i]) for i in perm)

    return PolicyIO(
        joint_names=names,
        default_joint_pos=ordered(g1.DEFAULT_JOINT_POS),
        kp=ordered(g1.KP),
        kd=ordered(g1.KD),
        action_scale=ordered(g1.ACTION_SCALE),
        control_dt_s=control_dt_s,
        action_clip=action_clip,
    )
