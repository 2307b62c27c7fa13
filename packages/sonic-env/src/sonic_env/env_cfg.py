"""Isaac Lab manager-based env configuration of the SONIC G1 env, built from an :class:`EnvConfig`.

What exists so far (issue 9, simulator foundation): the scene (G1 with SONIC's actuators, the local
USD ground plane, a contact sensor on all 30 bodies with history 3 and air time), Newton physics
with the MuJoCo-Warp solver (dt 0.005 s, decimation 4), SONIC's joint-position action in the policy
joint order, a reset to the default pose, and a time-out. The observation group ``policy`` is a
minimal proprioception (joint positions relative to default and joint velocities, both in SONIC's
Isaac Lab order) until the contract-built observation terms replace it; there are no rewards yet.

The same config runs on ``cpu`` (a few envs: tests, demos) and ``cuda:<i>`` (thousands).
"""

from __future__ import annotations

from dataclasses import MISSING

import isaaclab.envs.mdp as mdp
import isaaclab.sim as sim_utils
from isaaclab.assets import ArticulationCfg, AssetBaseCfg
from isaaclab.envs import ManagerBasedRLEnv, ManagerBasedRLEnvCfg
from isaaclab.managers import EventTermCfg as EventTerm
from isaaclab.managers import ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm
from isaaclab.managers import SceneEntityCfg
from isaaclab.managers import TerminationTermCfg as DoneTerm
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import ContactSensorCfg
from isaaclab.sim import SimulationCfg
from isaaclab.sim.spawners.materials import RigidBodyMaterialBaseCfg
from isaaclab.utils import configclass
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg

from sonic_data import g1
from sonic_env.actions import ClippedJointPositionActionCfg, sonic_action_cfg
from sonic_env.assets import ground_plane_usd_path
from sonic_env.config import TERRAIN_ISSUE, EnvConfig
from sonic_env.robot import check_robot_names, g1_articulation_cfg

CONTACT_HISTORY = 3
"""Contact-sensor history length (SONIC_REFERENCE §8)."""

GROUND_MATERIAL = RigidBodyMaterialBaseCfg(static_friction=1.0, dynamic_friction=1.0, restitution=0.0)
"""SONIC's ground friction 1.0/1.0 (SONIC_REFERENCE §7), also the default material of the robot's shapes.

SONIC's "multiply" combine mode is a PhysX setting; with both sides at 1.0 any combine rule gives 1.0.
"""


def ground_cfg(config: EnvConfig) -> AssetBaseCfg:
    """The ground for ``config.config.terrain_type``.

    Raises:
        NotImplementedError: for ``'trimesh'`` (SONIC's rough terrain, issue 14).
    """
    terrain = config.config.terrain_type
    if terrain == "trimesh":
        raise NotImplementedError(
            f"terrain_type='trimesh' (SONIC's rough terrain) is not implemented yet: see issue {TERRAIN_ISSUE}. "
            "Use manager_env.config.terrain_type=plane."
        )
    return AssetBaseCfg(
        prim_path="/World/ground",
        spawn=sim_utils.GroundPlaneCfg(
            usd_path=str(ground_plane_usd_path()), physics_material=GROUND_MATERIAL
        ),
    )


def contact_sensor_cfg() -> ContactSensorCfg:
    """Contact forces on every robot body, with history and air time (feet rewards, terminations)."""
    return ContactSensorCfg(
        prim_path="{ENV_REGEX_NS}/Robot/.*", history_length=CONTACT_HISTORY, track_air_time=True
    )


def sim_cfg(config: EnvConfig) -> SimulationCfg:
    """Newton physics with the MuJoCo-Warp solver and MuJoCo's own contacts (flat ground)."""
    sim = config.sim
    return SimulationCfg(
        dt=sim.dt,
        device=config.device,
        render_interval=sim.decimation,
        physics_material=GROUND_MATERIAL,
        physics=NewtonCfg(
            solver_cfg=MJWarpSolverCfg(njmax=sim.njmax, nconmax=sim.nconmax, integrator=sim.integrator),
            use_cuda_graph=sim.use_cuda_graph,
        ),
    )


@configclass
class SonicSceneCfg(InteractiveSceneCfg):
    """Robot, ground and contact sensor; one robot per environment."""

    robot: ArticulationCfg = MISSING  # pyright: ignore[reportAssignmentType]
    ground: AssetBaseCfg = MISSING  # pyright: ignore[reportAssignmentType]
    contact_forces: ContactSensorCfg = contact_sensor_cfg()


@configclass
class ActionsCfg:
    """SONIC's joint-position action on all 29 joints, in SONIC's Isaac Lab joint order."""

    joint_pos: ClippedJointPositionActionCfg = sonic_action_cfg()


_POLICY_JOINTS = SceneEntityCfg("robot", joint_names=list(g1.ISAACLAB_JOINT_NAMES), preserve_order=True)


@configclass
class ObservationsCfg:
    """Minimal proprioception until the contract-built terms arrive (issue 9, later part)."""

    @configclass
    class PolicyCfg(ObsGroup):
        """Joint positions relative to default and joint velocities, SONIC's Isaac Lab order."""

        joint_pos = ObsTerm(func=mdp.joint_pos_rel, params={"asset_cfg": _POLICY_JOINTS})
        joint_vel = ObsTerm(func=mdp.joint_vel_rel, params={"asset_cfg": _POLICY_JOINTS})

    policy: PolicyCfg = PolicyCfg()


@configclass
class EventsCfg:
    """Reset every robot to SONIC's default pose (reference-state initialisation comes with the motion command)."""

    reset_to_default = EventTerm(func=mdp.reset_scene_to_default, mode="reset")


@configclass
class TerminationsCfg:
    """Time-out only (SONIC's tracking terminations come in part 2)."""

    time_out = DoneTerm(func=mdp.time_out, time_out=True)


@configclass
class RewardsCfg:
    """No reward terms yet (part 2)."""


@configclass
class SonicEnvCfg(ManagerBasedRLEnvCfg):
    """The SONIC G1 env; build it with :func:`build_env_cfg` rather than by hand."""

    scene: SonicSceneCfg = SonicSceneCfg(num_envs=1, env_spacing=2.0)
    actions: ActionsCfg = ActionsCfg()
    observations: ObservationsCfg = ObservationsCfg()
    events: EventsCfg = EventsCfg()
    terminations: TerminationsCfg = TerminationsCfg()
    rewards: RewardsCfg = RewardsCfg()


def build_env_cfg(config: EnvConfig) -> SonicEnvCfg:
    """Translate the pydantic ``config`` into Isaac Lab's configclasses (generates USD on first use).

    Raises:
        NotImplementedError: for terrain types not implemented yet.
    """
    scene = SonicSceneCfg(num_envs=config.num_envs, env_spacing=config.config.env_spacing)
    scene.ground = ground_cfg(config)
    scene.robot = g1_articulation_cfg(hand_mass=config.config.robot.hand_mass)
    scene.contact_forces = contact_sensor_cfg()
    scene.contact_forces.update_period = config.sim.dt
    actions = ActionsCfg()
    actions.joint_pos = sonic_action_cfg(raw_clip=config.actions.clip)
    return SonicEnvCfg(
        scene=scene,
        actions=actions,
        sim=sim_cfg(config),
        decimation=config.sim.decimation,
        episode_length_s=config.episode_length_s,
        seed=config.seed,
    )


def make_env(config: EnvConfig) -> ManagerBasedRLEnv:
    """Build the Isaac Lab env for ``config`` and check its robot's joint and body orders.

    Only one env (one simulation context) can exist per process; close it before building another.
    """
    env = ManagerBasedRLEnv(build_env_cfg(config))
    robot = env.scene["robot"]
    try:
        check_robot_names(robot.data.joint_names, robot.data.body_names)
    except RuntimeError:
        env.close()
        raise
    return env
