"""Isaac Lab manager-based env configuration of the SONIC G1 env, built from an :class:`EnvConfig`.

One function per manager group, composed by :func:`build_env_cfg`: the scene (G1 with SONIC's
actuators, the ground -- the local USD plane or SONIC's generated terrain, :mod:`sonic_env.terrain` --, a
contact sensor on all 30 bodies with history 3 and air time), Newton physics with the MuJoCo-Warp solver
(dt 0.005 s, decimation 4; Newton's collision pipeline for the trimesh terrain), SONIC's joint-position
action in the contract's joint order, the motion command (:mod:`sonic_env.mdp.commands`, which also
puts each robot on its reference at reset), the observation groups built from the contract
(:mod:`sonic_env.observation_builder`), and SONIC's event, termination and reward groups
(:mod:`sonic_env.mdp.events`, :mod:`~sonic_env.mdp.terminations`, :mod:`~sonic_env.mdp.rewards`, from
``config.events`` / ``config.terminations`` / ``config.rewards``).

The same config runs on ``cpu`` (a few envs: tests, demos) and ``cuda:<i>`` (thousands).
"""

from __future__ import annotations

from dataclasses import MISSING

import isaaclab.sim as sim_utils
from isaaclab.assets import ArticulationCfg, AssetBaseCfg
from isaaclab.envs import ManagerBasedRLEnv, ManagerBasedRLEnvCfg
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import ContactSensorCfg
from isaaclab.sim import SimulationCfg
from isaaclab.sim.spawners.materials import RigidBodyMaterialBaseCfg
from isaaclab.terrains import TerrainImporterCfg
from isaaclab.utils import configclass
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg

from sonic_env.actions import ClippedJointPositionActionCfg, sonic_action_cfg
from sonic_env.assets import ground_plane_usd_path
from sonic_env.config import EnvConfig
from sonic_env.hfield_contacts import NewtonSampledHeightfieldManager
from sonic_env.mdp.commands import MotionCommandCfg
from sonic_env.mdp.events import SonicEventsCfg, event_terms_cfg
from sonic_env.mdp.observations import COMMAND_NAME
from sonic_env.mdp.rewards import SonicRewardsCfg, reward_terms_cfg
from sonic_env.mdp.terminations import SonicTerminationsCfg, termination_terms_cfg
from sonic_env.observation_builder import check_observation_dims, command_parts, observation_groups
from sonic_env.render.scene import configure_rendering
from sonic_env.rl_env import SonicRLEnv
from sonic_env.robot import check_robot_names, g1_articulation_cfg
from sonic_env.terrain import (
    collision_pipeline_cfg,
    resolve_collision,
    solver_buffers,
    sonic_terrain_generator_cfg,
    terrain_importer_cfg,
    terrain_shape_cfg,
)
from sonic_model import ObservationContract
from sonic_model.presets import preset

CONTACT_HISTORY = 3
"""Contact-sensor history length (SONIC_REFERENCE §8)."""

GROUND_MATERIAL = RigidBodyMaterialBaseCfg(static_friction=1.0, dynamic_friction=1.0, restitution=0.0)
"""SONIC's ground friction 1.0/1.0 (SONIC_REFERENCE §7), also the default material of the robot's shapes.

SONIC's "multiply" combine mode is a PhysX setting; with both sides at 1.0 any combine rule gives 1.0.
"""


def ground_cfg(config: EnvConfig) -> AssetBaseCfg | TerrainImporterCfg:
    """The ground for ``config.config.terrain_type``: the USD plane, or SONIC's generated terrain (seeded by
    ``config.seed``, env origins on its tiles; :mod:`sonic_env.terrain`)."""
    terrain = config.config.terrain_type
    if terrain != "plane":
        generator = sonic_terrain_generator_cfg(heightfield=terrain == "hfield", seed=config.seed or 0)
        return terrain_importer_cfg(generator, GROUND_MATERIAL)
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
    """Newton physics with the MuJoCo-Warp solver; contacts from MuJoCo or Newton's pipeline (``sim.collision``)."""
    sim = config.sim
    collision = resolve_collision(config.config.terrain_type, sim.collision)
    pipeline, sampled = collision != "mujoco", collision == "sampled"
    njmax, nconmax = solver_buffers(config.config.terrain_type, sim.njmax, sim.nconmax)
    solver = MJWarpSolverCfg(
        njmax=njmax,
        nconmax=nconmax,
        integrator=sim.integrator,
        iterations=sim.iterations,
        ls_iterations=sim.ls_iterations,
        use_mujoco_contacts=not pipeline,
    )
    if sampled:  # Isaac Lab's manager, building the sampled collision (its name must start with "Newton")
        solver.class_type = NewtonSampledHeightfieldManager
    return SimulationCfg(
        dt=sim.dt,
        device=config.device,
        render_interval=sim.decimation,
        physics_material=GROUND_MATERIAL,
        physics=NewtonCfg(
            solver_cfg=solver,
            collision_cfg=collision_pipeline_cfg(config.num_envs, nconmax, sampled) if pipeline else None,
            use_cuda_graph=sim.use_cuda_graph,
            default_shape_cfg=terrain_shape_cfg(config.config.terrain_type, sim.contact_gap),
        ),
    )


@configclass
class SonicSceneCfg(InteractiveSceneCfg):
    """Robot, ground and contact sensor; one robot per environment."""

    robot: ArticulationCfg = MISSING  # pyright: ignore[reportAssignmentType]
    ground: AssetBaseCfg | TerrainImporterCfg = MISSING  # pyright: ignore[reportAssignmentType]
    contact_forces: ContactSensorCfg = contact_sensor_cfg()


@configclass
class ActionsCfg:
    """SONIC's joint-position action on all 29 joints, in the contract's joint order."""

    joint_pos: ClippedJointPositionActionCfg = sonic_action_cfg()


@configclass
class CommandsCfg:
    """The motion command (registered as ``"motion"``)."""

    motion: MotionCommandCfg = MISSING  # pyright: ignore[reportAssignmentType]


@configclass
class SonicEnvCfg(ManagerBasedRLEnvCfg):
    """The SONIC G1 env; build it with :func:`build_env_cfg` rather than by hand."""

    scene: SonicSceneCfg = SonicSceneCfg(num_envs=1, env_spacing=2.0)
    actions: ActionsCfg = ActionsCfg()
    commands: CommandsCfg = MISSING  # pyright: ignore[reportAssignmentType]
    observations: dict = MISSING  # pyright: ignore[reportAssignmentType]
    events: SonicEventsCfg = SonicEventsCfg()
    terminations: SonicTerminationsCfg = SonicTerminationsCfg()
    rewards: SonicRewardsCfg = SonicRewardsCfg()


def contract_of(config: EnvConfig) -> ObservationContract:
    """The observation contract of ``config.contract`` (a sonic_model preset)."""
    return preset(config.contract).contract


def scene_cfg(config: EnvConfig) -> SonicSceneCfg:
    """Robot, ground and contact sensor (updated every physics step)."""
    scene = SonicSceneCfg(num_envs=config.num_envs, env_spacing=config.config.env_spacing)
    scene.ground = ground_cfg(config)
    scene.robot = g1_articulation_cfg(hand_mass=config.config.robot.hand_mass)
    scene.contact_forces = contact_sensor_cfg()
    scene.contact_forces.update_period = config.sim.dt
    return scene


def actions_cfg(config: EnvConfig, contract: ObservationContract) -> ActionsCfg:
    """The joint-position action in the contract's action joint order."""
    actions = ActionsCfg()
    actions.joint_pos = sonic_action_cfg(contract.action_joint_names, raw_clip=config.actions.clip)
    return actions


def commands_cfg(config: EnvConfig, contract: ObservationContract) -> CommandsCfg:
    """The motion command, told which encoders, human modalities and VR points the contract reads."""
    return CommandsCfg(
        motion=MotionCommandCfg(
            motion=config.commands.motion.model_dump(mode="json"),
            mode=config.mode,
            replay=config.replay,
            seed=config.seed or 0,
            **command_parts(contract),
        )
    )


def observations_cfg(config: EnvConfig, contract: ObservationContract) -> dict:
    """``{"tokenizer", "policy", "critic"}`` groups built from the contract (noise: ``observation_noise``)."""
    return observation_groups(contract, config.commands.motion, config.observation_noise)


def events_cfg(config: EnvConfig) -> SonicEventsCfg:
    """Domain randomisation of ``config.events``; in eval mode without the train-only push, as SONIC.

    The robot's reset state is the motion command's job, not an event's.
    """
    events = config.events
    if events is None:
        return SonicEventsCfg()
    if config.mode == "eval" and events.push_robot is not None:
        events = events.model_copy(update={"push_robot": None})
    return event_terms_cfg(events, action_name="joint_pos")


def terminations_cfg(config: EnvConfig) -> SonicTerminationsCfg:
    """The termination preset ``config.terminations`` (no max-episode-length term, as SONIC); None: none."""
    if config.terminations is None:
        return SonicTerminationsCfg()
    return termination_terms_cfg(config.terminations, command_name=COMMAND_NAME)


def rewards_cfg(config: EnvConfig) -> SonicRewardsCfg:
    """SONIC's reward block ``config.rewards``."""
    return reward_terms_cfg(config.rewards, action_clip=config.actions.clip, command_name=COMMAND_NAME)


def build_env_cfg(config: EnvConfig) -> SonicEnvCfg:
    """Translate the pydantic ``config`` into Isaac Lab's configclasses (generates USD on first use).

    Raises:
        ContractEnvError: if the contract asks for an observation this env cannot produce (names the term).
    """
    contract = contract_of(config)
    env_cfg = SonicEnvCfg(
        scene=scene_cfg(config),
        actions=actions_cfg(config, contract),
        commands=commands_cfg(config, contract),
        observations=observations_cfg(config, contract),
        events=events_cfg(config),
        terminations=terminations_cfg(config),
        rewards=rewards_cfg(config),
        sim=sim_cfg(config),
        decimation=config.sim.decimation,
        episode_length_s=config.episode_length_s,
        seed=config.seed,
    )
    configure_rendering(env_cfg, config)  # videos / live viewer: meshed robot, reference ghost, camera
    return env_cfg


def make_env(config: EnvConfig, env_cfg: SonicEnvCfg | None = None) -> ManagerBasedRLEnv:
    """Build the Isaac Lab env and check its robot's joint/body orders and observation widths.

    Args:
        config: the env configuration.
        env_cfg: a configuration from :func:`build_env_cfg` to use instead (e.g. with extra terms).

    Only one env (one simulation context) can exist per process; close it before building another.
    The env is a :class:`~sonic_env.rl_env.SonicRLEnv` (Isaac Lab's, with the motion command's resets
    queued before the step's host sync), with that overlap off under ``config.overlap_resets=False``
    or a live viewer (its UI may reset envs on its own); the step's manager math is replayed as CUDA
    graphs under ``config.cuda_graphs`` (CUDA only; not with replay, which writes robots every step),
    the done envs reset inside them unless ``config.masked_reset`` is False.
    """
    cfg = env_cfg if env_cfg is not None else build_env_cfg(config)
    overlap = config.overlap_resets and config.viewer is None
    env = SonicRLEnv(
        cfg,
        overlap_resets=overlap,
        cuda_graphs=config.cuda_graphs and overlap and not config.replay,
        masked_reset=config.masked_reset,
        compile_terms=config.compile_terms,
    )
    robot = env.scene["robot"]
    try:
        check_robot_names(robot.data.joint_names, robot.data.body_names)
        check_observation_dims(env.observation_manager, contract_of(config))
    except (RuntimeError, ValueError):
        env.close()
        raise
    return env


__all__ = ["COMMAND_NAME", "SonicEnvCfg", "build_env_cfg", "contract_of", "make_env"]
