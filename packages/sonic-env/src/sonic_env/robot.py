"""The Isaac Lab articulation of the G1 with SONIC's actuators (SONIC_REFERENCE §8).

Every number comes from ``sonic_data.g1``: one implicit-PD actuator group per motor type, with
that motor's stiffness, damping, armature, effort and velocity limit; the initial pose is SONIC's
default pose (pelvis at 0.76 m). Self-collisions are on and the soft joint-limit factor is 0.9, as
SONIC trains. The USD is generated from the vendored MJCF (:mod:`sonic_env.assets`), so the
simulator's joints and bodies come out in the canonical MJCF order; :func:`check_robot_names`
verifies that on the built articulation.

Isaac Lab 3.0 names the solver limits ``joint_effort_limit`` / ``joint_velocity_limit`` (SONIC's
Isaac Lab 2.x code sets the same values as ``effort_limit_sim`` / ``velocity_limit_sim``).
"""

from __future__ import annotations

from collections.abc import Sequence

import isaaclab.sim as sim_utils
from isaaclab.actuators import ImplicitActuatorCfg
from isaaclab.assets import ArticulationCfg
from isaaclab_newton.sim.schemas import NewtonArticulationCfg
from isaaclab_physx.sim.schemas import PhysxArticulationCfg

from sonic_data import g1
from sonic_env.assets import g1_usd_path

SOFT_JOINT_POS_LIMIT_FACTOR = 0.9
"""SONIC's soft joint-limit factor (SONIC_REFERENCE §8)."""

DEX3_HAND_MASS = 0.526
"""Mass (kg) of one Dex3 hand that SONIC's training URDF carries at each wrist_yaw link (FORMATS.md)."""


def actuator_cfgs() -> dict[str, ImplicitActuatorCfg]:
    """One implicit-PD actuator group per motor type, joints listed by exact name in canonical order.

    Returns:
        ``{motor_name: ImplicitActuatorCfg}``, e.g. ``"7520_22"`` drives hip_pitch, hip_roll and knee.
    """
    groups: dict[str, list[str]] = {}
    for name in g1.JOINT_NAMES:
        groups.setdefault(g1.motor_of(name).name, []).append(name)
    cfgs: dict[str, ImplicitActuatorCfg] = {}
    for motor_name, joints in groups.items():
        motor = g1.MOTORS[motor_name]
        cfgs[motor_name] = ImplicitActuatorCfg(
            joint_names_expr=joints,
            stiffness=motor.kp,
            damping=motor.kd,
            armature=motor.armature,
            joint_effort_limit=motor.effort_limit,
            joint_velocity_limit=motor.velocity_limit,
        )
    return cfgs


def g1_articulation_cfg(hand_mass: float = 0.0, prim_path: str = "{ENV_REGEX_NS}/Robot") -> ArticulationCfg:
    """The G1 articulation: USD from the MJCF, SONIC's actuators, default pose, self-collisions on.

    Args:
        hand_mass: kg added at each wrist_yaw link (0 = the hand-less MJCF; SONIC trains with
            :data:`DEX3_HAND_MASS`). It changes the generated USD, hence the robot's default masses.
        prim_path: where each environment's robot lives in the stage.
    """
    return ArticulationCfg(
        prim_path=prim_path,
        spawn=sim_utils.UsdFileCfg(
            usd_path=str(g1_usd_path(hand_mass)),
            activate_contact_sensors=True,
            articulation_props=[
                PhysxArticulationCfg(
                    enabled_self_collisions=True,
                    solver_position_iteration_count=8,
                    solver_velocity_iteration_count=4,
                ),
                NewtonArticulationCfg(self_collision_enabled=True),
            ],
        ),
        init_state=ArticulationCfg.InitialStateCfg(
            pos=(0.0, 0.0, g1.DEFAULT_ROOT_HEIGHT),
            joint_pos=dict(zip(g1.JOINT_NAMES, g1.DEFAULT_JOINT_POS, strict=True)),
            joint_vel={".*": 0.0},
        ),
        soft_joint_pos_limit_factor=SOFT_JOINT_POS_LIMIT_FACTOR,
        actuators=dict(actuator_cfgs()),
    )


def check_robot_names(joint_names: Sequence[str], body_names: Sequence[str]) -> None:
    """Raise unless the simulator's joint and body orders equal the canonical G1 orders.

    The whole library indexes joints canonically inside the env; a USD or importer change that
    reorders them must fail loudly, not silently scramble actions.

    Raises:
        RuntimeError: naming the first differing position of joints or bodies.
    """
    for label, got, want in (
        ("joint", list(joint_names), list(g1.JOINT_NAMES)),
        ("body", list(body_names), list(g1.BODY_NAMES)),
    ):
        if got != want:
            first = next(
                (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
                min(len(got), len(want)),
            )
            raise RuntimeError(
                f"simulator {label} order differs from sonic_data.g1 at index {first}: "
                f"got {got[first : first + 3]}... ({len(got)} names), expected {want[first : first + 3]}... ({len(want)} names)"
            )
