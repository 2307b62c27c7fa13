"""SONIC's joint-position action: ``target = default + scale · clip(a, ±20)`` in the policy's joint order.

SONIC (SONIC_REFERENCE §8) uses Isaac Lab's ``JointPositionActionCfg`` on all 29 joints with
``use_default_offset`` and ``scale_j = 0.25·effort_j/kp_j``, and clips the *raw* action to ±20
before the env (``action_clip_value``). Isaac Lab's own ``clip`` field clamps the *processed*
target instead, so :class:`ClippedJointPositionAction` clamps the raw action itself.

The action vector is laid out in SONIC's Isaac Lab joint order (``ISAACLAB_JOINT_NAMES``, the
policy border); the term resolves those names to the simulator's joints once (``preserve_order``),
so the permutation to the simulator's canonical order is built by name, never by position.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from isaaclab.envs.mdp.actions import JointPositionAction, JointPositionActionCfg
from isaaclab.utils import configclass

from sonic_data import g1

ACTION_CLIP = 20.0
"""SONIC's ``action_clip_value``: raw actions are clamped to ±20 before scaling."""


def joint_position_targets(
    actions: torch.Tensor, default_pos: torch.Tensor, scale: torch.Tensor, clip: float
) -> torch.Tensor:
    """Joint targets ``default_pos + scale · clamp(actions, -clip, clip)``.

    Args:
        actions: raw policy actions, shape ``(num_envs, num_joints)``.
        default_pos: default joint positions in the same joint order, ``(num_envs, num_joints)`` or
            ``(num_joints,)``.
        scale: per-joint action scale (rad per unit action), broadcastable to ``actions``.
        clip: bound on ``|a|``, applied before scaling.

    Returns:
        Targets (rad), shape ``(num_envs, num_joints)``.
    """
    return default_pos + scale * actions.clamp(-clip, clip)


class ClippedJointPositionAction(JointPositionAction):
    """``JointPositionAction`` whose raw action is clamped to ``±cfg.raw_clip`` before the affine map.

    ``raw_actions`` holds the clamped action (what the policy effectively commanded; SONIC's
    last-action observation sees the same), ``processed_actions`` the joint targets.
    """

    cfg: ClippedJointPositionActionCfg

    def process_actions(self, actions: torch.Tensor) -> None:
        """Store ``clamp(actions)`` and compute targets ``offset + scale · clamp(actions)``."""
        clipped = actions.clamp(-self.cfg.raw_clip, self.cfg.raw_clip)
        self._raw_actions[:] = clipped
        self._processed_actions = joint_position_targets(
            self._raw_actions, torch.as_tensor(self._offset), torch.as_tensor(self._scale), self.cfg.raw_clip
        )


@configclass
class ClippedJointPositionActionCfg(JointPositionActionCfg):
    """Configuration of :class:`ClippedJointPositionAction`."""

    class_type: type = ClippedJointPositionAction

    raw_clip: float = ACTION_CLIP
    """Bound on the magnitude of each raw action, applied before scaling."""


def sonic_action_cfg(
    policy_joint_names: Sequence[str] = g1.ISAACLAB_JOINT_NAMES, raw_clip: float = ACTION_CLIP
) -> ClippedJointPositionActionCfg:
    """The action term: all 29 joints in ``policy_joint_names`` order, SONIC's scale, default offset.

    Args:
        policy_joint_names: the action vector's joint order (SONIC's Isaac Lab order by default);
            must be a permutation of ``sonic_data.g1.JOINT_NAMES``.
        raw_clip: bound on ``|a|`` before scaling.

    Raises:
        ValueError: if ``policy_joint_names`` is not a permutation of the G1's joints.
    """
    g1.joint_permutation(g1.JOINT_NAMES, policy_joint_names)
    if len(policy_joint_names) != g1.NUM_JOINTS:
        raise ValueError(
            f"policy_joint_names must list all {g1.NUM_JOINTS} G1 joints once, got {len(policy_joint_names)}"
        )
    scale = dict(zip(g1.JOINT_NAMES, g1.ACTION_SCALE, strict=True))
    return ClippedJointPositionActionCfg(
        asset_name="robot",
        joint_names=list(policy_joint_names),
        preserve_order=True,
        scale={name: scale[name] for name in policy_joint_names},
        use_default_offset=True,
        raw_clip=raw_clip,
    )
