"""SONIC's domain randomisation (``tracking/level0_4``, SONIC_REFERENCE §7) as Isaac Lab event terms.

| term | mode | what |
|---|---|---|
| ``physics_material`` | startup | friction U[0.3, 1.6] and restitution U[0, 0.5] of every robot shape, per env |
| ``add_joint_default_pos`` | startup | default joint positions += U[−0.01, 0.01] rad; the action offset follows |
| ``base_com`` | startup | torso CoM += U(x ±0.025, y ±0.05, z ±0.05) m |
| ``randomize_rigid_body_mass`` | startup | wrist_yaw and torso masses × U[0.8, 2.5], inertia scaled alike |
| ``push_robot`` | interval 4–6 s | root velocity += U(x, y ±0.5, z ±0.2 m/s; roll, pitch ±0.52, yaw ±0.78 rad/s); train only |

Material, CoM, mass and push use Isaac Lab's own terms, which dispatch to their Newton
implementations. On Newton a shape has one friction coefficient (drawn from the static range; the
dynamic range and SONIC's 64 PhysX buckets do not apply), and MuJoCo-Warp contacts ignore
restitution. The CoM is changed at startup only: Isaac Lab warns that runtime CoM changes can
destabilise MuJoCo-Warp. The joint-default term is SONIC's own (``add_joint_default_pos``) and lives
here: Isaac Lab's action term copies the defaults once, at construction, so the term writes the new
defaults into the action term's offset too (``target = default + scale · a`` keeps holding).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.envs import mdp
from isaaclab.envs.mdp.actions import JointPositionAction
from isaaclab.managers import EventTermCfg, ManagerTermBase, SceneEntityCfg
from isaaclab.utils import configclass
from isaaclab.utils.math import sample_uniform
from torch import Tensor

from sonic_env.mdp_config import EventsConfig, Range

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedEnv

ACTION_TERM = "joint_pos"
"""Name of the joint-position action term whose offset follows the default joint positions."""


def offset_default_joint_pos(nominal: Tensor, offset_range: Range) -> Tensor:
    """``nominal + U(offset_range)`` per env and joint, ``(n, J)`` → ``(n, J)``.

    Draws from torch's global generator, which Isaac Lab seeds with the env seed.
    """
    return nominal + sample_uniform(
        offset_range[0], offset_range[1], tuple(nominal.shape), str(nominal.device)
    )


class add_joint_default_pos(ManagerTermBase):  # noqa: N801 (Isaac Lab names terms like functions)
    """Offset the default joint positions per env and keep the joint-position action's offset equal to them.

    The nominal defaults are captured at construction, so a repeated call re-draws around them
    instead of accumulating.
    """

    def __init__(self, cfg: EventTermCfg, env: ManagerBasedEnv) -> None:
        """Capture the nominal defaults of the asset in ``cfg.params['asset_cfg']``."""
        super().__init__(cfg, env)
        asset_cfg: SceneEntityCfg = cfg.params["asset_cfg"]
        self._asset = env.scene[asset_cfg.name]
        self._nominal = self._asset.data.default_joint_pos.torch.clone()

    def __call__(
        self,
        env: ManagerBasedEnv,
        env_ids: Tensor | slice | None,
        offset_range: Range,
        asset_cfg: SceneEntityCfg,
        action_name: str = ACTION_TERM,
    ) -> None:
        """Draw new defaults for ``env_ids`` and copy them into the action term's offset."""
        ids = torch.arange(env.num_envs, device=self._nominal.device) if env_ids is None else env_ids
        if isinstance(ids, slice):
            ids = torch.arange(env.num_envs, device=self._nominal.device)[ids]
        joint_ids = asset_cfg.joint_ids
        rows = ids[:, None] if not isinstance(joint_ids, slice) else ids
        # ``.torch`` is a zero-copy view of the simulator's default-joint-position array.
        default = self._asset.data.default_joint_pos.torch
        default[rows, joint_ids] = offset_default_joint_pos(self._nominal[rows, joint_ids], offset_range)
        term = env.action_manager.get_term(action_name)
        if not isinstance(term, JointPositionAction) or not term.cfg.use_default_offset:
            raise TypeError(
                f"add_joint_default_pos: action term {action_name!r} must be a JointPositionAction with "
                f"use_default_offset=True, got {type(term).__name__}"
            )
        offset = term._offset  # noqa: SLF001 (Isaac Lab has no setter for the action offset)
        assert isinstance(offset, Tensor)
        action_joints = term._joint_ids  # noqa: SLF001
        action_rows = ids[:, None] if not isinstance(action_joints, slice) else ids
        offset[ids] = default[action_rows, action_joints]


@configclass
class SonicEventsCfg:
    """SONIC's randomisation terms; build with :func:`event_terms_cfg`. ``None`` = term absent."""

    physics_material: EventTermCfg | None = None
    add_joint_default_pos: EventTermCfg | None = None
    base_com: EventTermCfg | None = None
    randomize_rigid_body_mass: EventTermCfg | None = None
    push_robot: EventTermCfg | None = None


def event_terms_cfg(
    events: EventsConfig, robot_name: str = "robot", action_name: str = ACTION_TERM
) -> SonicEventsCfg:
    """Isaac Lab event terms for the selected preset (eval: no ``push_robot``).

    Args:
        events: preset and parameters.
        robot_name: the articulation's scene name.
        action_name: the joint-position action term whose offset follows the defaults.
    """
    cfg = SonicEventsCfg()
    if (m := events.physics_material) is not None:
        cfg.physics_material = EventTermCfg(
            func=mdp.randomize_rigid_body_material,  # pyright: ignore[reportArgumentType] (a term class)
            mode="startup",
            params={
                "asset_cfg": SceneEntityCfg(robot_name, body_names=".*"),
                "static_friction_range": m.static_friction_range,
                "dynamic_friction_range": m.dynamic_friction_range,
                "restitution_range": m.restitution_range,
                "num_buckets": m.num_buckets,
            },
        )
    if (d := events.add_joint_default_pos) is not None:
        cfg.add_joint_default_pos = EventTermCfg(
            func=add_joint_default_pos,  # pyright: ignore[reportArgumentType] (a term class)
            mode="startup",
            params={
                "asset_cfg": SceneEntityCfg(robot_name, joint_names=".*"),
                "offset_range": d.offset_range,
                "action_name": action_name,
            },
        )
    if (c := events.base_com) is not None:
        cfg.base_com = EventTermCfg(
            func=mdp.randomize_rigid_body_com,  # pyright: ignore[reportArgumentType] (a term class)
            mode="startup",
            params={
                "asset_cfg": SceneEntityCfg(robot_name, body_names=list(c.body_names)),
                "com_range": {"x": c.x, "y": c.y, "z": c.z},
            },
        )
    if (s := events.randomize_rigid_body_mass) is not None:
        cfg.randomize_rigid_body_mass = EventTermCfg(
            func=mdp.randomize_rigid_body_mass,  # pyright: ignore[reportArgumentType] (a term class)
            mode="startup",
            params={
                "asset_cfg": SceneEntityCfg(robot_name, body_names=list(s.body_names)),
                "mass_distribution_params": s.scale_range,
                "operation": "scale",
                "distribution": "uniform",
                "recompute_inertia": True,
            },
        )
    if (p := events.push_robot) is not None:
        cfg.push_robot = EventTermCfg(
            func=mdp.push_by_setting_velocity,
            mode="interval",
            interval_range_s=p.interval_range_s,
            params={"asset_cfg": SceneEntityCfg(robot_name), "velocity_range": p.velocity_range()},
        )
    return cfg
